package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"cutover/planner"
	"cutover/providers/azure"
	"cutover/providers/vcenter"
	"cutover/schema"
)

// Inverse kinds the planner names (as the Inverse of snapshot and
// clone_rehearsal) without a StepKind constant of their own. Their steps
// carry the created object's name in Inputs["name"] (SourceBefore's
// SnapshotName or CloneName); without it the runbook's name is used.
var (
	KindRemoveSnapshot = planner.StepSnapshot.Inverse()
	KindDestroyClone   = planner.StepCloneRehearsal.Inverse()
)

// providerOf says which side a kind acts on, inverse-only kinds included.
func providerOf(k planner.StepKind) string {
	switch k {
	case KindRemoveSnapshot, KindDestroyClone:
		return "vcenter"
	}
	return k.Provider()
}

// Env holds the live connections, keyed by runbook block name, and the
// runbook they serve.
type Env struct {
	Runbook  *schema.Runbook
	VCenters map[string]*vcenter.Client
	Azures   map[string]*azure.Client
	// Refresh, when set, is the bulk read the plan was just checked
	// against. Its vCenter discoveries, resolved vaults, discovered
	// machines and protected-item listings seed the Runner's caches, so
	// the first steps send no bulk reads of their own. Gates and done
	// checks still read each VM and item fresh.
	Refresh *planner.Snapshot
}

// Started is what Start hands back for the executor to journal before it
// waits.
type Started struct {
	// Handle is the serializable operation handle (a Handle envelope); nil
	// when the step sent no request, because its effect was already there.
	Handle json.RawMessage `json:"handle,omitempty"`
	// Before is the before-image the step's inverse needs (SourceBefore for
	// vCenter steps, TargetBefore for ASR steps); nil when it needs none.
	Before json.RawMessage `json:"before,omitempty"`
}

// Progress is one observation of a running step.
type Progress struct {
	// Percent is -1 when the service reports no percentage.
	Percent int
	Message string
}

// Option adjusts a Runner.
type Option func(*Runner)

// WithShutdownTimeout bounds how long a guest shutdown may take before the
// VM is powered off hard (default 5 minutes).
func WithShutdownTimeout(d time.Duration) Option {
	return func(r *Runner) { r.shutdownTimeout = d }
}

// WithComment sets the comment ASR records on a test failover cleanup.
func WithComment(s string) Option {
	return func(r *Runner) { r.comment = s }
}

// Runner performs steps against the connections of one Env. It is safe for
// concurrent use by the executor's parallel walk.
type Runner struct {
	env             Env
	vms             map[string]*schema.VM
	shutdownTimeout time.Duration
	comment         string

	mu         sync.Mutex
	discoverMu sync.Mutex
	vcInv      map[string]*vcenter.Inventory // discovery cache per vCenter
	azStatic   map[string]*azureStatic       // resolved vault facts per vault
	inflight   map[string]*inflight          // vCenter operations started here, by step ID
	cutoffs    map[string]time.Time          // per VM: recovery points must be newer (see shutdownCutoff)
}

// NewRunner checks that every vCenter and vault the runbook's VMs use has
// a connection. It sends no request: lookups happen on first use and are
// cached.
func NewRunner(env Env, opts ...Option) (*Runner, error) {
	if env.Runbook == nil {
		return nil, fmt.Errorf("action: no runbook")
	}
	r := &Runner{
		env: env, vms: map[string]*schema.VM{},
		shutdownTimeout: 5 * time.Minute, comment: "cutover",
		vcInv: map[string]*vcenter.Inventory{}, azStatic: map[string]*azureStatic{},
		inflight: map[string]*inflight{},
	}
	for _, o := range opts {
		o(r)
	}
	if env.Refresh != nil {
		r.warm(env.Refresh)
	}
	for _, vm := range env.Runbook.VMs {
		r.vms[vm.Address] = vm
		if _, ok := env.VCenters[vm.Source.VCenter]; !ok {
			return nil, fmt.Errorf("action: %s: no connection for vcenter %q", vm.Address, vm.Source.VCenter)
		}
		if _, ok := env.Azures[vm.Target.Azure]; !ok {
			return nil, fmt.Errorf("action: %s: no connection for azure %q", vm.Address, vm.Target.Azure)
		}
	}
	return r, nil
}

// warm seeds the caches from a refresh, for the connections this Runner
// has.
func (r *Runner) warm(snap *planner.Snapshot) {
	for name, inv := range snap.VCenters {
		if inv != nil && r.env.VCenters[name] != nil {
			r.vcInv[name] = inv
		}
	}
	for name, inv := range snap.Azures {
		c := r.env.Azures[name]
		if inv == nil || c == nil {
			continue
		}
		tg := inv.Target
		r.azStatic[name] = &azureStatic{client: c, subscription: subscriptionOf(c.Config()),
			target: &tg, machines: inv.Machines, items: inv.Items, listed: true}
	}
}

// Close stops following vCenter operations started by this Runner and not
// yet waited for. The operations themselves go on in vCenter; a new Runner
// re-attaches to them by handle.
func (r *Runner) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, f := range r.inflight {
		f.cancel()
		delete(r.inflight, id)
	}
}

// Handle is the envelope every handle is journaled in. Exactly one field
// is set.
type Handle struct {
	// VCenter is a started vCenter task.
	VCenter *vcenter.Handle `json:"vcenter,omitempty"`
	// Azure is a started ASR operation (resume token and job ID).
	Azure *azure.Handle `json:"azure,omitempty"`
	// Shutdown is a guest shutdown, which vSphere runs without a task: Wait
	// polls the power state until the deadline, then powers off hard.
	Shutdown *ShutdownHandle `json:"shutdown,omitempty"`
	// Item is the protected item wait_protected polls.
	Item string `json:"item,omitempty"`
	// AzureVM is a started Microsoft.Compute operation on the Azure VM a
	// failover created.
	AzureVM *azure.VMHandle `json:"azureVM,omitempty"`
}

// ShutdownHandle is what a guest shutdown is followed by.
type ShutdownHandle struct {
	VM       vcenter.VMRef `json:"vm"`
	Deadline time.Time     `json:"deadline"`
	// Fallback powers the VM off hard at the deadline.
	Fallback bool `json:"fallback"`
}

// Start reads fresh live state, checks the step's gate and sends the
// step's one non-idempotent request, returning as soon as the request is
// accepted. A step whose effect is already there, or whose operation is
// already running in the service (a crash after the request), is not sent
// again: the result then carries no handle or the running operation's.
func (r *Runner) Start(ctx context.Context, step planner.Step) (Started, error) {
	vm, err := r.vm(step)
	if err != nil {
		return Started{}, err
	}
	var st Started
	switch providerOf(step.Kind) {
	case "vcenter":
		st, err = r.startSource(ctx, step, vm)
	case "azure":
		st, err = r.startTarget(ctx, step, vm)
	default:
		err = fmt.Errorf("unknown step kind %q", step.Kind)
	}
	return st, wrap(step, err)
}

// Wait attaches to the operation behind handle and waits for it to end.
// It works in the process that started the operation and in a new one. A
// nil handle means Start sent nothing, and Wait returns at once (except for
// wait_protected, which needs no handle).
func (r *Runner) Wait(ctx context.Context, step planner.Step, handle json.RawMessage, progress func(Progress)) error {
	vm, err := r.vm(step)
	if err != nil {
		return err
	}
	var h Handle
	if len(handle) > 0 && string(handle) != "null" {
		if err := json.Unmarshal(handle, &h); err != nil {
			return wrap(step, fmt.Errorf("reading handle: %w", err))
		}
		if h == (Handle{}) {
			// Waiting on nothing would report success for an operation
			// nobody followed.
			return wrap(step, fmt.Errorf("handle %.80s is not one this package wrote", handle))
		}
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	switch {
	case h.VCenter != nil || h.Shutdown != nil:
		err = r.waitSource(ctx, step, vm, h, progress)
	case h.Azure != nil:
		err = r.waitAzure(ctx, step, vm, *h.Azure, progress)
	case h.AzureVM != nil:
		err = r.waitAzureVM(ctx, step, vm, *h.AzureVM, progress)
	case step.Kind == planner.StepWaitProtected:
		err = r.waitProtected(ctx, step, vm, h.Item, progress)
	default:
		err = r.waitLocal(ctx, step, progress)
	}
	return wrap(step, err)
}

// Done reads live state and reports whether the step's effect is already
// there. It never sends a mutating request.
func (r *Runner) Done(ctx context.Context, step planner.Step) (bool, error) {
	vm, err := r.vm(step)
	if err != nil {
		return false, err
	}
	var ok bool
	switch providerOf(step.Kind) {
	case "vcenter":
		ok, err = r.doneSource(ctx, step, vm)
	case "azure":
		ok, err = r.doneTarget(ctx, step, vm)
	default:
		err = fmt.Errorf("unknown step kind %q", step.Kind)
	}
	return ok, wrap(step, err)
}

// Gate reports whether the step's live gate holds now, with the reason
// when it does not. It is read-only. A closed gate is not an error; err is
// for state that could not be read.
func (r *Runner) Gate(ctx context.Context, step planner.Step) (bool, string, error) {
	vm, err := r.vm(step)
	if err != nil {
		return false, "", err
	}
	var reason string
	switch providerOf(step.Kind) {
	case "vcenter":
		reason, err = r.gateSource(ctx, step, vm)
		if err == nil && reason == "" && step.Kind == planner.StepPowerOn {
			reason, err = gateReason(r.copiesOff(ctx, step, vm))
		}
	case "azure":
		if step.Kind == planner.StepDeallocateAzureVM {
			break // open: deallocating what is absent is done
		}
		var t *targetState
		t, err = r.readTarget(ctx, vm)
		if err == nil {
			var ge *GateError
			if err = r.gateTarget(ctx, step, vm, t); errors.As(err, &ge) && !ge.Final {
				reason, err = ge.Reason, nil
			}
		}
	default:
		err = fmt.Errorf("unknown step kind %q", step.Kind)
	}
	if err != nil {
		return false, "", wrap(step, err)
	}
	return reason == "", reason, nil
}

// gateReason turns a gate check's error into Gate's answer: a closed gate
// is a reason, anything else (a running Azure VM, an unreadable one) an
// error that fails the step.
func gateReason(err error) (string, error) {
	var ge *GateError
	if errors.As(err, &ge) {
		return ge.Reason, nil
	}
	return "", err
}

func (r *Runner) vm(step planner.Step) (*schema.VM, error) {
	vm, ok := r.vms[step.VM]
	if !ok {
		return nil, &Error{VM: step.VM, Step: step.Kind, Err: fmt.Errorf("the runbook has no vm %q", step.VM)}
	}
	return vm, nil
}
