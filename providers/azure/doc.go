// Package azure is cutover's adapter to Azure Site Recovery (the InMageRcm
// provider behind Azure Migrate agent-based migration) and to Azure Migrate
// discovery (Microsoft.OffAzure).
//
// It owns: connecting from a Config (cloud selection, custom endpoints with
// their CA, credentials through azidentity or a bearer token from the
// environment); resolving the vault's InMageRcm fabric, process server,
// VMware site, protection container, policies, discovered machines and run-as
// accounts; bulk, paged reads of protected items and discovered machines into
// provider-level structs; and the long-running ASR operations (enable, update,
// test failover and cleanup, unplanned failover, cancel, commit, disable),
// each gated on the item's allowedOperations before any request is sent and
// resumable from a serializable Handle; and the Azure VMs a failover or a
// test failover creates (Microsoft.Compute: read with the instance view's
// power state, list, power off, deallocate, start), resumable from a
// VMHandle.
// All mutating calls of the process (ASR and Compute) draw from one write
// budget per subscription (a token bucket in the pipeline, see budget.go)
// and report their waits through a context observer; running operations
// and waited-for items of a vault are followed by one shared poller each
// (watch.go), which reads an operation's job first when jobs of its kind
// have typically ended (learned from the jobs it saw end), one by one
// while few are followed and through the vault's job list when many are.
//
// It talks to ASR through the generated armrecoveryservicessiterecovery/v2
// SDK, to Microsoft.Compute through the generated armcompute/v7 SDK, and to
// OffAzure through a small typed azcore client (there is no Go SDK
// for it), always over the real HTTP pipeline.
//
// It must not: print (progress goes through callbacks), import the runbook
// schema, decide what to do next (that is the planner's job), purge
// replication unless explicitly told to, or let a secret (client secret,
// token) reach an error, a log line, a String() or anything serialized.
package azure
