package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"cutover/planner"
	"cutover/providers/azure"
	"cutover/schema"
)

// TargetBefore is the before-image of an ASR step.
type TargetBefore struct {
	// Item is the protected item's name, which the inverse addresses.
	Item              string `json:"item"`
	ProtectionState   string `json:"protectionState,omitempty"`
	TestFailoverState string `json:"testFailoverState,omitempty"`
	// Settings are the previous target settings an update changes, by
	// runbook attribute (target.size, ...). Attributes fed by sensitive
	// inputs are left out: their values must not be journaled.
	Settings map[string]string `json:"settings,omitempty"`
}

// targetState is one fresh read of a VM's ASR side.
type targetState struct {
	client  *azure.Client
	static  *azureStatic
	machine azure.Machine
	// item is nil when the machine is not protected.
	item *azure.ProtectedItem
}

// scenarioOf maps the step kinds to the ASR job scenario that performs
// them, to recognise an operation already running after a crash.
var scenarioOf = map[planner.StepKind]string{
	planner.StepEnableReplication:  "EnableDr",
	planner.StepUpdateReplication:  "UpdateVmProperties",
	planner.StepTestFailover:       "TestFailover",
	planner.StepTestCleanup:        "TestFailoverCleanup",
	planner.StepUnplannedFailover:  "UnplannedFailover",
	planner.StepFailoverCancel:     "CancelFailover",
	planner.StepFailoverCommit:     "Commit",
	planner.StepCompleteMigration:  "DisableDr",
	planner.StepDisableReplication: "DisableDr",
}

var operationOf = map[planner.StepKind]azure.Operation{
	planner.StepEnableReplication:  azure.OpEnable,
	planner.StepUpdateReplication:  azure.OpUpdate,
	planner.StepTestFailover:       azure.OpTestFailover,
	planner.StepTestCleanup:        azure.OpTestFailoverCleanup,
	planner.StepUnplannedFailover:  azure.OpUnplannedFailover,
	planner.StepFailoverCancel:     azure.OpFailoverCancel,
	planner.StepFailoverCommit:     azure.OpFailoverCommit,
	planner.StepCompleteMigration:  azure.OpDisable,
	planner.StepDisableReplication: azure.OpDisable,
}

// readTarget finds the VM's discovered machine (cached) and reads its
// protected item fresh.
func (r *Runner) readTarget(ctx context.Context, vm *schema.VM) (*targetState, error) {
	return r.readTargetWith(ctx, vm, (*azureStatic).itemFor)
}

// readTargetForEnable is readTarget before an enable: the machine's item
// comes from the run's listing when that shows none (itemBeforeEnable).
func (r *Runner) readTargetForEnable(ctx context.Context, vm *schema.VM) (*targetState, error) {
	return r.readTargetWith(ctx, vm, (*azureStatic).itemBeforeEnable)
}

func (r *Runner) readTargetWith(ctx context.Context, vm *schema.VM, item func(*azureStatic, context.Context, azure.Machine, string) (*azure.ProtectedItem, error)) (*targetState, error) {
	st, err := r.azure(ctx, vm.Target.Azure)
	if err != nil {
		return nil, err
	}
	src, err := r.sourceIdentity(ctx, vm)
	if err != nil {
		return nil, err
	}
	m, err := st.machineFor(ctx, src.Name, src.InstanceUUID)
	if err != nil {
		return nil, err
	}
	t := &targetState{client: st.client, static: st, machine: m}
	t.item, err = item(st, ctx, m, r.targetName(vm, src.Name))
	return t, err
}

func (r *Runner) targetName(vm *schema.VM, sourceName string) string {
	if vm.Target.Name != "" {
		return vm.Target.Name
	}
	return sourceName
}

func (r *Runner) startTarget(ctx context.Context, step planner.Step, vm *schema.VM) (Started, error) {
	if step.Kind == planner.StepDeallocateAzureVM {
		return r.startAzureVM(ctx, step, vm)
	}
	read := r.readTarget
	if step.Kind == planner.StepEnableReplication {
		read = r.readTargetForEnable
	}
	t, err := read(ctx, vm)
	if err != nil {
		return Started{}, err
	}
	before := TargetBefore{Item: t.machine.Name}
	if t.item != nil {
		before = TargetBefore{Item: t.item.Name, ProtectionState: t.item.ProtectionState, TestFailoverState: t.item.TestFailoverState}
	}
	if step.Kind == planner.StepUpdateReplication {
		before.Settings = r.previousSettings(step, vm, t)
	}
	started := func(h *Handle) (Started, error) {
		var out Started
		var err error
		if out.Before, err = json.Marshal(before); err != nil {
			return out, err
		}
		if h != nil {
			out.Handle, err = json.Marshal(h)
		}
		return out, err
	}
	if step.Kind == planner.StepWaitProtected {
		if t.item == nil {
			return Started{}, &GateError{Gate: step.Gate, Reason: "the machine is not protected: enable replication first"}
		}
		return started(&Handle{Item: t.item.Name})
	}
	done, err := r.doneFrom(step, vm, t)
	if err != nil {
		return Started{}, err
	}
	if done {
		return started(nil)
	}
	if h, err := r.running(ctx, step, t); err != nil || h != nil {
		if err != nil {
			return Started{}, err
		}
		return started(&Handle{Azure: h})
	}
	if err := r.gateTarget(ctx, step, vm, t); err != nil {
		return Started{}, err
	}
	h, err := r.sendTarget(ctx, step, vm, t)
	if err != nil {
		return Started{}, err
	}
	return started(&Handle{Azure: &h})
}

// sendTarget sends the one request of an ASR step.
func (r *Runner) sendTarget(ctx context.Context, step planner.Step, vm *schema.VM, t *targetState) (azure.Handle, error) {
	c, it := t.client, t.item
	switch step.Kind {
	case planner.StepEnableReplication:
		in, err := r.enableInput(ctx, vm, t)
		if err != nil {
			return azure.Handle{}, err
		}
		t.static.enableSent(t.machine)
		return c.EnableReplication(ctx, in)
	case planner.StepUpdateReplication:
		in, err := r.updateInput(step, vm, t)
		if err != nil {
			return azure.Handle{}, err
		}
		return c.UpdateReplication(ctx, it, in)
	case planner.StepTestFailover:
		want := r.desired(vm, t.static, t.machine.DisplayName)
		network := want.TestNetworkID
		if network == "" {
			// Never the production network: the test VM would boot beside
			// the running source (the planner refuses this too).
			return azure.Handle{}, fmt.Errorf("%s names no target test_network; a test failover into the production network is refused", vm.Address)
		}
		return c.TestFailover(ctx, it, azure.TestFailoverInput{NetworkID: network})
	case planner.StepTestCleanup:
		return c.TestFailoverCleanup(ctx, it, r.comment)
	case planner.StepUnplannedFailover:
		in := azure.UnplannedFailoverInput{PerformShutdown: strings.EqualFold(step.Inputs["perform_shutdown"], "true")}
		if step.Inputs["recovery_point"] == planner.RecoveryPointAfterShutdown {
			// The gate saw this point newer than the shutdown: fail over
			// to exactly it, not to whatever is latest when ASR acts.
			in.RecoveryPointID = it.LastRecoveryPointID
		}
		return c.UnplannedFailover(ctx, it, in)
	case planner.StepFailoverCancel:
		return c.FailoverCancel(ctx, it)
	case planner.StepFailoverCommit:
		return c.FailoverCommit(ctx, it)
	case planner.StepCompleteMigration:
		return c.DisableReplication(ctx, it, azure.DisableOptions{MigrationComplete: true})
	case planner.StepDisableReplication:
		return c.DisableReplication(ctx, it, azure.DisableOptions{})
	}
	return azure.Handle{}, fmt.Errorf("no ASR operation for step kind %q", step.Kind)
}

// running returns a handle on the step's own operation when ASR is
// already running it: the request of an earlier attempt got through
// before a crash, and sending it again would be refused or, worse, doubled.
func (r *Runner) running(ctx context.Context, step planner.Step, t *targetState) (*azure.Handle, error) {
	it := t.item
	if it == nil || it.CurrentScenario == "" || !strings.EqualFold(it.CurrentScenario, scenarioOf[step.Kind]) {
		return nil, nil
	}
	if it.CurrentJobID != "" {
		j, err := t.client.Job(ctx, it.CurrentJobID)
		if err != nil {
			return nil, err
		}
		if j.Terminal() {
			return nil, nil
		}
	}
	tg := t.static.target
	return &azure.Handle{Operation: operationOf[step.Kind], VM: it.VM, Item: it.Name, Fabric: tg.FabricName, Container: tg.ContainerName,
		JobID: it.CurrentJobID, StartedAt: it.ScenarioStart}, nil
}

func gateName(step planner.Step) string {
	if step.Gate != "" {
		return step.Gate
	}
	if g := step.Kind.Gate(); g != "" {
		return "allowedOperations contains " + g
	}
	return ""
}

// gateTarget returns nil when the step may start now, else a GateError
// saying why; the error is Final when the gate can never open: the
// operation is not in allowedOperations and no job runs on the item that
// could change that.
func (r *Runner) gateTarget(ctx context.Context, step planner.Step, vm *schema.VM, t *targetState) error {
	closed := func(final bool, format string, args ...any) error {
		return &GateError{Gate: gateName(step), Reason: fmt.Sprintf(format, args...), Final: final}
	}
	it := t.item
	if step.Kind == planner.StepEnableReplication {
		if it != nil {
			return closed(false, "machine %s is already protected by item %s (%s)", t.machine.DisplayName, it.Name, it.ProtectionState)
		}
		return nil
	}
	if it == nil {
		return closed(false, "machine %s has no protected item", t.machine.DisplayName)
	}
	if step.Kind == planner.StepWaitProtected {
		return nil // the step is the wait itself
	}
	job, err := r.runningJob(ctx, t)
	if err != nil {
		return err
	}
	if job != "" {
		return closed(false, "%s is running on the item", job)
	}
	phase, why := azure.Classify(it)
	// Nothing runs: a state that is still moving on its own (initial
	// replication) may yet open the gate; anything else will not.
	final := phase != azure.PhaseReplicating && phase != azure.PhaseBusy
	if step.Kind == planner.StepUpdateReplication {
		if phase != azure.PhaseReplicating && phase != azure.PhaseProtected {
			if why == "" {
				why = "settings change only while replicating or protected with no test failover open"
			}
			return closed(final, "protection state is %s (%s): %s", it.ProtectionState, phase, why)
		}
		if len(it.Target.NICs) == 0 && touchesNICs(step) {
			// ASR fills vmNics once it has read the machine after enable;
			// Terraform waits for them too.
			return closed(false, "the item reports no NICs yet (vmNics is empty until ASR has read the machine)")
		}
		return nil
	}
	if g := step.Kind.Gate(); g != "" && !it.Allows(g) {
		state := it.ProtectionState
		if it.TestFailoverState != "" && !strings.EqualFold(it.TestFailoverState, "None") {
			state += ", test failover " + it.TestFailoverState
		}
		allowed := strings.Join(it.AllowedOperations, ", ")
		if allowed == "" {
			allowed = "none"
		}
		reason := fmt.Sprintf("allowedOperations lacks %s in protection state %s (allowed: %s)", g, state, allowed)
		if final {
			reason += "; no ASR job is running that could change that"
		}
		return closed(final, "%s", reason)
	}
	if step.Kind == planner.StepTestFailover {
		if ok, why := it.Healthy(); !ok {
			return closed(false, "replication is not healthy: %s", why)
		}
	}
	if step.Kind != planner.StepUnplannedFailover {
		return nil
	}
	if vm.Replication.MaxRPO != "" {
		max, err := time.ParseDuration(vm.Replication.MaxRPO)
		if err != nil {
			return closed(true, "max_rpo is not a duration")
		}
		shown := vm.Replication.MaxRPO
		if vm.Sensitive.Has("replication.max_rpo") {
			shown = "(sensitive)"
		}
		if it.LastRPOSeconds == nil {
			return closed(false, "ASR reports no RPO yet; max_rpo is %s", shown)
		}
		if rpo := time.Duration(*it.LastRPOSeconds) * time.Second; rpo > max {
			return closed(false, "RPO %s exceeds max_rpo %s", rpo, shown)
		}
	}
	if ok, why := it.Healthy(); !ok {
		return closed(false, "replication is not healthy: %s", why)
	}
	if step.Inputs["recovery_point"] == planner.RecoveryPointAfterShutdown {
		cutoff := r.shutdownCutoff(step.VM)
		if !it.LastRecoveryPointTime.After(cutoff) {
			last := "none"
			if !it.LastRecoveryPointTime.IsZero() {
				last = it.LastRecoveryPointTime.UTC().Format(time.RFC3339)
			}
			return closed(false, "waiting for a recovery point newer than the source shutdown (%s); the latest is %s",
				cutoff.UTC().Format(time.RFC3339), last)
		}
	}
	return nil
}

// shutdownCutoff is the time after which a recovery point holds the
// source's last writes: when this run first checked the failover's gate.
// The failover depends on the shutdown step, so that is after the source
// stopped; a resumed run takes a later time and at worst waits for one
// more point. Azure's clock and ours may differ by seconds, which only
// makes the wait longer when ours is ahead.
func (r *Runner) shutdownCutoff(vm string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cutoffs == nil {
		r.cutoffs = map[string]time.Time{}
	}
	c, ok := r.cutoffs[vm]
	if !ok {
		c = time.Now()
		r.cutoffs[vm] = c
	}
	return c
}

// runningJob names the ASR job running on the item, or "" when none runs.
// currentScenario alone does not say: a test failover's job stays the
// item's scenario, suspended, until the cleanup (see azure.JobRunning).
func (r *Runner) runningJob(ctx context.Context, t *targetState) (string, error) {
	it := t.item
	if it.CurrentScenario == "" {
		return "", nil
	}
	if it.CurrentJobID == "" {
		ph, _ := azure.Classify(it)
		if ph == azure.PhaseBusy {
			return "ASR job " + it.CurrentScenario, nil
		}
		return "", nil
	}
	j, err := t.client.Job(ctx, it.CurrentJobID)
	if err != nil {
		var ae *azure.Error
		if errors.As(err, &ae) && ae.Kind == azure.KindNotFound {
			return "", nil
		}
		return "", err
	}
	if azure.JobRunning(j.State) {
		return fmt.Sprintf("ASR job %s (%s)", it.CurrentScenario, j.State), nil
	}
	return "", nil
}

// touchesNICs reports whether an update sets per-NIC fields (or the
// primary NIC's subnets).
func touchesNICs(step planner.Step) bool {
	for _, c := range step.Changes {
		attr := strings.TrimPrefix(c.Attribute, "target.")
		if _, _, ok := planner.ParseNICAttribute(attr); ok || attr == "subnet" || attr == "test_subnet" {
			return true
		}
	}
	return false
}

func (r *Runner) doneTarget(ctx context.Context, step planner.Step, vm *schema.VM) (bool, error) {
	if step.Kind == planner.StepDeallocateAzureVM {
		return r.doneAzureVM(ctx, step, vm)
	}
	t, err := r.readTarget(ctx, vm)
	if err != nil {
		return false, err
	}
	return r.doneFrom(step, vm, t)
}

// doneFrom decides from one read whether the step's effect is there.
func (r *Runner) doneFrom(step planner.Step, vm *schema.VM, t *targetState) (bool, error) {
	it := t.item
	phase := azure.PhaseUnknown
	if it != nil {
		phase, _ = azure.Classify(it)
	}
	switch step.Kind {
	case planner.StepEnableReplication:
		return it != nil, nil
	case planner.StepWaitProtected:
		return it != nil && it.Replicated(), nil
	case planner.StepUpdateReplication:
		if it == nil {
			return false, nil
		}
		want := r.wantedSettings(step, vm, t)
		have := haveSettings(step, t)
		for _, c := range step.Changes {
			attr := strings.TrimPrefix(c.Attribute, "target.")
			w, ok := want[attr]
			if !ok {
				return false, fmt.Errorf("update of %s is not supported", c.Attribute)
			}
			if !planner.SameSetting(attr, w, have[attr]) {
				return false, nil
			}
		}
		return true, nil
	case planner.StepTestFailover:
		// Waiting for cleanup, or already cleaned up (the planner plans a
		// test failover only for an item never tested).
		return phase == azure.PhaseTestFailoverPending || tested(it), nil
	case planner.StepTestCleanup:
		return tested(it), nil
	case planner.StepUnplannedFailover:
		return phase == azure.PhaseFailedOver || phase == azure.PhaseCommitted, nil
	case planner.StepFailoverCancel:
		return phase == azure.PhaseProtected, nil
	case planner.StepFailoverCommit:
		return phase == azure.PhaseCommitted, nil
	case planner.StepCompleteMigration, planner.StepDisableReplication:
		return it == nil, nil
	}
	return false, fmt.Errorf("no ASR operation for step kind %q", step.Kind)
}

func tested(it *azure.ProtectedItem) bool { return it != nil && it.Tested() }

func (r *Runner) waitAzure(ctx context.Context, step planner.Step, vm *schema.VM, h azure.Handle, progress func(Progress)) error {
	st, err := r.azure(ctx, vm.Target.Azure)
	if err != nil {
		return err
	}
	if step.Kind == planner.StepTestCleanup {
		// The cleanup is confirmed on the item the operation left.
		it, err := st.client.Wait(ctx, h, azureProgress(progress))
		if err == nil {
			err = r.confirmCleanup(ctx, vm, it)
		}
		return err
	}
	// Through the vault's shared job poller: one list read per interval
	// serves every running step of the vault.
	return st.client.WaitJob(ctx, h, azureProgress(progress))
}

func (r *Runner) waitProtected(ctx context.Context, step planner.Step, vm *schema.VM, item string, progress func(Progress)) error {
	st, err := r.azure(ctx, vm.Target.Azure)
	if err != nil {
		return err
	}
	if item == "" {
		t, err := r.readTarget(ctx, vm)
		if err != nil {
			return err
		}
		if t.item == nil {
			return &GateError{Gate: step.Gate, Reason: "the machine is not protected: enable replication first"}
		}
		item = t.item.Name
	}
	_, err = st.client.WaitUntil(ctx, item, azureProgress(progress), "initial replication", (*azure.ProtectedItem).Replicated)
	return err
}

func azureProgress(progress func(Progress)) azure.ProgressFunc {
	return func(p azure.Progress) {
		pct := -1
		if p.Percent != nil {
			pct = *p.Percent
		}
		progress(Progress{Percent: pct, Message: p.Status})
	}
}

// settingsOf names an item's target settings by runbook attribute, as
// the planner's drift detection does.
func settingsOf(it *azure.ProtectedItem) map[string]string { return planner.ItemSettings(it.Target) }
