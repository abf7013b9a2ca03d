// Package executor applies a saved plan: it takes the state lock, replays
// the journal, and walks the plan's DAG, running each step as soon as its
// dependencies succeeded, its live gate holds and, for disruptive steps,
// its maintenance window is open with time enough left.
//
// Every step transition is journaled before the next remote call: pending,
// then the before-image and started with the operation handle, then
// succeeded or failed. A resumed run skips what succeeded, re-attaches to
// what was in flight through the journaled handle, and lets live state
// decide a step whose request may or may not have gone out; it never sends
// a non-idempotent request twice.
//
// Stopping has two stages. The first interrupt (Config.Stop) starts nothing
// new and lets each running step reach a safe point: a request under way
// is finished and journaled, an operation already sent is left running in
// its service for the next run to re-attach, a local wait ends. The second
// (Run's context) abandons requests under way too; a request whose answer
// was lost is decided from live state by the next run. Steps stopped either
// way are reported as interrupted (EventStepInterrupted, Result.Interrupted),
// never as failed.
//
// Parallelism bounds the steps whose request is being sent or whose
// service job is being followed; a step that waits for what the service
// does on its own (initial replication), for a window, for a gate or
// between retries holds no worker.
//
// The executor sequences, gates and journals; executor/action performs the
// steps on the providers, and executor/journal persists. It never prints:
// it reports through Reporter (and Report, which carries what a provider
// tells an Actions call, such as a wait for the write budget, as an event
// of its step), and cmd renders.
package executor
