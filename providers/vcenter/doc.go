// Package vcenter is cutover's source-side provider: it talks to vCenter over
// the vSphere SOAP API through govmomi.
//
// It owns: connecting (from a Config, with govc's GOVC_* environment as the
// fallback), keeping the session alive and logging in again once when
// vCenter says NotAuthenticated; bulk discovery of VMs and placement objects
// in a fixed, small number of property-collector round trips; matching
// runbook references (name, inventory path, moref, instance UUID) to live
// objects; and the operations a cutover performs on the source side
// (relocate, clone with customization, customize guest, make FT primary,
// shutdown/power, snapshots, destroy), each started with a serializable
// Handle, waited on with progress callbacks, retried on transient faults and
// returning the before-image its inverse needs.
//
// It must not: import the runbook schema (the CLI maps runbook blocks onto
// Config), print or log secrets, print at all (progress goes through
// callbacks, diagnostics through an optional slog.Logger), or classify faults
// by message text: faults are matched by their vim25 types.
package vcenter
