// Package azuresim is a stateful simulator of the slice of Azure Resource
// Manager that cutover talks to: Azure Site Recovery (Microsoft.RecoveryServices
// vaults with the InMageRcm provider, api-version 2025-01-01), Azure Migrate
// discovery (Microsoft.OffAzure VMware sites, api-version 2023-06-06) and the
// Azure VMs failovers create (Microsoft.Compute virtual machines, api-version
// 2025-04-01: read, instance view, list, powerOff, deallocate, start).
//
// It owns the simulated world (seeded inventory, protected items walking the
// InMageRcm lifecycle, replication jobs, async operations), the wire contract
// (paths, api-versions, ARM error bodies, 202 + Azure-AsyncOperation/Location/
// Retry-After for long-running operations, nextLink paging, bearer-token and
// api-version checks) and the knobs tests need: job time scale, write
// throttling, per-operation/per-VM fault injection, a request log and a JSON
// state file that lets separate processes share one world.
//
// It must not be a mock of the client: the real SDK and azcore pipeline talk
// to it over TLS exactly as they would to Azure, and nothing in here knows
// about package azure. It never logs tokens: the request log keeps method,
// path, query-less URL and status only.
package azuresim
