package azure

import (
	"strings"
	"testing"

	"cutover/providers/azure/azuresim"
)

// TestWaitJobSharesOnePoller: thirty enables followed at once cost one
// paged list of the vault's jobs per round (three pages of ten), not a
// read per operation; no operation-status URL is polled; a job that fails
// after acceptance fails only its own wait, with the service's message.
func TestWaitJobSharesOnePoller(t *testing.T) {
	t.Parallel()
	const vms = 30
	w := newWorld(t, azuresim.DefaultSeed(vms), azuresim.Options{PageSize: 10})
	w.sim.InjectFault(azuresim.Fault{Operation: "create", VM: "vm-0007", Async: true, Code: "ProviderError", Message: "The appliance lost the machine."})
	c := w.client(t)
	ctx := ctx(t)
	machines, err := c.ListMachines(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := c.Policy(ctx, "24-hour-replication-policy")
	if err != nil {
		t.Fatal(err)
	}
	var handles []Handle
	for _, m := range machines {
		h, err := c.EnableReplication(ctx, EnableInput{Machine: m, PolicyID: pol.ID,
			Target:       TargetSettings{ResourceGroupID: "/subscriptions/x/resourceGroups/t"},
			DisksDefault: &DiskInput{Type: "Standard_LRS", LogStorageAccountID: "/subscriptions/x/resourceGroups/t/providers/Microsoft.Storage/storageAccounts/c"}})
		if err != nil {
			t.Fatal(err)
		}
		if h.JobID == "" {
			t.Fatalf("%s: the enable's handle names no job", m.DisplayName)
		}
		handles = append(handles, h)
	}
	w.sim.ResetRequests()
	errs := make(chan error, len(handles))
	for _, h := range handles {
		go func() { errs <- c.WaitJob(ctx, h, nil) }()
	}
	failed := 0
	for range handles {
		if err := <-errs; err != nil {
			failed++
			if !strings.Contains(err.Error(), "The appliance lost the machine.") || !strings.Contains(err.Error(), "vm-0007") {
				t.Errorf("failed job: %v", err)
			}
		}
	}
	if failed != 1 {
		t.Fatalf("%d waits failed, want the one injected", failed)
	}
	var jobReads, opReads int
	for _, r := range w.sim.Requests() {
		switch {
		case strings.Contains(r.Path, "/replicationJobs"):
			jobReads++
		case strings.Contains(r.Path, "/replicationOperation"):
			opReads++
		}
	}
	c.jobPoll.mu.Lock()
	rounds, lists, gets := c.jobPoll.rounds, c.jobPoll.lists, c.jobPoll.gets
	c.jobPoll.mu.Unlock()
	t.Logf("%d rounds, %d lists, %d single reads, %d job requests for %d operations", rounds, lists, gets, jobReads, vms)
	if opReads != 0 {
		t.Errorf("%d operation-status reads: operations were polled one by one", opReads)
	}
	// The list served the waits: far fewer job requests than one read per
	// operation. (How many single reads come first depends on how fast the
	// waiters arrive, so the count is bounded, not exact.)
	if lists == 0 {
		t.Errorf("the vault's job list was never read (%d single reads)", gets)
	}
	if jobReads >= vms {
		t.Errorf("%d job requests for %d operations: not shared", jobReads, vms)
	}
}

// TestWaitForStateSharesOnePoller: twenty-five steps waiting for their
// items' state are served by the container's item list (three pages of
// ten) each round, not by a read per item; an item that does not exist
// fails only its own wait, as not found.
func TestWaitForStateSharesOnePoller(t *testing.T) {
	t.Parallel()
	const vms = 25
	w := newWorld(t, bigSeed(vms), azuresim.Options{PageSize: 10})
	c := w.client(t)
	ctx := ctx(t)
	items, err := c.ListProtectedItems(ctx)
	if err != nil || len(items) != vms {
		t.Fatalf("%d items, %v", len(items), err)
	}
	w.sim.ResetRequests()
	errs := make(chan error, vms+1)
	for _, it := range items {
		go func() {
			_, err := c.WaitForState(ctx, it.Name, nil, "Protected")
			errs <- err
		}()
	}
	go func() {
		_, err := c.WaitForState(ctx, "machine-9999", nil, "Protected")
		errs <- err
	}()
	notFound := 0
	for range vms + 1 {
		if err := <-errs; err != nil {
			if KindOf(err) != KindNotFound {
				t.Fatalf("wait: %v", err)
			}
			notFound++
		}
	}
	if notFound != 1 {
		t.Fatalf("%d waits failed as not found, want 1", notFound)
	}
	c.itemPoll.mu.Lock()
	rounds, lists, gets := c.itemPoll.rounds, c.itemPoll.lists, c.itemPoll.gets
	c.itemPoll.mu.Unlock()
	reads := len(w.sim.Requests())
	t.Logf("%d rounds, %d lists, %d single reads, %d requests for %d waits", rounds, lists, gets, reads, vms+1)
	// The list served the waits: fewer requests than one read per wait.
	// (Single reads serve the first few waiters, before there are enough
	// to list, and how many arrive first depends on the scheduler.)
	if lists == 0 {
		t.Errorf("the container's item list was never read (%d single reads)", gets)
	}
	if reads >= vms+1 {
		t.Errorf("%d requests for %d waits: items were read one by one", reads, vms+1)
	}
}

// TestWaitJobFewReadOneByOne: a handful of operations followed at once
// (fewer than fewWaiters) are read one job at a time on each one's own
// schedule, never through the vault's job list, whose pages would be read
// on a shared clock and see each end up to a period late.
func TestWaitJobFewReadOneByOne(t *testing.T) {
	t.Parallel()
	const vms = 5
	w := newWorld(t, azuresim.DefaultSeed(vms), azuresim.Options{PageSize: 2})
	c := w.client(t)
	ctx := ctx(t)
	machines, err := c.ListMachines(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := c.Policy(ctx, "24-hour-replication-policy")
	if err != nil {
		t.Fatal(err)
	}
	w.sim.ResetRequests()
	errs := make(chan error, vms)
	for _, m := range machines {
		h, err := c.EnableReplication(ctx, EnableInput{Machine: m, PolicyID: pol.ID,
			Target:       TargetSettings{ResourceGroupID: "/subscriptions/x/resourceGroups/t"},
			DisksDefault: &DiskInput{Type: "Standard_LRS", LogStorageAccountID: "/subscriptions/x/resourceGroups/t/providers/Microsoft.Storage/storageAccounts/c"}})
		if err != nil {
			t.Fatal(err)
		}
		go func() { errs <- c.WaitJob(ctx, h, nil) }()
	}
	for range vms {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	lists, singles := 0, 0
	for _, r := range w.sim.Requests() {
		switch {
		case strings.HasSuffix(r.Path, "/replicationJobs"):
			lists++
		case strings.Contains(r.Path, "/replicationJobs/"):
			singles++
		}
	}
	if lists != 0 || singles < vms {
		t.Errorf("%d job list pages and %d single job reads for %d operations: want single reads only, at least one each", lists, singles, vms)
	}
}
