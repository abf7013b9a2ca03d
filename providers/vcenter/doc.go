// Package vcenter is cutover's source-side provider: it talks to vCenter over
// the vSphere SOAP API through govmomi.
//
// It owns: connecting (from a Config, with govc's GOVC_* environment as the
// fallback), keeping the session alive and logging in again once when
// vCenter says NotAuthenticated; bulk discovery of VMs and placement objects
// by listing one container view's members and reading their properties in
// batches that name them, a few batches in flight (or in two parts for
// apply's per-VM staleness check: Identify reads every VM's identity and
// the placement objects, ReadVMs the full records of chosen VMs); matching runbook
// references (name, inventory path, moref, instance UUID) to live objects;
// and the operations a cutover performs on the source side (host and pool
// moves with MigrateVM_Task, with RelocateVM_Task where storage or folder
// move or MigrateVM_Task is refused; clone with customization, kept off the
// source's networks (Isolation) and named escaped (EscapeName); customize
// guest; make FT primary; shutdown/power; snapshots; destroy).
//
// How callers use it:
//
//	c, err := vcenter.Connect(ctx, cfg)          // cfg mapped from the runbook
//	inv, err := c.Discover(ctx)                  // one snapshot of the world
//	vm, err := inv.MatchVM(vcenter.Selector{Path: "prod/app01"})
//	host, err := inv.Resolve(vcenter.KindHost, vcenter.Selector{Name: "esx07"})
//	undo, err := c.Relocate(ctx, vm.Ref(), vcenter.Placement{Host: host.MoRef}, vcenter.Watch{
//		Before:   journalBeforeImage, // called before anything changes
//		Started:  journalHandle,      // the task's Handle, before waiting
//		Progress: report,
//	})
//	// after a restart: c.Wait(ctx, handle, report)
//	// rollback:        c.Undo(ctx, undo, watch)
//
// Every operation retries transient faults (TaskInProgress,
// HostCommunication, Timedout) with bounded backoff and returns permanent
// ones as *OpError naming the VM, the operation and the vSphere fault type.
//
// It must not: import the runbook schema (the CLI maps runbook blocks onto
// Config), print or log secrets, print at all (progress goes through Watch
// callbacks, diagnostics through an optional slog.Logger), or classify
// faults by message text: faults are matched by their vim25 types.
package vcenter
