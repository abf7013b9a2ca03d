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
// Item lifecycle. After each operation an item has the protectionState,
// testFailoverState, currentScenario and allowedOperations of the SDK's
// example body for that operation (armrecoveryservicessiterecovery/v2
// v2.4.0 replicationprotecteditems_client_example_test.go; the test
// TestItemMatchesSDKExamples compares them), with InMageRcm's lists where
// the generic examples come from other providers: no PlannedFailover
// (_UpdateAppliance.json, the InMageRcm example, has none) and, after an
// unplanned failover, SwitchProtection and no CancelFailover, as a
// recording of a real InMageRcm item shows. A test failover's job stays
// Suspended ("WaitingForStopTestFailover", ReplicationJobs_Resume.json)
// and the item's currentScenario until the cleanup; after the cleanup
// testFailoverState stays MarkedForDeletion. States while a job runs are
// GUESSes (no source shows them) and allow nothing. Replicating items get a
// recovery point every 10 s at TimeScale 1 (a GUESS for speed; the policy
// says 5 minutes), none while unhealthy.
//
// Seed.AllowCancelFailover (or Sim.SetAllowCancelFailover, which also
// rewrites the state file) puts CancelFailover in allowedOperations after
// an unplanned failover: a vault to rehearse a failover cancel on, which a
// real InMageRcm item does not offer. Options.OnSourceShutdown is called
// when a failover asks ASR to shut the source down (performShutdown
// "true"), so a world that also simulates vCenter can power the VM off. The
// request log's Fields keep a failover's performShutdown and
// recoveryPointId, so tests can check what was asked.
//
// It must not be a mock of the client: the real SDK and azcore pipeline talk
// to it over TLS exactly as they would to Azure, and nothing in here knows
// about package azure. It never logs tokens: the request log keeps method,
// path, query-less URL, status and the failover choices above only.
package azuresim
