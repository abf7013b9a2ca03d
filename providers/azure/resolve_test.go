package azure

import (
	"strings"
	"testing"

	"cutover/providers/azure/azuresim"
)

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		seed func(*azuresim.Seed)
		cfg  func(*Config)
		want []string
	}{
		{"unknown appliance", nil, func(c *Config) { c.Appliance = "appliance-99" }, []string{`"appliance-99"`, "appliance-01"}},
		{"two containers", func(s *azuresim.Seed) { s.Containers = append(s.Containers, "cloud_second") }, nil, []string{"2 protection containers", "cloud_second"}},
		{"no containers", func(s *azuresim.Seed) { s.Containers = nil }, nil, []string{"0 protection containers"}},
		{"unknown vault", nil, func(c *Config) { c.Vault = strings.Replace(c.Vault, "proj-MigrateVault-1", "other-vault", 1) }, []string{"other-vault", "was not found"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seed := azuresim.DefaultSeed(2)
			if tc.seed != nil {
				tc.seed(&seed)
			}
			w := newWorld(t, seed, azuresim.Options{})
			cfg := w.config()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Resolve(ctx(t))
			if err == nil {
				t.Fatal("resolved")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestFindMachineAndAccounts(t *testing.T) {
	t.Parallel()
	seed := azuresim.DefaultSeed(3)
	twin := azuresim.NumberedMachine(9)
	twin.DisplayName = "VM-0002"
	seed.Machines = append(seed.Machines, twin)
	w := newWorld(t, seed, azuresim.Options{PageSize: 2})
	c := w.client(t)
	ctx := ctx(t)
	all, err := c.ListMachines(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Fatalf("%d machines across pages of 2", len(all))
	}
	if m, err := FindMachine(all, "vm-0001"); err != nil || m.Name != "machine-0001" || len(m.Disks) != 2 || m.Disks[0].ID == "" {
		t.Fatalf("by display name: %+v %v", m, err)
	}
	if _, err := FindMachine(all, "vm-0002"); err == nil || !strings.Contains(err.Error(), "machine-0002, machine-0009") {
		t.Fatalf("ambiguous name should list candidates: %v", err)
	}
	if m, err := FindMachine(all, "machine-0009"); err != nil || m.DisplayName != "VM-0002" {
		t.Fatalf("by machine ID: %+v %v", m, err)
	}
	if m, err := FindMachine(all, all[2].ID); err != nil || m.ID != all[2].ID {
		t.Fatalf("by ARM ID: %+v %v", m, err)
	}
	if _, err := FindMachine(all, "vm-7777"); KindOf(err) != KindNotFound {
		t.Fatalf("missing machine: %v", err)
	}
	if a, err := c.FindRunAsAccount(ctx, "ADMIN"); err != nil || !strings.HasSuffix(a.ID, "/runasaccounts/runas-0001") {
		t.Fatalf("run-as account: %+v %v", a, err)
	}
	if _, err := c.FindRunAsAccount(ctx, "root"); err == nil || !strings.Contains(err.Error(), "credentialLessRunAsAccount") {
		t.Fatalf("missing account should list the others: %v", err)
	}
	if _, err := c.Policy(ctx, "1-hour"); err == nil || !strings.Contains(err.Error(), "24-hour-replication-policy") {
		t.Fatalf("missing policy should list the others: %v", err)
	}
}

// TestWorkersStartingTogetherResolveOnce: the first operations of an apply
// start on many workers at once; they share one resolve (one list of the
// vault's fabrics) instead of each sending its own, and each gets the
// same target.
func TestWorkersStartingTogetherResolveOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, azuresim.DefaultSeed(2), azuresim.Options{})
	c := w.client(t)
	ctx := ctx(t)
	const workers = 20
	got := make(chan *Target, workers)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			tg, err := c.resolved(ctx)
			got <- tg
			errs <- err
		}()
	}
	var first *Target
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		tg := <-got
		if first == nil {
			first = tg
		}
		if tg != first {
			t.Errorf("workers got different targets: %+v and %+v", first, tg)
		}
	}
	fabricLists := 0
	for _, r := range w.sim.Requests() {
		if r.Method == "GET" && strings.HasSuffix(strings.ToLower(r.Path), "/replicationfabrics") {
			fabricLists++
		}
	}
	if fabricLists != 1 {
		t.Errorf("%d lists of the vault's fabrics for %d workers starting together, want 1", fabricLists, workers)
	}
	if _, err := c.Resolve(ctx); err != nil {
		t.Fatal(err)
	}
}
