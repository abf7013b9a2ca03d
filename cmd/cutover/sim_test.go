package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cutover/providers/simworld"
	"cutover/providers/vcenter"
)

// lockedBuffer is written by a command running in another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSimServeIsShared: while `sim serve` runs, apply --sim acts on the
// served world (its vCenter shows the shutdowns) instead of starting its
// own, a second serve is refused, and stopping the server saves the
// vCenter state for the next --sim command.
func TestSimServeIsShared(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.02")
	dir := copyExample(t, "quickstart")
	served := filepath.Join(dir, ".cutover", "sim")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	root := newRootCommand(&globals{}, strings.NewReader(""), &out, &errOut)
	root.SetArgs([]string{"sim", "serve", dir, "--save-every", "50ms"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var world *simworld.Served
	for deadline := time.Now().Add(20 * time.Second); world == nil; {
		var err error
		if world, err = simworld.Attach(served); err != nil {
			t.Fatal(err)
		}
		if world == nil && time.Now().After(deadline) {
			t.Fatalf("the world was not announced: %s %s", out.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "export GOVC_URL=") {
		t.Errorf("serve does not say how to reach vCenter: %s", out.String())
	}

	if code, _, e := runCLI(t, "sim", "serve", dir); code == 0 || !strings.Contains(e, "already served by process") {
		t.Errorf("a second serve: exit %d, %s", code, e)
	}
	code, _, e := runCLI(t, "apply", dir, "--sim", "--auto-approve")
	if code != 0 || !strings.Contains(e, "Using the simulated world served by process") {
		t.Fatalf("apply: exit %d, %s", code, e)
	}
	vc, err := vcenter.Connect(ctx, world.VCenterConfigs["dc1"])
	if err != nil {
		t.Fatal(err)
	}
	inv, err := vc.Discover(ctx)
	_ = vc.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range inv.VMs {
		if v.PowerState != "poweredOff" {
			t.Errorf("served vCenter: %s is %s after the cutover", v.Name, v.PowerState)
		}
	}

	// Saved while serving: a server killed outright loses little.
	for deadline := time.Now().Add(5 * time.Second); ; {
		b, err := os.ReadFile(filepath.Join(served, "vcenter.json"))
		if err == nil && strings.Count(string(b), `"poweredOff"`) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the served vCenter's state was not saved while serving: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if w, _ := simworld.Attach(served); w != nil {
		t.Fatal("the stopped world is still announced")
	}
	code, js, e := runCLI(t, "status", dir, "--sim", "--json")
	var rows []vmStatus
	if err := json.Unmarshal([]byte(js), &rows); code != 0 || err != nil || len(rows) != 3 {
		t.Fatalf("status after serve: exit %d %v %s", code, err, e)
	}
	for _, r := range rows {
		if r.PowerState != "poweredOff" || r.Live != "failed over" {
			t.Errorf("after the served world stopped: %+v", r)
		}
	}
}
