package vcenter_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"

	"github.com/vmware/govmomi/vim25/soap"
)

// testWorld has the shapes discovery and matching must get right: duplicate
// names across folders and datacenters, an FT pair, a template, a snapshot
// tree, several disks and NICs, and a guest without tools.
func testWorld() vcentersim.World {
	return vcentersim.World{
		Datacenters: []vcentersim.Datacenter{{
			Name:       "dc1",
			Folders:    []string{"apps/web", "other"},
			Datastores: []string{"ds1", "ds2"},
			Networks:   []string{"pg-app"},
			Clusters: []vcentersim.Cluster{
				{Name: "C1", Hosts: []string{"h1", "h2"}, Pools: []string{"prod"}},
				{Name: "C2", Hosts: []string{"h3"}},
			},
			VMs: []vcentersim.VM{
				{
					Name: "web01", Folder: "apps/web", Cluster: "C1", Host: "h1", Pool: "prod", Datastore: "ds1",
					PowerState: "poweredOn", GuestID: "ubuntu64Guest",
					Disks:     []vcentersim.Disk{{SizeGB: 10}, {SizeGB: 20, Datastore: "ds2"}},
					NICs:      []vcentersim.NIC{{Network: "pg-app", MAC: "00:50:56:aa:bb:01"}, {}},
					Snapshots: []string{"base", "patched"},
				},
				{
					Name: "db01", Folder: "apps", Host: "h1", Datastore: "ds1", PowerState: "poweredOn",
					Disks: []vcentersim.Disk{{SizeGB: 40}}, NICs: []vcentersim.NIC{{Network: "pg-app"}},
					FTSecondary: &vcentersim.FTSecondary{Host: "h2"},
				},
				{Name: "app", Folder: "apps", Host: "h2", Disks: []vcentersim.Disk{{SizeGB: 8}}, NICs: []vcentersim.NIC{{}}},
				{Name: "app", Folder: "other", Host: "h3", Cluster: "C2", Disks: []vcentersim.Disk{{SizeGB: 8}}},
				{Name: "tmpl-linux", Folder: "other", Host: "h1", Template: true, Disks: []vcentersim.Disk{{SizeGB: 8}}, NICs: []vcentersim.NIC{{}}},
				{Name: "notools", Host: "h2", PowerState: "poweredOn", NoTools: true, NICs: []vcentersim.NIC{{}}},
			},
		}, {
			Name:       "dc2",
			Datastores: []string{"ds9"},
			Clusters:   []vcentersim.Cluster{{Name: "C9", Hosts: []string{"h9"}}},
			VMs:        []vcentersim.VM{{Name: "app", Host: "h9", PowerState: "poweredOn", NICs: []vcentersim.NIC{{}}}},
		}},
		CustomizationSpecs: []vcentersim.CustomizationSpec{{Name: "linux-dhcp", Hostname: "from-spec", Domain: "corp.example", NICs: 1}},
		GuestLogin:         &vcentersim.GuestLogin{Username: "root", Password: secret},
	}
}

// fastRetry keeps retry tests quick; the backoff shape is still exercised.
var fastRetry = vcenter.Retry{Attempts: 4, Initial: time.Millisecond, Max: 4 * time.Millisecond}

func noEnv(string) string { return "" }

func startSim(t testing.TB, w vcentersim.World) *vcentersim.Sim {
	t.Helper()
	s, err := vcentersim.Start(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func simConfig(s *vcentersim.Sim) vcenter.Config {
	return vcenter.Config{Name: "sim", URL: s.URL.String(), Username: s.Username, Password: s.Password, Thumbprint: s.Thumbprint}
}

func connect(t testing.TB, s *vcentersim.Sim, opts ...vcenter.Option) *vcenter.Client {
	t.Helper()
	opts = append([]vcenter.Option{
		vcenter.WithGetenv(noEnv), vcenter.WithRetry(fastRetry), vcenter.WithPollInterval(10 * time.Millisecond),
	}, opts...)
	c, err := vcenter.Connect(context.Background(), simConfig(s), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func discover(t testing.TB, c *vcenter.Client) *vcenter.Inventory {
	t.Helper()
	inv, err := c.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func mustVM(t testing.TB, inv *vcenter.Inventory, sel vcenter.Selector) *vcenter.VM {
	t.Helper()
	vm, err := inv.MatchVM(sel)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

func mustResolve(t testing.TB, inv *vcenter.Inventory, k vcenter.Kind, sel vcenter.Selector) vcenter.Entity {
	t.Helper()
	e, err := inv.Resolve(k, sel)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// typeName names a SOAP request body, e.g. "*methods.RelocateVM_TaskBody".
func typeName(v any) string { return fmt.Sprintf("%T", v) }

// interposed puts mid in front of the client's SOAP transport and stores
// the transport it stands in front of in *next, for mid to pass calls on.
func interposed(mid soap.RoundTripper, next *soap.RoundTripper) vcenter.Option {
	return vcenter.WithTransport(func(rt soap.RoundTripper) soap.RoundTripper {
		*next = rt
		return mid
	})
}
