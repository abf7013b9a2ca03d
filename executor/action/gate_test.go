package action_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"cutover/executor"
	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/azure"
	"cutover/providers/azure/azuresim"
	"cutover/providers/vcenter"
)

// TestClosedGateSendsNothing: a step whose live gate does not hold is
// reported by Gate and refused by Start before any request.
func TestClosedGateSendsNothing(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	sim := f.w.Vaults["migrate"]

	refused := func(s planner.Step, want string) {
		t.Helper()
		ok, reason, err := r.Gate(ctx, s)
		if err != nil || ok || !strings.Contains(reason, want) {
			t.Fatalf("%s: gate ok=%v reason %q err %v; want closed with %q", s.ID, ok, reason, err, want)
		}
		before := writes(sim.Requests())
		st, err := r.Start(ctx, s)
		if err == nil || st.Handle != nil {
			t.Fatalf("%s: started through a closed gate: %s", s.ID, st.Handle)
		}
		if n := writes(sim.Requests()); n != before {
			t.Fatalf("%s: %d requests sent through a closed gate", s.ID, n-before)
		}
		if !action.GateClosed(err) || action.Transient(err) || !errors.Is(err, executor.ErrGateClosed) {
			t.Fatalf("%s: error not classified as a closed gate: %v", s.ID, err)
		}
		if msg := err.Error(); !strings.Contains(msg, s.VM) || !strings.Contains(msg, string(s.Kind)) || !strings.Contains(msg, want) {
			t.Fatalf("%s: error does not name the VM, the step and the reason: %v", s.ID, msg)
		}
	}
	// A gate that can never open (the operation is not allowed and no job
	// runs): Gate reports it as an error, Start refuses without sending,
	// and the error does not ask the executor to wait.
	never := func(s planner.Step, want string) {
		t.Helper()
		ok, _, err := r.Gate(ctx, s)
		if ok || err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "cannot open") {
			t.Fatalf("%s: gate ok=%v err %v; want a final refusal with %q", s.ID, ok, err, want)
		}
		before := writes(sim.Requests())
		st, err := r.Start(ctx, s)
		if err == nil || st.Handle != nil {
			t.Fatalf("%s: started through a closed gate: %s", s.ID, st.Handle)
		}
		if n := writes(sim.Requests()); n != before {
			t.Fatalf("%s: %d requests sent through a closed gate", s.ID, n-before)
		}
		if !action.GateClosed(err) || action.Transient(err) || errors.Is(err, executor.ErrGateClosed) {
			t.Fatalf("%s: a gate that cannot open must not be waited for: %v", s.ID, err)
		}
		if msg := err.Error(); !strings.Contains(msg, s.VM) || !strings.Contains(msg, string(s.Kind)) || !strings.Contains(msg, want) {
			t.Fatalf("%s: error does not name the VM, the step and the reason: %v", s.ID, msg)
		}
	}
	mk := func(k planner.StepKind) planner.Step {
		return planner.Step{ID: "vm.app01." + string(k), VM: "vm.app01", Kind: k, Gate: "allowedOperations contains " + k.Gate()}
	}

	refused(mk(planner.StepTestFailover), "no protected item")

	p := f.plan(t, env)
	for _, k := range []planner.StepKind{planner.StepEnableReplication, planner.StepWaitProtected} {
		s := step(t, p, "vm.app01", k)
		st, err := r.Start(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Wait(ctx, s, st.Handle, nil); err != nil {
			t.Fatal(err)
		}
	}
	never(mk(planner.StepTestCleanup), "TestFailoverCleanup")
	never(mk(planner.StepFailoverCommit), "Commit")
	never(mk(planner.StepCompleteMigration), "CompleteMigration")
	if state, _, _ := sim.ProtectionState("app01"); state != azuresim.StateProtected {
		t.Fatalf("refusals changed the item: %s", state)
	}

	// The RPO bound: open with a generous max_rpo, closed once the last
	// recovery point is older than a tight one.
	uf := mk(planner.StepUnplannedFailover)
	vm := vmOf(t, rb, "vm.app01")
	vm.Replication.MaxRPO = "1h"
	if ok, reason, err := r.Gate(ctx, uf); err != nil || !ok {
		t.Fatalf("failover gate with max_rpo 1h: %q %v", reason, err)
	}
	vm.Replication.MaxRPO = "500ms"
	// A source that stops sending data gets no new recovery points.
	if err := sim.MarkUnhealthy("app01", "The source stopped sending data."); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, reason, err := r.Gate(ctx, uf)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(reason, "max_rpo") || time.Now().After(deadline) {
			break
		}
	}
	refused(uf, "exceeds max_rpo 500ms")
	vm.Replication.MaxRPO = ""
	// Health: failovers are not sent while replication is Critical; the
	// reason carries the service's health error.
	refused(uf, "replication is not healthy: replicationHealth is Critical; 78186: The source stopped sending data.")
	if err := sim.MarkUnhealthy("app01", ""); err != nil {
		t.Fatal(err)
	}

	// vCenter side: app01 is not fault tolerant.
	ft := planner.Step{ID: "vm.app01.make_ft_primary", VM: "vm.app01", Kind: planner.StepMakeFTPrimary, Inputs: map[string]string{"primary": "DC0_C0_H1"}}
	if ok, reason, err := r.Gate(ctx, ft); err != nil || ok || !strings.Contains(reason, "fault-tolerant") {
		t.Fatalf("ft gate: %v %q %v", ok, reason, err)
	}
	if _, err := r.Start(ctx, ft); !action.GateClosed(err) {
		t.Fatalf("make_ft_primary on a VM without FT: %v", err)
	}

	// A refusal by the service itself keeps its type and message.
	sim.InjectFault(azuresim.Fault{Operation: "testFailover", VM: "app01", Status: 400, Code: "InvalidParameter", Message: "the test network is in another region", Times: 1})
	_, err := r.Start(ctx, step(t, p, "vm.app01", planner.StepTestFailover))
	var ae *azure.Error
	if !errors.As(err, &ae) || ae.Kind != azure.KindInvalidParameter || action.Transient(err) {
		t.Fatalf("service refusal: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "vm.app01") || !strings.Contains(msg, "test_failover") || !strings.Contains(msg, "another region") {
		t.Fatalf("error message: %s", msg)
	}
}

func TestTransient(t *testing.T) {
	t.Parallel()
	wrapped := func(err error) error {
		return fmt.Errorf("outer: %w", &action.Error{VM: "vm.a", Step: planner.StepSnapshot, Err: err})
	}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"throttled", &azure.Error{Kind: azure.KindThrottled}, true},
		{"server error", &azure.Error{Kind: azure.KindTransient}, true},
		{"not allowed", &azure.Error{Kind: azure.KindNotAllowed}, false},
		{"invalid", &azure.Error{Kind: azure.KindInvalidParameter}, false},
		{"vm busy", &vcenter.OpError{Op: vcenter.OpSnapshot, Fault: "TaskInProgress", Transient: true}, true},
		{"bad power state", &vcenter.OpError{Op: vcenter.OpPowerOn, Fault: "InvalidPowerState"}, false},
		{"gate", &action.GateError{Reason: "RPO too high"}, false},
		{"plain", errors.New("boom"), false},
	} {
		if got := action.Transient(wrapped(c.err)); got != c.want {
			t.Errorf("%s: Transient = %v, want %v", c.name, got, c.want)
		}
	}
	if action.Transient(nil) {
		t.Error("nil is transient")
	}
}

// TestRefusals needs no world: an unknown VM, a handle this package did not
// write and a runbook VM without a connection are errors, not silent
// successes.
func TestRefusals(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	ctx := ctxT(t)
	if _, err := action.NewRunner(action.Env{Runbook: rb, VCenters: map[string]*vcenter.Client{"dc1": nil}}); err == nil || !strings.Contains(err.Error(), `azure "migrate"`) {
		t.Fatalf("runner without a vault connection: %v", err)
	}
	r, err := action.NewRunner(action.Env{Runbook: rb,
		VCenters: map[string]*vcenter.Client{"dc1": nil}, Azures: map[string]*azure.Client{"migrate": nil}})
	if err != nil {
		t.Fatal(err)
	}
	snap := planner.Step{ID: "vm.db01.snapshot", VM: "vm.db01", Kind: planner.StepSnapshot}
	err = r.Wait(ctx, snap, []byte(`{"task":"task-1","op":"snapshot"}`), nil)
	if err == nil || !strings.Contains(err.Error(), "not one this package wrote") || !strings.Contains(err.Error(), "vm.db01: snapshot") {
		t.Fatalf("foreign handle: %v", err)
	}
	ghost := planner.Step{ID: "vm.ghost.snapshot", VM: "vm.ghost", Kind: planner.StepSnapshot}
	if _, err := r.Start(ctx, ghost); err == nil || !strings.Contains(err.Error(), "vm.ghost") {
		t.Fatalf("unknown VM: %v", err)
	}
	if _, err := r.Done(ctx, ghost); err == nil {
		t.Fatal("Done of an unknown VM succeeded")
	}
}
