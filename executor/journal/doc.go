// Package journal is the executor's persistence layer: an append-only
// checkpoint journal of step transitions and before-images, and the state
// lock that keeps two applies off the same runbook state.
//
// It owns the Record format, the Store interface every backend implements,
// the errors those backends return, and the local file backend (FileStore),
// which keeps "<state>.journal" and "<state>.lock" under ".cutover/" next to
// the runbook. Package journaltest holds the conformance suite every backend
// must pass, so a shared backend (Azure Blob with lease locking) can be added
// without changing the executor.
//
// A record is durable when Append returns: the executor appends "started"
// with the operation handle before it waits on a remote operation, so a run
// killed mid-wait re-attaches by handle instead of issuing the operation
// again. Replay tolerates a torn last record (the write a crash interrupted)
// and refuses a damaged record anywhere before it, because silently skipping
// a middle record could make a resumed apply repeat a failover.
//
// The package must not decide what a record means for the plan (that is the
// executor's job), talk to vCenter or Azure, print, or read the wall clock
// except through the injected clock. Records must never carry credentials:
// callers journal handles and identifiers, and Append refuses records that
// look like they contain secrets.
package journal
