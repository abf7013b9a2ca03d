package vcenter_test

import (
	"errors"
	"strings"
	"testing"

	"cutover/providers/vcenter"
)

func TestMatchVM(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	inv := discover(t, connect(t, s))
	web := mustVM(t, inv, vcenter.Selector{Path: "/dc1/vm/apps/web/web01"})
	db := mustVM(t, inv, vcenter.Selector{Path: "/dc1/vm/apps/db01"})

	tests := []struct {
		name       string
		sel        vcenter.Selector
		wantPath   string
		candidates []string // paths listed in the error; nil when a match is expected
	}{
		{name: "unique name", sel: vcenter.Selector{Name: "web01"}, wantPath: "/dc1/vm/apps/web/web01"},
		{name: "absolute path", sel: vcenter.Selector{Path: "/dc2/vm/app"}, wantPath: "/dc2/vm/app"},
		{name: "relative path", sel: vcenter.Selector{Path: "other/app"}, wantPath: "/dc1/vm/other/app"},
		{name: "moref", sel: vcenter.Selector{MoRef: web.MoRef}, wantPath: web.Path},
		{name: "instance uuid, any case", sel: vcenter.Selector{InstanceUUID: strings.ToUpper(web.InstanceUUID)}, wantPath: web.Path},
		{name: "name within datacenter", sel: vcenter.Selector{Name: "app", Datacenter: "dc2"}, wantPath: "/dc2/vm/app"},
		{name: "FT pair by name means the primary", sel: vcenter.Selector{Name: "db01"}, wantPath: db.Path},
		{name: "ambiguous across folders and datacenters", sel: vcenter.Selector{Name: "app"},
			candidates: []string{"/dc1/vm/apps/app", "/dc1/vm/other/app", "/dc2/vm/app"}},
		{name: "ambiguous within a datacenter", sel: vcenter.Selector{Name: "app", Datacenter: "dc1"},
			candidates: []string{"/dc1/vm/apps/app", "/dc1/vm/other/app"}},
		{name: "missing", sel: vcenter.Selector{Name: "nope"}, candidates: []string{}},
		{name: "fields disagree", sel: vcenter.Selector{Name: "web01", MoRef: db.MoRef}, candidates: []string{}},
		{name: "empty selector", sel: vcenter.Selector{}, candidates: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vm, err := inv.MatchVM(tt.sel)
			if tt.candidates == nil {
				if err != nil {
					t.Fatal(err)
				}
				if vm.Path != tt.wantPath {
					t.Fatalf("matched %s, want %s", vm.Path, tt.wantPath)
				}
				return
			}
			var me *vcenter.MatchError
			if !errors.As(err, &me) {
				t.Fatalf("want MatchError, got %v (%v)", err, vm)
			}
			if len(me.Candidates) != len(tt.candidates) {
				t.Fatalf("candidates %v, want %v", me.Candidates, tt.candidates)
			}
			for i, c := range me.Candidates {
				if c.Path != tt.candidates[i] || !strings.Contains(err.Error(), c.Path+" ("+c.MoRef+")") {
					t.Errorf("candidate %d: %+v not listed as %q in %q", i, c, tt.candidates[i], err)
				}
			}
		})
	}
}

func TestResolvePlacement(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	inv := discover(t, connect(t, s))

	tests := []struct {
		kind     vcenter.Kind
		sel      vcenter.Selector
		wantPath string
		wantN    int // candidates when ambiguous; -1 when a match is expected
	}{
		{vcenter.KindHost, vcenter.Selector{Name: "h2"}, "/dc1/host/C1/h2", -1},
		{vcenter.KindPool, vcenter.Selector{Name: "prod"}, "/dc1/host/C1/Resources/prod", -1},
		{vcenter.KindPool, vcenter.Selector{Path: "C2/Resources"}, "/dc1/host/C2/Resources", -1},
		{vcenter.KindPool, vcenter.Selector{Name: "Resources"}, "", 3},
		{vcenter.KindDatastore, vcenter.Selector{Name: "ds2"}, "/dc1/datastore/ds2", -1},
		{vcenter.KindFolder, vcenter.Selector{Path: "/dc1/vm/apps/web"}, "/dc1/vm/apps/web", -1},
		{vcenter.KindFolder, vcenter.Selector{Name: "vm"}, "", 2},
		{vcenter.KindFolder, vcenter.Selector{Name: "vm", Datacenter: "dc2"}, "/dc2/vm", -1},
		{vcenter.KindNetwork, vcenter.Selector{Name: "pg-app"}, "/dc1/network/pg-app", -1},
		{vcenter.KindCluster, vcenter.Selector{Name: "C9"}, "/dc2/host/C9", -1},
		{vcenter.KindHost, vcenter.Selector{Name: "h7"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+" "+tt.sel.String(), func(t *testing.T) {
			e, err := inv.Resolve(tt.kind, tt.sel)
			if tt.wantN < 0 {
				if err != nil {
					t.Fatal(err)
				}
				if e.Path != tt.wantPath || e.MoRef == "" {
					t.Fatalf("resolved %+v, want %s", e, tt.wantPath)
				}
				return
			}
			var me *vcenter.MatchError
			if !errors.As(err, &me) || len(me.Candidates) != tt.wantN {
				t.Fatalf("want MatchError with %d candidates, got %v", tt.wantN, err)
			}
		})
	}
}

func TestEscapeName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"billing01-rehearsal", "billing01-rehearsal"},
		{"100% done", "100%25 done"},
		{"a/b", "a%2fb"},
		{`a\b`, "a%5cb"},
		// A runbook name is literal: what looks like an escape sequence is
		// escaped again.
		{"a%2fb", "a%252fb"},
	} {
		if got := vcenter.EscapeName(tc.in); got != tc.want {
			t.Errorf("EscapeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
