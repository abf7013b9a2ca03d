package azure

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"cutover/providers/azure/azuresim"
)

// bigSeed has n discovered machines, every one of them protected.
func bigSeed(n int) azuresim.Seed {
	seed := azuresim.DefaultSeed(n)
	for _, m := range seed.Machines {
		seed.Items = append(seed.Items, azuresim.ProtectedItem{
			Name: m.Name, Machine: m.Name, TargetVMName: m.DisplayName + "-az",
			TargetResourceGroupID: "/subscriptions/x/resourceGroups/target",
			TargetNetworkID:       "/subscriptions/x/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/prod",
		})
	}
	return seed
}

func countRequests(reqs []azuresim.Request, method, suffix string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && strings.HasSuffix(strings.ToLower(r.Path), strings.ToLower(suffix)) && r.Status == http.StatusOK {
			n++
		}
	}
	return n
}

// TestBulkReadRequestsArePages proves the bulk reads cost one request per
// page, whatever the number of VMs.
func TestBulkReadRequestsArePages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		vms, pageSize, wantPages int
	}{
		{1000, 100, 10},
		{1000, 250, 4},
		{1000, 1000, 1},
		{7, 100, 1},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_vms_pages_of_%d", tc.vms, tc.pageSize), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, bigSeed(tc.vms), azuresim.Options{PageSize: tc.pageSize})
			c := w.client(t)
			ctx := ctx(t)
			if _, err := c.Resolve(ctx); err != nil {
				t.Fatal(err)
			}
			w.sim.ResetRequests()
			items, err := c.ListProtectedItems(ctx)
			if err != nil {
				t.Fatal(err)
			}
			machines, err := c.ListMachines(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tc.vms || len(machines) != tc.vms {
				t.Fatalf("read %d items and %d machines, want %d each", len(items), len(machines), tc.vms)
			}
			reqs := w.sim.Requests()
			if got := countRequests(reqs, "GET", "/replicationProtectedItems"); got != tc.wantPages {
				t.Errorf("protected item requests = %d, want %d pages", got, tc.wantPages)
			}
			if got := countRequests(reqs, "GET", "/machines"); got != tc.wantPages {
				t.Errorf("machine requests = %d, want %d pages", got, tc.wantPages)
			}
			if len(reqs) != 2*tc.wantPages {
				t.Errorf("total requests = %d, want %d", len(reqs), 2*tc.wantPages)
			}
			w.sim.ResetRequests()
			inv, err := c.ReadInventory(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(inv.Items) != tc.vms || len(inv.Machines) != tc.vms || len(w.sim.Requests()) != 2*tc.wantPages {
				t.Errorf("ReadInventory: %d items, %d machines, %d requests", len(inv.Items), len(inv.Machines), len(w.sim.Requests()))
			}
			seen := map[string]bool{}
			for _, it := range items {
				if seen[it.Name] {
					t.Fatalf("item %s read twice: paging repeated a page", it.Name)
				}
				seen[it.Name] = true
				if it.ETag == "" || it.MachineID == "" || it.ProtectionState != azuresim.StateProtected {
					t.Fatalf("item not fully converted: %+v", it)
				}
			}
		})
	}
}

// TestFingerprintTracksPlanFields: the ETag changes with a target setting
// or the state, not with time passing.
func TestFingerprintTracksPlanFields(t *testing.T) {
	t.Parallel()
	w := newWorld(t, bigSeed(2), azuresim.Options{})
	c := w.client(t)
	ctx := ctx(t)
	a, err := c.GetProtectedItem(ctx, "machine-0001")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.GetProtectedItem(ctx, "machine-0001")
	if err != nil {
		t.Fatal(err)
	}
	if a.ETag != b.ETag {
		t.Fatalf("fingerprint unstable across reads: %s vs %s", a.ETag, b.ETag)
	}
	size := "Standard_E4s_v5"
	h, err := c.UpdateReplication(ctx, a, UpdateInput{VMSize: &size})
	if err != nil {
		t.Fatal(err)
	}
	after, err := c.Wait(ctx, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.ETag == a.ETag {
		t.Fatal("fingerprint did not change with the VM size")
	}
}

func BenchmarkBulkRead1000(b *testing.B) {
	w := newWorld(b, bigSeed(1000), azuresim.Options{PageSize: 100})
	c := w.client(b)
	ctx := ctx(b)
	if _, err := c.Resolve(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		w.sim.ResetRequests()
		items, err := c.ListProtectedItems(ctx)
		if err != nil {
			b.Fatal(err)
		}
		machines, err := c.ListMachines(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(items) != 1000 || len(machines) != 1000 {
			b.Fatalf("%d items, %d machines", len(items), len(machines))
		}
	}
	b.ReportMetric(float64(len(w.sim.Requests())), "requests/op")
}

func BenchmarkReadInventory1000(b *testing.B) {
	w := newWorld(b, bigSeed(1000), azuresim.Options{PageSize: 100})
	c := w.client(b)
	ctx := ctx(b)
	if _, err := c.Resolve(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		w.sim.ResetRequests()
		inv, err := c.ReadInventory(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Items) != 1000 || len(inv.Machines) != 1000 {
			b.Fatalf("%d items, %d machines", len(inv.Items), len(inv.Machines))
		}
	}
	b.ReportMetric(float64(len(w.sim.Requests())), "requests/op")
}
