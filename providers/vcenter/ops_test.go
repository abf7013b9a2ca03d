package vcenter_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/types"

	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
)

// recorder collects what an operation reports through its Watch.
type recorder struct {
	before   []vcenter.Undo
	started  []vcenter.Handle
	progress []vcenter.Progress
}

func (r *recorder) watch() vcenter.Watch {
	return vcenter.Watch{
		Before:   func(u vcenter.Undo) { r.before = append(r.before, u) },
		Started:  func(h vcenter.Handle) { r.started = append(r.started, h) },
		Progress: func(p vcenter.Progress) { r.progress = append(r.progress, p) },
	}
}

func TestRelocateAndBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startSim(t, testWorld())
	c := connect(t, s)
	inv := discover(t, c)
	web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
	orig := web.Placement()
	to := vcenter.Placement{
		Host:      mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: "h3"}).MoRef,
		Pool:      mustResolve(t, inv, vcenter.KindPool, vcenter.Selector{Path: "C2/Resources"}).MoRef,
		Datastore: mustResolve(t, inv, vcenter.KindDatastore, vcenter.Selector{Name: "ds2"}).MoRef,
		Folder:    mustResolve(t, inv, vcenter.KindFolder, vcenter.Selector{Path: "/dc1/vm/other"}).MoRef,
	}
	var rec recorder
	undo, err := c.Relocate(ctx, web.Ref(), to, rec.watch())
	if err != nil {
		t.Fatal(err)
	}
	if *undo.Placement != orig || len(rec.before) != 1 || *rec.before[0].Placement != orig {
		t.Fatalf("before-image %+v (announced %+v), want %+v", undo.Placement, rec.before, orig)
	}
	if len(rec.started) != 1 || rec.started[0].Op != vcenter.OpRelocate || rec.started[0].VM != web.MoRef || rec.started[0].Task == "" {
		t.Fatalf("handles = %+v", rec.started)
	}
	if last := rec.progress[len(rec.progress)-1]; last.State != "success" {
		t.Fatalf("last progress = %+v", last)
	}
	moved := mustVM(t, discover(t, c), vcenter.Selector{MoRef: web.MoRef})
	if moved.Placement() != to || moved.Path != "/dc1/vm/other/web01" {
		t.Fatalf("after relocate: %+v at %s, want %+v", moved.Placement(), moved.Path, to)
	}

	// The undo record survives a journal (JSON) and moves the VM back.
	js, _ := json.Marshal(undo)
	var back vcenter.Undo
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if err := c.Undo(ctx, back, vcenter.Watch{}); err != nil {
		t.Fatal(err)
	}
	if got := mustVM(t, discover(t, c), vcenter.Selector{MoRef: web.MoRef}).Placement(); got != orig {
		t.Fatalf("after undo: %+v, want %+v", got, orig)
	}
	// Asking for the placement the VM already has starts no task.
	rec = recorder{}
	if _, err := c.Relocate(ctx, web.Ref(), orig, rec.watch()); err != nil || len(rec.started) != 0 {
		t.Fatalf("relocate in place: %v, handles %+v", err, rec.started)
	}
}

func TestMigrateHostAndPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startSim(t, testWorld())
	c := connect(t, s)
	inv := discover(t, c)
	app := mustVM(t, inv, vcenter.Selector{Path: "apps/app"})
	h1 := mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: "h1"}).MoRef
	prod := mustResolve(t, inv, vcenter.KindPool, vcenter.Selector{Name: "prod"}).MoRef
	var rec recorder
	// app is powered off: state guards the cold migration.
	undo, err := c.Migrate(ctx, app.Ref(), vcenter.Placement{Host: h1, Pool: prod},
		vcenter.Migration{Priority: vcenter.PriorityHigh, State: "poweredOff"}, rec.watch())
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.started) != 1 || rec.started[0].Op != vcenter.OpMigrate {
		t.Fatalf("want one MigrateVM_Task, got handles %+v", rec.started)
	}
	if got := mustVM(t, discover(t, c), vcenter.Selector{MoRef: app.MoRef}); got.Host != h1 || got.Pool != prod {
		t.Fatalf("after migrate: host %s pool %s, want %s %s", got.Host, got.Pool, h1, prod)
	}
	// The undo record survives a journal and migrates back.
	js, _ := json.Marshal(undo)
	var back vcenter.Undo
	if err := json.Unmarshal(js, &back); err != nil || back.Op != vcenter.OpMigrate {
		t.Fatalf("undo %s (%v)", js, err)
	}
	rec = recorder{}
	if err := c.Undo(ctx, back, rec.watch()); err != nil {
		t.Fatal(err)
	}
	if got := mustVM(t, discover(t, c), vcenter.Selector{MoRef: app.MoRef}); got.Host != app.Host || got.Pool != app.Pool {
		t.Fatalf("after undo: host %s pool %s, want %s %s", got.Host, got.Pool, app.Host, app.Pool)
	}
	if len(rec.started) != 1 || rec.started[0].Op != vcenter.OpMigrate {
		t.Fatalf("the way back should be one MigrateVM_Task, got %+v", rec.started)
	}
	// A datastore change is not a migration: the error says why.
	ds2 := mustResolve(t, inv, vcenter.KindDatastore, vcenter.Selector{Name: "ds2"}).MoRef
	_, err = c.Migrate(ctx, app.Ref(), vcenter.Placement{Datastore: ds2}, vcenter.Migration{}, vcenter.Watch{})
	if err == nil || !strings.Contains(err.Error(), "RelocateVM_Task") {
		t.Fatalf("datastore move by migrate: %v", err)
	}
	// A template is refused by MigrateVM_Task (NotSupported, its page) and
	// relocated instead.
	tmpl := mustVM(t, inv, vcenter.Selector{Name: "tmpl-linux"})
	h2 := mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: "h2"}).MoRef
	rec = recorder{}
	if _, err := c.Migrate(ctx, tmpl.Ref(), vcenter.Placement{Host: h2}, vcenter.Migration{}, rec.watch()); err != nil {
		t.Fatalf("template: %v", err)
	}
	if len(rec.started) != 2 || rec.started[0].Op != vcenter.OpMigrate || rec.started[1].Op != vcenter.OpRelocate {
		t.Fatalf("template: want MigrateVM_Task then RelocateVM_Task, got %+v", rec.started)
	}
	// A vCenter without the deprecated method: the move still happens.
	if err := s.InjectFault(vcentersim.FaultRule{Method: "MigrateVM_Task", Fault: &types.MethodNotFound{}}); err != nil {
		t.Fatal(err)
	}
	rec = recorder{}
	if _, err := c.Migrate(ctx, app.Ref(), vcenter.Placement{Host: h1}, vcenter.Migration{}, rec.watch()); err != nil {
		t.Fatalf("without MigrateVM_Task: %v", err)
	}
	if got := mustVM(t, discover(t, c), vcenter.Selector{MoRef: app.MoRef}); got.Host != h1 || len(rec.started) != 1 || rec.started[0].Op != vcenter.OpRelocate {
		t.Fatalf("without MigrateVM_Task: host %s, handles %+v", got.Host, rec.started)
	}
}

func TestSnapshotAndRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startSim(t, testWorld())
	c := connect(t, s)
	web := mustVM(t, discover(t, c), vcenter.Selector{Name: "web01"})
	undo, err := c.Snapshot(ctx, web.Ref(), "pre-cutover", "taken by cutover", false, vcenter.Watch{})
	if err != nil {
		t.Fatal(err)
	}
	after := mustVM(t, discover(t, c), vcenter.Selector{MoRef: web.MoRef})
	id, ok := after.FindSnapshot("pre-cutover")
	if !ok || id != undo.Snapshot || after.CurrentSnapshot != undo.Snapshot {
		t.Fatalf("snapshot %q not in tree %+v (current %q)", undo.Snapshot, after.Snapshots, after.CurrentSnapshot)
	}
	if parent := after.Snapshots[0].Children[0]; parent.Name != "patched" || len(parent.Children) != 1 {
		t.Fatalf("new snapshot not a child of the current one: %+v", after.Snapshots)
	}
	if err := c.Undo(ctx, undo, vcenter.Watch{}); err != nil {
		t.Fatal(err)
	}
	gone := mustVM(t, discover(t, c), vcenter.Selector{MoRef: web.MoRef})
	if _, ok := gone.FindSnapshot("pre-cutover"); ok {
		t.Fatal("snapshot still there after undo")
	}
	if _, ok := gone.FindSnapshot("patched"); !ok {
		t.Fatal("undo removed more than its own snapshot")
	}
	if err := c.Undo(ctx, undo, vcenter.Watch{}); err != nil {
		t.Fatalf("repeated undo: %v", err)
	}
}

func TestCloneWithCustomizationAndDestroy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startSim(t, testWorld())
	c := connect(t, s)
	inv := discover(t, c)
	web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
	h2 := mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: "h2"}).MoRef
	app := mustVM(t, inv, vcenter.Selector{Path: "apps/app"}) // one NIC, like the stored spec
	cases := []struct {
		name     string
		source   *vcenter.VM
		spec     vcenter.CloneSpec
		hostname string
		ip       string
	}{
		{"settings", web, vcenter.CloneSpec{
			Name: "web01-rehearsal", PowerOn: true, Placement: vcenter.Placement{Host: h2},
			Customization: &vcenter.Customization{
				Hostname: "web01-r", Domain: "corp.example", TimeZone: "Europe/Berlin", DNSServers: []string{"10.0.0.53"},
				NICs: []vcenter.NICSetting{{IP: "10.1.2.3", Netmask: "255.255.255.0", Gateways: []string{"10.1.2.1"}}, {}},
			},
		}, "web01-r", "10.1.2.3"},
		{"windows settings", app, vcenter.CloneSpec{Name: "app-win", PowerOn: true,
			Customization: &vcenter.Customization{Windows: true, Hostname: "APPWIN", Workgroup: "LAB"}}, "APPWIN", ""},
		{"stored spec", app, vcenter.CloneSpec{Name: "app-spec", PowerOn: true, CustomizationSpecName: "linux-dhcp"}, "from-spec", ""},
	}
	for _, tt := range cases {
		undo, err := c.Clone(ctx, tt.source.Ref(), tt.spec, vcenter.Watch{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if undo.Clone == nil {
			t.Fatalf("%s: no clone in undo", tt.name)
		}
		clone, err := discover(t, c).MatchVM(vcenter.Selector{MoRef: undo.Clone.MoRef})
		if err != nil {
			t.Fatalf("%s: clone not found: %v", tt.name, err)
		}
		if clone.Name != tt.spec.Name || clone.PowerState != "poweredOn" || clone.Folder != tt.source.Folder {
			t.Errorf("%s: clone %s %s in %s", tt.name, clone.Name, clone.PowerState, clone.Folder)
		}
		if !strings.HasPrefix(clone.GuestHostName, tt.hostname) {
			t.Errorf("%s: customized host name %q, want %q", tt.name, clone.GuestHostName, tt.hostname)
		}
		if tt.ip != "" && clone.GuestIP != tt.ip {
			t.Errorf("%s: customized IP %q, want %q", tt.name, clone.GuestIP, tt.ip)
		}
		if tt.spec.Placement.Host != "" && clone.Host != tt.spec.Placement.Host {
			t.Errorf("%s: clone on %s, want %s", tt.name, clone.Host, tt.spec.Placement.Host)
		}
		if err := c.Undo(ctx, undo, vcenter.Watch{}); err != nil {
			t.Fatalf("%s: destroy: %v", tt.name, err)
		}
		if _, err := discover(t, c).MatchVM(vcenter.Selector{MoRef: undo.Clone.MoRef}); err == nil {
			t.Fatalf("%s: clone still present after undo", tt.name)
		}
	}
	_, err := c.Clone(ctx, web.Ref(), vcenter.CloneSpec{Name: "x", CustomizationSpecName: "no-such-spec"}, vcenter.Watch{})
	if err == nil || !strings.Contains(err.Error(), "no-such-spec") {
		t.Fatalf("unknown stored spec: %v", err)
	}
}

func TestCustomizeGuest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startSim(t, testWorld())
	c := connect(t, s)
	inv := discover(t, c)
	web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
	cu := &vcenter.Customization{Hostname: "web01-new", Domain: "corp.example",
		NICs: []vcenter.NICSetting{{IP: "10.9.9.9", Netmask: "255.255.0.0"}}}
	var rec recorder
	login := &vcenter.GuestCredentials{Username: "root", Password: secret}
	if _, err := c.CustomizeGuest(ctx, web.Ref(), vcenter.GuestCustomization{Settings: cu, Credentials: login}, rec.watch()); err != nil {
		t.Fatal(err)
	}
	got := mustVM(t, discover(t, c), vcenter.Selector{MoRef: web.MoRef})
	if got.GuestHostName != "web01-new.corp.example" || got.GuestIP != "10.9.9.9" {
		t.Fatalf("guest after customization: host %q ip %q", got.GuestHostName, got.GuestIP)
	}
	if len(rec.started) != 1 || rec.started[0].Op != vcenter.OpCustomizeGuest {
		t.Fatalf("handles %+v", rec.started)
	}

	// The faults its reference page lists, by VM state.
	tests := []struct {
		vm    string
		fault types.BaseMethodFault
		name  string
	}{
		{"apps/app", &types.InvalidPowerState{}, "InvalidPowerState"}, // powered off
		{"notools", &types.InvalidState{}, "InvalidState"},            // tools not running
	}
	_, err := c.CustomizeGuest(ctx, web.Ref(), vcenter.GuestCustomization{SpecName: "linux-dhcp",
		Credentials: &vcenter.GuestCredentials{Username: "root", Password: "wrong"}}, vcenter.Watch{})
	if !vcenter.IsFault(err, &types.InvalidGuestLogin{}) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad guest login: %v", err)
	}
	for _, tt := range tests {
		vm := mustVM(t, inv, vcenter.Selector{Path: tt.vm})
		_, err := c.CustomizeGuest(ctx, vm.Ref(), vcenter.GuestCustomization{SpecName: "linux-dhcp", Credentials: login}, vcenter.Watch{})
		var oe *vcenter.OpError
		if !errors.As(err, &oe) || oe.Fault != tt.name || !vcenter.IsFault(err, tt.fault) ||
			!strings.Contains(err.Error(), vm.Name) || !strings.Contains(err.Error(), string(vcenter.OpCustomizeGuest)) {
			t.Errorf("%s: got %v, want %s naming VM and operation", tt.vm, err, tt.name)
		}
	}
}

func TestMakePrimaryAndBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startSim(t, testWorld())
	c := connect(t, s)
	inv := discover(t, c)
	primary := mustVM(t, inv, vcenter.Selector{Name: "db01"})
	secondary := mustVM(t, inv, vcenter.Selector{Name: "db01 (secondary)"})

	undo, err := c.MakePrimary(ctx, secondary.Ref(), vcenter.Watch{})
	if err != nil {
		t.Fatal(err)
	}
	if undo.Primary != primary.MoRef {
		t.Fatalf("recorded primary %s, want %s", undo.Primary, primary.MoRef)
	}
	inv = discover(t, c)
	if p, _ := inv.VM(secondary.MoRef); p.FTRole != 1 {
		t.Fatalf("new primary has role %d", p.FTRole)
	}
	if old, _ := inv.VM(primary.MoRef); old.FTRole != 2 {
		t.Fatalf("old primary has role %d", old.FTRole)
	}
	if byName := mustVM(t, inv, vcenter.Selector{Name: "db01 (secondary)"}); byName.FTRole != 1 {
		t.Fatal("discovery does not see the swap")
	}
	if err := c.Undo(ctx, undo, vcenter.Watch{}); err != nil {
		t.Fatal(err)
	}
	inv = discover(t, c)
	if p, _ := inv.VM(primary.MoRef); p.FTRole != 1 {
		t.Fatalf("after undo the original primary has role %d", p.FTRole)
	}

	web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
	_, err = c.MakePrimary(ctx, web.Ref(), vcenter.Watch{})
	var oe *vcenter.OpError
	if !errors.As(err, &oe) || oe.Fault != "VmFaultToleranceIssue" {
		t.Fatalf("make primary of a VM without FT: %v", err)
	}
}

func TestPowerOperations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startSim(t, testWorld())
	c := connect(t, s)
	inv := discover(t, c)
	web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
	state := func(vm *vcenter.VM) string {
		return mustVM(t, discover(t, c), vcenter.Selector{MoRef: vm.MoRef}).PowerState
	}

	undo, err := c.ShutdownGuest(ctx, web.Ref(), vcenter.Shutdown{Timeout: 5 * time.Second}, vcenter.Watch{})
	if err != nil {
		t.Fatal(err)
	}
	if undo.PowerState != "poweredOn" || state(web) != "poweredOff" {
		t.Fatalf("after shutdown: undo %+v, state %s", undo, state(web))
	}
	if err := c.Undo(ctx, undo, vcenter.Watch{}); err != nil {
		t.Fatal(err)
	}
	if state(web) != "poweredOn" {
		t.Fatal("undo of shutdown did not power on")
	}

	// Without tools the guest cannot be asked; only the fallback powers off.
	nt := mustVM(t, inv, vcenter.Selector{Name: "notools"})
	_, err = c.ShutdownGuest(ctx, nt.Ref(), vcenter.Shutdown{Timeout: time.Second}, vcenter.Watch{})
	if !vcenter.IsFault(err, &types.ToolsUnavailable{}) || state(nt) != "poweredOn" {
		t.Fatalf("shutdown without tools and fallback: %v, %s", err, state(nt))
	}
	var rec recorder
	if _, err := c.ShutdownGuest(ctx, nt.Ref(), vcenter.Shutdown{Timeout: time.Second, FallbackPowerOff: true}, rec.watch()); err != nil {
		t.Fatal(err)
	}
	if state(nt) != "poweredOff" || len(rec.started) != 1 || rec.started[0].Op != vcenter.OpPowerOff {
		t.Fatalf("fallback: state %s, handles %+v", state(nt), rec.started)
	}

	undo, err = c.PowerOn(ctx, nt.Ref(), vcenter.Watch{})
	if err != nil || undo.PowerState != "poweredOff" || state(nt) != "poweredOn" {
		t.Fatalf("power on: %v %+v %s", err, undo, state(nt))
	}
	if err := c.Undo(ctx, undo, vcenter.Watch{}); err != nil || state(nt) != "poweredOff" {
		t.Fatalf("undo power on: %v %s", err, state(nt))
	}
	// Powering on what is already on changes nothing and starts no task.
	rec = recorder{}
	if _, err := c.PowerOn(ctx, web.Ref(), rec.watch()); err != nil || len(rec.started) != 0 {
		t.Fatalf("idempotent power on: %v, handles %+v", err, rec.started)
	}
}
