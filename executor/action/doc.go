// Package action binds each kind of plan step to the provider calls that
// perform it, so that the executor core can start, wait for, re-attach to
// and check a step without knowing vCenter or ASR.
//
// It owns, per step kind: reading fresh live state of the one VM or
// protected item the step touches; checking the step's live gate
// (allowedOperations, protection state, RPO) before anything is sent;
// building the provider input from the runbook (target IDs, policy, run-as
// account, disks, placement, clone customization); sending the step's one
// non-idempotent request and handing back a serializable handle and the
// before-image its inverse needs; waiting on that handle, in this process
// or in a new one after a crash; and telling whether a step's effect is
// already there, from live state alone.
//
// It must not: journal (the executor records what Start returns before it
// calls Wait), decide what runs next or when (windows, ordering and
// retries are the executor's), print or log, send a mutating request from
// Done or Gate, or put a secret (password, token, a value from a sensitive
// input) into a handle, a before-image or an error.
//
// Handles are JSON envelopes (see Handle) naming the vCenter task, the ASR
// operation (resume token and job ID) or, for steps that send no task, what
// Wait needs to poll for the outcome. Before-images are SourceBefore (a
// superset of vcenter.Undo) or TargetBefore.
//
// Besides the planner's step kinds, the Runner performs the two inverse
// kinds the planner names without constants, KindRemoveSnapshot and
// KindDestroyClone, so that an inverse plan built from the journal can be
// applied with the same Start, Wait and Done.
//
// Errors are *Error (VM address and step kind around the cause); the
// provider's *azure.Error or *vcenter.OpError stays reachable with
// errors.As. Transient, GateClosed and ErrOutcomeUnknown tell the executor
// whether to retry, wait for the gate, or ask Done.
package action
