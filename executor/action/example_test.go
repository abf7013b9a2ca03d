package action_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"cutover/executor/action"
	"cutover/planner"
	"cutover/providers/azure"
	"cutover/providers/simworld"
	"cutover/providers/vcenter"
	"cutover/schema"
)

// ExampleRunner starts a plan's first step against the simulated world of
// the quickstart, journals what Start returns (here: serializes it), and
// waits for it by handle, as a resumed apply would.
func ExampleRunner() {
	ctx := context.Background()
	rb, diags := schema.LoadDir(filepath.Join("..", "..", "examples", "quickstart"), schema.Options{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if diags.HasErrors() {
		fmt.Println(diags.Error())
		return
	}
	dir, err := os.MkdirTemp("", "action-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	w, err := simworld.Open(ctx, rb, dir, simworld.Options{TimeScale: 0.001})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()

	env := action.Env{Runbook: rb, VCenters: map[string]*vcenter.Client{}, Azures: map[string]*azure.Client{}}
	for name, cfg := range w.VCenterConfigs {
		c, err := vcenter.Connect(ctx, cfg)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close(ctx)
		env.VCenters[name] = c
	}
	for name, cfg := range w.AzureConfigs {
		c, err := azure.New(cfg, w.AzureOptions())
		if err != nil {
			fmt.Println(err)
			return
		}
		env.Azures[name] = c
	}
	r, err := action.NewRunner(env)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()

	enable := planner.Step{ID: "vm.app01.enable_replication", VM: "vm.app01", Kind: planner.StepEnableReplication}
	st, err := r.Start(ctx, enable)
	if err != nil {
		fmt.Println(err)
		return
	}
	journaled, _ := json.Marshal(st)

	var back action.Started
	_ = json.Unmarshal(journaled, &back)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := r.Wait(wctx, enable, back.Handle, nil); err != nil {
		fmt.Println(err)
		return
	}
	done, err := r.Done(ctx, enable)
	fmt.Println("replicating:", done, err)
	// Output: replicating: true <nil>
}
