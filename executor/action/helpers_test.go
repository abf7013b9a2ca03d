package action_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/azure"
	"cutover/providers/azure/azuresim"
	"cutover/providers/simworld"
	"cutover/providers/vcenter"
	"cutover/schema"
)

func loadExample(t *testing.T, name string) *schema.Runbook {
	t.Helper()
	rb, diags := schema.LoadDir(filepath.Join("..", "..", "examples", name), schema.Options{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return rb
}

func vmOf(t *testing.T, rb *schema.Runbook, address string) *schema.VM {
	t.Helper()
	for _, vm := range rb.VMs {
		if vm.Address == address {
			return vm
		}
	}
	t.Fatalf("runbook has no %s", address)
	return nil
}

// fixture is a simulated world seeded from a runbook.
type fixture struct {
	rb *schema.Runbook
	w  *simworld.World
}

func openWorld(t *testing.T, rb *schema.Runbook, scale float64) *fixture {
	t.Helper()
	return openWorldIn(t, rb, t.TempDir(), scale)
}

// openMu serializes starting simulated worlds: govmomi's simulator
// rewrites option settings shared by every instance while it starts
// (a data race between parallel tests), though running worlds are
// independent.
var openMu sync.Mutex

func openWorldIn(t *testing.T, rb *schema.Runbook, dir string, scale float64) *fixture {
	t.Helper()
	openMu.Lock()
	w, err := simworld.Open(context.Background(), rb, dir, simworld.Options{TimeScale: scale})
	openMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return &fixture{rb: rb, w: w}
}

// env connects brand-new provider clients to the world, as a new process
// would.
func (f *fixture) env(t *testing.T) action.Env {
	t.Helper()
	ctx := context.Background()
	env := action.Env{Runbook: f.rb, VCenters: map[string]*vcenter.Client{}, Azures: map[string]*azure.Client{}}
	for name, cfg := range f.w.VCenterConfigs {
		c, err := vcenter.Connect(ctx, cfg, vcenter.WithPollInterval(20*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		env.VCenters[name] = c
	}
	for name, cfg := range f.w.AzureConfigs {
		opts := f.w.AzureOptions()
		opts.PollInterval = 20 * time.Millisecond
		c, err := azure.New(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		env.Azures[name] = c
	}
	return env
}

func (f *fixture) runner(t *testing.T, opts ...action.Option) (*action.Runner, action.Env) {
	t.Helper()
	env := f.env(t)
	r, err := action.NewRunner(env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r, env
}

// plan refreshes the world and plans the runbook, as `cutover plan` does.
func (f *fixture) plan(t *testing.T, env action.Env) *planner.Plan {
	t.Helper()
	src := planner.Sources{VCenters: map[string]planner.VCenterReader{}, Azures: map[string]planner.AzureReader{}}
	for n, c := range env.VCenters {
		src.VCenters[n] = c
	}
	for n, c := range env.Azures {
		src.Azures[n] = c
	}
	snap, problems, err := planner.Refresh(context.Background(), f.rb, src)
	if err != nil || len(problems) > 0 {
		t.Fatalf("refresh: %v %v", err, problems)
	}
	p, problems := planner.Build(f.rb, snap.Live, planner.Options{Now: time.Now()})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return p
}

func stepsOf(p *planner.Plan, vm string) []planner.Step {
	var out []planner.Step
	for _, s := range p.Steps {
		if s.VM == vm {
			out = append(out, s)
		}
	}
	return out
}

func kinds(steps []planner.Step) string {
	var out []string
	for _, s := range steps {
		out = append(out, string(s.Kind))
	}
	return strings.Join(out, " ")
}

func step(t *testing.T, p *planner.Plan, vm string, k planner.StepKind) planner.Step {
	t.Helper()
	for _, s := range p.Steps {
		if s.VM == vm && s.Kind == k {
			return s
		}
	}
	t.Fatalf("plan has no %s step for %s: %s", k, vm, kinds(stepsOf(p, vm)))
	return planner.Step{}
}

// sourceVM discovers the world afresh and returns one VM, read back
// independently of the Runner.
func sourceVM(t *testing.T, f *fixture, name string) (*vcenter.VM, *vcenter.Inventory) {
	t.Helper()
	ctx := context.Background()
	c, err := vcenter.Connect(ctx, f.w.VCenterConfigs["dc1"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	inv, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := inv.MatchVM(vcenter.Selector{Name: name})
	if err != nil {
		return nil, inv
	}
	return v, inv
}

// writes counts the mutating requests in a simulator's request log.
func writes(reqs []azuresim.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Method != "GET" {
			n++
		}
	}
	return n
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runToDone starts a step, waits for it and checks that Done then holds.
func runToDone(t *testing.T, ctx context.Context, r *action.Runner, s planner.Step) action.Started {
	t.Helper()
	st, err := r.Start(ctx, s)
	if err != nil {
		t.Fatalf("%s: %v", s.ID, err)
	}
	if err := r.Wait(ctx, s, st.Handle, nil); err != nil {
		t.Fatalf("%s: %v", s.ID, err)
	}
	if done, err := r.Done(ctx, s); err != nil || !done {
		t.Fatalf("%s: not done after wait (%v)", s.ID, err)
	}
	return st
}
