package action_test

import (
	"strings"
	"testing"

	"cutover/planner"
	"cutover/providers/azure"
	"cutover/providers/azure/azuresim"
)

// failoverRequest is the n-th accepted unplanned failover POST in the
// vault's request log, which must hold n of them.
func failoverRequest(t *testing.T, sim *azuresim.Sim, n int) azuresim.Request {
	t.Helper()
	var found []azuresim.Request
	for _, q := range sim.Requests() {
		if q.Method == "POST" && strings.HasSuffix(q.Path, "/unplannedFailover") && q.Status == 202 {
			found = append(found, q)
		}
	}
	if len(found) != n {
		t.Fatalf("%d accepted failover requests, want %d", len(found), n)
	}
	return found[n-1]
}

// TestFailoverShutsDownThroughASRByDefault: with no source.shutdown, the
// plan has no vCenter shutdown and the failover body carries
// performShutdown "true" (read from the simulator's request log); ASR's
// shutdown reaches the simulated vCenter. db01 shuts down through vCenter
// and fails over to a recovery point newer than its shutdown: the gate
// waits for it, and the request names it.
func TestFailoverShutsDownThroughASRByDefault(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	f := openWorld(t, rb, 0.001)
	r, env := f.runner(t)
	ctx := ctxT(t)
	sim := f.w.Vaults["migrate"]
	p := f.plan(t, env)

	app := stepsOf(p, "vm.app01")
	if got, want := kinds(app), "enable_replication wait_protected test_failover test_failover_cleanup unplanned_failover"; got != want {
		t.Fatalf("app01 steps:\n got %s\nwant %s", got, want)
	}
	for _, s := range app {
		runToDone(t, ctx, r, s)
	}
	q := failoverRequest(t, sim, 1)
	if q.Fields["performShutdown"] != "true" || q.Fields["recoveryPointId"] != "" {
		t.Fatalf("app01's failover body: %v, want performShutdown true and the latest point", q.Fields)
	}
	if v, _ := sourceVM(t, f, "app01"); v.PowerState != "poweredOff" {
		t.Fatalf("ASR's shutdown did not stop app01: %s", v.PowerState)
	}

	db := stepsOf(p, "vm.db01")
	var uf planner.Step
	for _, s := range db {
		if s.Kind == planner.StepUnplannedFailover {
			uf = s
			break
		}
		runToDone(t, ctx, r, s)
	}
	if uf.Inputs["perform_shutdown"] != "false" || uf.Inputs["recovery_point"] != planner.RecoveryPointAfterShutdown {
		t.Fatalf("db01's failover inputs: %v", uf.Inputs)
	}
	ok, reason, err := r.Gate(ctx, uf)
	if err != nil || ok || !strings.Contains(reason, "waiting for a recovery point newer than the source shutdown") {
		t.Fatalf("db01's failover gate right after the shutdown: %v %q %v", ok, reason, err)
	}
	var item *azure.ProtectedItem
	for !ok && err == nil {
		ok, _, err = r.Gate(ctx, uf)
		if ctx.Err() != nil {
			t.Fatal("no newer recovery point before the test's deadline")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	inv, err := env.Azures["migrate"].ReadInventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range inv.Items {
		if inv.Items[i].VM == "db01-az" {
			item = &inv.Items[i]
		}
	}
	if item == nil {
		t.Fatal("no item for db01")
	}
	runToDone(t, ctx, r, uf)
	q = failoverRequest(t, sim, 2)
	if q.Fields["performShutdown"] != "false" || q.Fields["recoveryPointId"] == "" {
		t.Fatalf("db01's failover body: %v, want performShutdown false and a named recovery point", q.Fields)
	}
	// The point sent is the one the gate saw newer than the shutdown (or
	// a later one: points keep coming until the request).
	if sent, seen := rpNumber(t, q.Fields["recoveryPointId"]), rpNumber(t, item.LastRecoveryPointID); sent < seen {
		t.Fatalf("failed over to %s, older than %s which the gate accepted", q.Fields["recoveryPointId"], item.LastRecoveryPointID)
	}
}

// rpNumber reads the simulator's recovery point sequence number (rp-N).
func rpNumber(t *testing.T, id string) int {
	t.Helper()
	i := strings.LastIndex(id, "/rp-")
	if i < 0 {
		t.Fatalf("not a simulated recovery point: %q", id)
	}
	n := 0
	for _, c := range id[i+4:] {
		n = n*10 + int(c-'0')
	}
	return n
}
