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
// a middle record could make a resumed apply repeat a failover. The file
// backend writes appends that arrive together (parallel steps) with one
// write and one fsync, so that they share the cost of durability; each
// still returns only once its own record is on disk.
//
// The executor journals each step through these kinds (see Kind); a step
// may be retried, which starts a new attempt from StepPending:
//
//	stateDiagram-v2
//	    [*] --> step_pending
//	    step_pending --> before_image: step changes something rollback must restore
//	    before_image --> step_started
//	    step_pending --> step_started: remote call issued, handle saved
//	    step_started --> step_succeeded
//	    step_started --> step_failed
//	    step_started --> step_unknown: outcome lost (crash, timeout)
//	    step_unknown --> step_succeeded: live state says done
//	    step_unknown --> step_failed: live state says not done
//	    step_failed --> step_pending: retry, attempt+1
//	    step_succeeded --> [*]
//
// (A mermaid diagram; run_started and run_finished bracket each run.)
//
// The package must not decide what a record means for the plan (that is the
// executor's job), talk to vCenter or Azure, print, or read the wall clock
// except through the injected clock. Records must never carry credentials:
// callers journal handles and identifiers, and Append refuses records that
// look like they contain secrets.
package journal
