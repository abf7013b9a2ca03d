package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"cutover/executor"
	"cutover/executor/journal"
)

// TestApplyRefusesStalePlan plans the quickstart against the simulated
// world, powers one VM off in that world behind the plan's back, and
// checks that apply refuses the plan naming that VM; a fresh plan of the
// same world applies.
func TestApplyRefusesStalePlan(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.001")
	dir := copyExample(t, "quickstart")
	planPath := filepath.Join(t.TempDir(), "q.plan")
	if code, out, errOut := runCLI(t, "plan", dir, "--sim", "--out", planPath); code != 0 {
		t.Fatalf("plan: exit %d %s %s", code, out, errOut)
	}

	worldFile := filepath.Join(dir, ".cutover", "sim", "vcenter.json")
	b, err := os.ReadFile(worldFile)
	if err != nil {
		t.Fatal(err)
	}
	var world map[string]any
	if err := json.Unmarshal(b, &world); err != nil {
		t.Fatal(err)
	}
	for _, vm := range world["datacenters"].([]any)[0].(map[string]any)["vms"].([]any) {
		if m := vm.(map[string]any); m["name"] == "app02" {
			m["powerState"] = "poweredOff"
		}
	}
	b, _ = json.Marshal(world)
	if err := os.WriteFile(worldFile, b, 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, "apply", planPath)
	if code != 1 || !strings.Contains(errOut, "stale") || !strings.Contains(errOut, "vm.app02") ||
		!strings.Contains(errOut, `power_state "poweredOn" -> "poweredOff"`) || strings.Contains(errOut, "vm.app01") {
		t.Fatalf("stale plan: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "started") {
		t.Fatalf("a stale plan started steps:\n%s", out)
	}

	// Plan again: the new plan matches the world and applies. (Simulated
	// time starts inside the window, so the disruptive steps run too.)
	if code, _, errOut := runCLI(t, "plan", dir, "--sim", "--out", planPath); code != 0 {
		t.Fatalf("replan: %d %s", code, errOut)
	}
	code, out, errOut = runCLI(t, "apply", planPath)
	if code != 0 || !strings.Contains(out, "vm.app01.enable_replication: succeeded") || !strings.Contains(out, "vm.app01.unplanned_failover: succeeded") {
		t.Fatalf("fresh plan: exit %d\n%s%s", code, out, errOut)
	}

	// Applying the same plan again resumes it: every step is skipped as
	// done, nothing is started twice.
	code, out, _ = runCLI(t, "apply", planPath)
	if code != 0 || strings.Contains(out, ": started") || !strings.Contains(out, "already done") {
		t.Fatalf("resume: exit %d\n%s", code, out)
	}

	code, out, _ = runCLI(t, "apply", planPath, "--expect-digest", strings.Repeat("0", 64))
	if code != 1 {
		t.Fatalf("--expect-digest with the wrong digest: exit %d %s", code, out)
	}
}

func TestApplyDirRefusesWithoutTerminal(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.001")
	dir := copyExample(t, "quickstart")
	code, _, errOut := runCLI(t, "apply", dir, "--sim")
	if code != 1 || !strings.Contains(errOut, "--auto-approve") {
		t.Fatalf("exit %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, ".cutover", "state.journal")); err == nil {
		t.Fatal("an unconfirmed apply journaled something")
	}
}

// TestQuickstartEndToEnd is the README's first command: apply the
// quickstart to the simulated world, all the way to stage migrated.
func TestQuickstartEndToEnd(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve")
	if code != 0 || !strings.Contains(out, "Simulated time starts at") || !strings.Contains(out, "17 succeeded") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "status", dir, "--sim", "--json")
	var rows []vmStatus
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 3 {
		t.Fatalf("status: exit %d %s\n%s", code, errOut, out)
	}
	for _, r := range rows {
		if r.Live != "failed over" || r.PowerState != "poweredOff" || r.NextApply != "nothing" {
			t.Errorf("after apply: %+v", r)
		}
	}
	// Applying again finds nothing to do.
	code, out, _ = runCLI(t, "apply", dir, "--sim", "--auto-approve")
	if code != 0 || !strings.Contains(out, "No changes") && !strings.Contains(out, "no changes") {
		t.Errorf("second apply: exit %d\n%s", code, out)
	}
}

func TestForceUnlock(t *testing.T) {
	dir := t.TempDir()
	store, err := journal.OpenFile(filepath.Join(dir, journal.DefaultDir), "state")
	if err != nil {
		t.Fatal(err)
	}
	held, err := store.Lock(context.Background(), journal.LockInfo{Operation: "apply", Who: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	if code, _, errOut := runCLI(t, "force-unlock", "wrong-id", dir); code != 1 || !strings.Contains(errOut, held.ID) && !strings.Contains(errOut, "wrong-id") {
		t.Errorf("wrong ID: exit %d %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, "force-unlock", held.ID, dir); code != 0 || !strings.Contains(out, "Released") {
		t.Fatalf("force-unlock: exit %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "force-unlock", held.ID, dir); code != 1 || !strings.Contains(errOut, "not locked") {
		t.Errorf("second force-unlock: exit %d %s", code, errOut)
	}
}

// TestApplyTarget: apply DIR --target migrates only the VMs named; the
// others are untouched until an apply without it. A saved plan refuses
// --target, since it already holds its VMs.
func TestApplyTarget(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve", "--target", "vm.app01")
	if code != 0 {
		t.Fatalf("apply --target: exit %d\n%s%s", code, out, errOut)
	}
	code, js, errOut := runCLI(t, "status", dir, "--sim", "--json")
	var rows []vmStatus
	if code != 0 || json.Unmarshal([]byte(js), &rows) != nil {
		t.Fatalf("status: exit %d %s", code, errOut)
	}
	for _, r := range rows {
		migrated := r.Live == "failed over"
		if migrated != (r.VM == "vm.app01") {
			t.Errorf("after apply --target vm.app01: %s is %s", r.VM, r.Live)
		}
	}
	planPath := filepath.Join(t.TempDir(), "p.plan")
	if code, _, e := runCLI(t, "plan", dir, "--sim", "--out", planPath); code != 0 {
		t.Fatalf("plan: %d %s", code, e)
	}
	if code, _, e := runCLI(t, "apply", planPath, "--target", "vm.db01"); code != exitUsage || !strings.Contains(e, "a saved plan already holds its VMs") {
		t.Errorf("apply PLAN --target: exit %d %s", code, e)
	}
}

// TestStatusShowsWarnings: after a VM is enabled, a runbook change to a
// setting ASR takes only at enable shows as a warning on that VM in
// status (and in plan), and on no VM not yet enabled.
func TestStatusShowsWarnings(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	if code, out, e := runCLI(t, "apply", dir, "--sim", "--auto-approve", "--target", "vm.app01"); code != 0 {
		t.Fatalf("apply: %d %s %s", code, out, e)
	}
	main := filepath.Join(dir, "main.hcl")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), `disk_type           = "Premium_LRS"`, `disk_type           = "StandardSSD_LRS"`, 1)
	if changed == string(src) {
		t.Fatal("the quickstart no longer sets disk_type as this test expects")
	}
	if err := os.WriteFile(main, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	code, js, e := runCLI(t, "status", dir, "--sim", "--json")
	var rows []vmStatus
	if code != 0 || json.Unmarshal([]byte(js), &rows) != nil {
		t.Fatalf("status: %d %s", code, e)
	}
	for _, r := range rows {
		warned := len(r.Warnings) == 1 && strings.Contains(r.Warnings[0], `replication.disk_type is "StandardSSD_LRS" in the runbook but "Premium_LRS" in ASR`)
		if warned != (r.VM == "vm.app01") {
			t.Errorf("%s: warnings %q", r.VM, r.Warnings)
		}
	}
	if code, out, _ := runCLI(t, "plan", dir, "--sim"); code != 0 || !strings.Contains(out, "Warnings:\n  vm.app01: replication.disk_type") {
		t.Errorf("plan: exit %d\n%s", code, out)
	}
}

// TestApplyJSONEvents: with --json, every stdout line is one event in the
// documented form, and docs/apply-events.md names every field and kind.
func TestApplyJSONEvents(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	dir := copyExample(t, "quickstart")
	code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve", "--json")
	if code != 0 {
		t.Fatalf("apply --json: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "Apply: 17 succeeded") {
		t.Errorf("the summary is not on stderr: %s", errOut)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "apply-events.md"))
	if err != nil {
		t.Fatal(err)
	}
	kinds, fields := map[string]int{}, map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stdout line is not a JSON event: %q", line)
		}
		for k := range ev {
			fields[k] = true
		}
		kind, _ := ev["kind"].(string)
		kinds[kind]++
		if kind == "step_succeeded" {
			if d, ok := ev["duration_seconds"].(float64); ok && (d <= 0 || d > 600) {
				t.Errorf("duration_seconds %v is not in seconds", d)
			}
		}
		if p, ok := ev["percent"].(float64); ok && (kind != "step_progress" || p < 0 || p > 100) {
			t.Errorf("percent %v on %s", p, kind)
		}
	}
	if kinds["run_started"] != 1 || kinds["run_finished"] != 1 || kinds["step_started"] == 0 || kinds["step_succeeded"] != 17 {
		t.Errorf("kinds: %v", kinds)
	}
	for f := range fields {
		if !strings.Contains(string(doc), "`"+f+"`") {
			t.Errorf("docs/apply-events.md does not document field %s", f)
		}
	}
	// Fields this run does not produce, and every kind, are checked on
	// the Go type and the executor's constants.
	for _, k := range []executor.EventKind{executor.EventRunStarted, executor.EventStepSkipped, executor.EventStepWaiting, executor.EventBudgetWaiting, executor.EventStepStarted,
		executor.EventStepAttached, executor.EventStepProgress, executor.EventStepRetrying, executor.EventStepSucceeded, executor.EventStepFailed, executor.EventStepInterrupted, executor.EventRunFinished, kindProgress, kindStalenessChecked} {
		if !strings.Contains(string(doc), "`"+string(k)+"`") {
			t.Errorf("docs/apply-events.md does not document kind %s", k)
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(applyEvent{}), reflect.TypeOf(progressWindow{})} {
		for i := range typ.NumField() {
			name := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
			if !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/apply-events.md does not document field %s of %s", name, typ.Name())
			}
		}
	}
}

// TestApplyJSONProgress: --json carries progress events as documented:
// one after run_started, one per interval, one before run_finished; the
// counts add up to the plan's steps and end with every step done; eta is
// RFC 3339; each window names its closing time.
func TestApplyJSONProgress(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.05")
	dir := copyExample(t, "quickstart")
	code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve", "--json", "--progress-interval", "100ms")
	if code != 0 {
		t.Fatalf("apply --json: exit %d\n%s", code, errOut)
	}
	var (
		progress []map[string]any
		kinds    []string
		total    int
	)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if ev["kind"] == kindStalenessChecked {
			// The staleness check's own events come as it goes, before
			// run_started too; the run's order is checked without them.
			continue
		}
		kinds = append(kinds, ev["kind"].(string))
		if ev["kind"] == "run_started" {
			fmt.Sscanf(ev["message"].(string), "%d steps", &total)
		}
		if ev["kind"] == "progress" {
			progress = append(progress, ev)
		}
	}
	if len(progress) < 3 {
		t.Fatalf("%d progress events in a run of some seconds at a 100ms interval", len(progress))
	}
	if kinds[1] != "progress" || kinds[len(kinds)-2] != "progress" {
		t.Errorf("progress does not follow run_started and precede run_finished: %v", kinds)
	}
	sawRunning := false
	for _, ev := range progress {
		sum := 0
		for _, k := range []string{"done", "running", "waiting", "failed", "pending"} {
			n, ok := ev[k].(float64)
			if !ok {
				t.Fatalf("progress event without %s: %v", k, ev)
			}
			sum += int(n)
		}
		if sum != total || total == 0 {
			t.Errorf("counts add up to %d, not the plan's %d steps: %v", sum, total, ev)
		}
		if ev["running"].(float64) > 0 {
			sawRunning = true
		}
		if _, err := time.Parse(time.RFC3339, ev["eta"].(string)); err != nil {
			t.Errorf("eta: %v", err)
		}
		ws, _ := ev["windows"].([]any)
		if len(ws) != 1 {
			t.Fatalf("windows: %v", ev["windows"])
		}
		w := ws[0].(map[string]any)
		if w["name"] != "sat-night" || w["state"] != "open" {
			t.Errorf("window: %v", w)
		}
		if _, err := time.Parse(time.RFC3339, w["closes_at"].(string)); err != nil {
			t.Errorf("closes_at: %v", err)
		}
	}
	last := progress[len(progress)-1]
	if int(last["done"].(float64)) != total || last["pending"].(float64) != 0 {
		t.Errorf("the last progress event is not the end of the run: %v", last)
	}
	if !sawRunning {
		t.Error("no progress event saw a running step")
	}
}

// TestApplyWaitsForWriteBudget: against a vault that throttles writes like
// ARM (a bucket of 2, refilled at 4 per second), an apply with the same
// budget paces its writes: every step succeeds, and the waits show as
// budget_waiting events in --json and as lines without it.
func TestApplyWaitsForWriteBudget(t *testing.T) {
	t.Setenv(SimTimeScaleEnv, "0.01")
	t.Setenv(SimThrottleEnv, "2/4")
	for _, asJSON := range []bool{true, false} {
		t.Run(fmt.Sprintf("json=%v", asJSON), func(t *testing.T) {
			dir := copyExample(t, "quickstart")
			args := []string{"apply", dir, "--sim", "--auto-approve", "--azure-write-burst", "2", "--azure-writes-per-second", "4"}
			if asJSON {
				args = append(args, "--json")
			}
			code, out, errOut := runCLI(t, args...)
			if code != 0 || !regexp.MustCompile(`Apply: [1-9][0-9]* succeeded, 0 already done, 0 failed`).MatchString(out+errOut) {
				t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
			}
			waits := 0
			for _, line := range strings.Split(out, "\n") {
				if asJSON && strings.Contains(line, `"kind":"budget_waiting"`) {
					var ev applyEvent
					if err := json.Unmarshal([]byte(line), &ev); err != nil {
						t.Fatal(err)
					}
					if ev.Step == "" || ev.VM == "" || ev.DurationSeconds <= 0 || !strings.Contains(ev.Message, "write budget of subscription") {
						t.Errorf("budget event %s", line)
					}
					waits++
				}
				if !asJSON && strings.Contains(line, "for the write budget of subscription") {
					waits++
				}
			}
			if waits == 0 {
				t.Errorf("no wait for the write budget reported:\n%s", out)
			}
		})
	}
}
