package render_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cutover/planner"
	"cutover/planner/render"
	"cutover/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// now is the fixed planning time of every test plan.
var now = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func loadExample(t testing.TB, name string) *schema.Runbook {
	t.Helper()
	rb, diags := schema.LoadDir(filepath.Join("..", "..", "examples", name), schema.Options{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return rb
}

func build(t testing.TB, rb *schema.Runbook, live map[string]planner.Live) *planner.Plan {
	t.Helper()
	p, problems := planner.Build(rb, live, planner.Options{Now: now, ToolVersion: "test"})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	// The hash covers the example's comments too; pinning it keeps the
	// golden files about what the renderers do, not about example prose.
	p.RunbookHash = "5e1f0c0ffee0123456789abcdef0123456789abcdef0123456789abcdef01234"
	return p
}

// Live states, in the planner's terms, for the scenarios below.
func source(power string) *planner.LiveSource {
	return &planner.LiveSource{Moref: "vm-1", PowerState: power, Host: "/DC0/host/H0/H0",
		ResourcePool: "/DC0/host/H0/Resources", Datastore: "LocalDS_0", ChangeVersion: "1"}
}

func discovered() planner.Live { return planner.Live{Source: source("poweredOn")} }

func protected() planner.Live {
	return planner.Live{Source: source("poweredOn"), Item: &planner.LiveItem{ProtectionState: "Protected", TestFailoverState: "None",
		AllowedOperations: []string{"TestFailover", "UnplannedFailover"}, ETag: "e1"}}
}

func testing_() planner.Live {
	return planner.Live{Source: source("poweredOn"), Item: &planner.LiveItem{ProtectionState: "Protected", TestFailoverState: "WaitingForCompletion",
		AllowedOperations: []string{"TestFailoverCleanup"}, ETag: "e2"}}
}

func tested() planner.Live {
	return planner.Live{Source: source("poweredOn"), Item: &planner.LiveItem{ProtectionState: "Protected", TestFailoverState: "None", Tested: true,
		AllowedOperations: []string{"TestFailover", "UnplannedFailover"}, ETag: "e3"}}
}

func failedOver() planner.Live {
	return planner.Live{Source: source("poweredOff"), Item: &planner.LiveItem{ProtectionState: "UnplannedFailoverCompleted", TestFailoverState: "None", Tested: true,
		AllowedOperations: []string{"Commit", "CancelFailover"}, ETag: "e4"}}
}

func all(rb *schema.Runbook, l func() planner.Live) map[string]planner.Live {
	out := map[string]planner.Live{}
	for _, vm := range rb.VMs {
		out[vm.Address] = l()
	}
	return out
}

type scenario struct {
	name string // golden file prefix: example-state
	plan func(t testing.TB) *planner.Plan
}

// scenarios covers every example at several live stages: fresh, protected,
// mixed, drifted, finished, past a point of no return and going back.
var scenarios = []scenario{
	{"quickstart-discovered", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "quickstart")
		return build(t, rb, all(rb, discovered))
	}},
	{"quickstart-protected", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "quickstart")
		return build(t, rb, all(rb, protected))
	}},
	{"quickstart-mixed", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "quickstart")
		return build(t, rb, map[string]planner.Live{"vm.app01": tested(), "vm.app02": failedOver(), "vm.db01": testing_()})
	}},
	{"quickstart-no-changes", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "quickstart")
		return build(t, rb, all(rb, failedOver))
	}},
	{"quickstart-commit", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "quickstart")
		for _, vm := range rb.VMs {
			if vm.Address == "vm.db01" {
				vm.Stage = schema.StageCompleted
			}
		}
		return build(t, rb, all(rb, failedOver))
	}},
	{"csv-wave-discovered", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "csv-wave")
		return build(t, rb, all(rb, discovered))
	}},
	{"csv-wave-drift", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "csv-wave")
		live := map[string]planner.Live{}
		for _, vm := range rb.VMs {
			if vm.Stage == schema.StageTested {
				live[vm.Address] = tested()
			} else {
				live[vm.Address] = failedOver()
			}
		}
		drifted := tested()
		drifted.Item.Settings = map[string]string{"name": "wave1-web01", "size": "Standard_D2s_v5", "subnet": "old",
			"resource_group": "/subscriptions/22222222-3333-4444-5555-666666666666/resourceGroups/WAVE1-RG",
			"network":        "/subscriptions/22222222-3333-4444-5555-666666666666/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/hub-vnet",
			"test_network":   "/subscriptions/22222222-3333-4444-5555-666666666666/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/test-vnet",
			"test_subnet":    "test", "license_type": "WindowsServer",
			// The NIC keeps its Azure-assigned address: drift.
			`nic["00:50:56:a1:00:01"].primary`: "true", `nic["00:50:56:a1:00:01"].static_ip`: "",
			`vm_tags["wave"]`: "1", `vm_tags["tier"]`: "web"}
		// Enabled with another disk type, which ASR does not change.
		drifted.Item.EnableOnly = map[string]string{"replication.policy": "24-hour-replication-policy", "replication.disk_type": "Standard_LRS"}
		live[`vm.wave["wave1-web01"]`] = drifted
		return build(t, rb, live)
	}},
	{"multi-tier-discovered", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "multi-tier")
		return build(t, rb, all(rb, discovered))
	}},
	{"multi-tier-mixed", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "multi-tier")
		live := all(rb, protected)
		live["vm.db"] = failedOver()
		live[`vm.app["orders-app01"]`] = tested()
		live[`vm.app["orders-app02"]`] = tested()
		return build(t, rb, live)
	}},
	{"rehearsal-discovered", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "rehearsal")
		return build(t, rb, all(rb, discovered))
	}},
	{"rehearsal-back-from-failover", func(t testing.TB) *planner.Plan {
		rb := loadExample(t, "rehearsal")
		return build(t, rb, all(rb, failedOver))
	}},
}

func scenarioPlan(t testing.TB, name string) *planner.Plan {
	t.Helper()
	for _, s := range scenarios {
		if s.name == name {
			return s.plan(t)
		}
	}
	t.Fatalf("no scenario %q", name)
	return nil
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./planner/render -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended)\n--- got ---\n%s", path, got)
	}
}

var extension = map[string]string{"human": "txt", "markdown": "md", "json": "json", "dot": "dot", "mermaid": "mmd"}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			p := sc.plan(t)
			for _, format := range render.Formats {
				f, err := render.ByName(format, render.HumanOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := f(&buf, p); err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				golden(t, sc.name+"."+extension[format], buf.Bytes())
			}
		})
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestHumanColourOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	p := scenarioPlan(t, "quickstart-commit")
	var plain, colour bytes.Buffer
	if err := render.Human(&plain, p, render.HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := render.Human(&colour, p, render.HumanOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain.Bytes(), []byte("\x1b")) {
		t.Error("plain output holds escape sequences")
	}
	if !bytes.Contains(colour.Bytes(), []byte("\x1b[")) {
		t.Error("colour output holds no escape sequences")
	}
	if stripped := ansi.ReplaceAllString(colour.String(), ""); stripped != plain.String() {
		t.Errorf("colour output, stripped, differs from plain:\n%s", stripped)
	}
	golden(t, "quickstart-commit.human-color.txt", colour.Bytes())
}

func TestHumanSummaryAndUndo(t *testing.T) {
	t.Parallel()
	p := scenarioPlan(t, "multi-tier-discovered")
	var buf bytes.Buffer
	if err := render.Human(&buf, p, render.HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	s := p.Summarize()
	if !strings.Contains(out, "Plan: 5 to replicate, 0 to update, 5 to test, 5 to fail over, 8 disruptive, 0 points of no return.") {
		t.Errorf("summary line missing; summary is %+v", s)
	}
	// Every enable_replication is undone by a disable_replication.
	if !regexp.MustCompile(`disable_replication\s+5 steps, undoing enable_replication`).MatchString(out) {
		t.Error("rollback preview does not count 5 disable_replication steps")
	}
	if strings.Contains(out, "Cannot be undone") {
		t.Error("a plan without points of no return lists some")
	}
	// One block per VM.
	for _, vm := range p.VMs {
		if n := strings.Count(out, "\n  ~ "+vm.Address+" {\n") + strings.Count(out, "\n  + "+vm.Address+" {\n"); n != 1 {
			t.Errorf("%s has %d blocks", vm.Address, n)
		}
	}
}

func TestHumanShowsDriftOldToNew(t *testing.T) {
	t.Parallel()
	p := scenarioPlan(t, "csv-wave-drift")
	var buf bytes.Buffer
	if err := render.Human(&buf, p, render.HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	// Attribute names are padded to the longest in the block.
	for _, want := range []string{
		`~ target\.size +\= "Standard_D2s_v5" -> "Standard_D4s_v5"`,
		`~ target\.subnet +\= "old" -> "web"`,
		`~ target\.nic\["00:50:56:a1:00:01"\]\.static_ip \= "" -> "10\.20\.2\.11"`,
		`~ update_replication \{`,
		"1 to update",
	} {
		if !regexp.MustCompile(want).MatchString(buf.String()) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestNoChanges(t *testing.T) {
	t.Parallel()
	p := scenarioPlan(t, "quickstart-no-changes")
	var h, m, d bytes.Buffer
	if err := render.Human(&h, p, render.HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := render.Markdown(&m, p); err != nil {
		t.Fatal(err)
	}
	if err := render.DOT(&d, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), "No changes. 3 VMs are already at their desired stage.") {
		t.Errorf("human:\n%s", h.String())
	}
	if strings.Contains(m.String(), "```mermaid") || !strings.Contains(m.String(), "**No changes.**") {
		t.Errorf("markdown for an empty plan:\n%s", m.String())
	}
	if strings.Contains(d.String(), "->") {
		t.Errorf("dot for an empty plan has edges:\n%s", d.String())
	}
}

func TestMarkdownCallsOutPointsOfNoReturn(t *testing.T) {
	t.Parallel()
	var with, without bytes.Buffer
	if err := render.Markdown(&with, scenarioPlan(t, "quickstart-commit")); err != nil {
		t.Fatal(err)
	}
	if err := render.Markdown(&without, scenarioPlan(t, "quickstart-discovered")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(with.String(), "> [!CAUTION]\n> This plan passes **2 points of no return**") ||
		!strings.Contains(with.String(), "> - `vm.db01.failover_commit`\n") {
		t.Errorf("no caution for failover_commit:\n%s", with.String())
	}
	if strings.Contains(without.String(), "[!CAUTION]") {
		t.Error("caution without a point of no return")
	}
	md := without.String()
	for _, want := range []string{
		"> [!WARNING]\n> **4 disruptive steps**",
		"#### Window `sat-night`",
		"| VM | stage now → target | size | subnet | window | steps | disruptive steps |",
		"| `vm.db01` | discovered → migrated | `Standard_E4s_v5` |",
		"```mermaid\nflowchart LR\n",
		"<details>\n<summary><code>vm.db01</code>",
		"   - gate: `allowedOperations contains TestFailover`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Count(md, "<details>") != strings.Count(md, "</details>") || strings.Count(md, "<details>") != 3 {
		t.Errorf("want 3 balanced details blocks, got %d open %d closed", strings.Count(md, "<details>"), strings.Count(md, "</details>"))
	}
}

func TestGraphsMarkClasses(t *testing.T) {
	t.Parallel()
	p := scenarioPlan(t, "quickstart-commit")
	var mm, dot bytes.Buffer
	if err := render.Mermaid(&mm, p); err != nil {
		t.Fatal(err)
	}
	if err := render.DOT(&dot, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  class vm_db01_complete_migration,vm_db01_failover_commit no_return\n",
		"  classDef no_return ",
		`vm_db01_failover_commit["vm.db01.failover_commit (no return)"]`,
	} {
		if !strings.Contains(mm.String(), want) {
			t.Errorf("mermaid lacks %q:\n%s", want, mm.String())
		}
	}
	// Nothing in this plan is disruptive without being no-return, so the
	// disruptive class is neither used nor defined.
	if strings.Contains(mm.String(), "classDef disruptive") {
		t.Error("unused classDef emitted")
	}
	if !strings.Contains(dot.String(), `"vm.db01.failover_commit" [label="vm.db01.failover_commit (no return)", class="no_return", style="filled,bold", fillcolor="#f8d7da"`) {
		t.Errorf("dot node not coloured:\n%s", dot.String())
	}
	edges := 0
	for _, s := range p.Steps {
		edges += len(s.DependsOn)
	}
	if got := strings.Count(dot.String(), " -> "); got != edges || got == 0 {
		t.Errorf("dot has %d edges, the plan %d", got, edges)
	}

	mm.Reset()
	if err := render.Mermaid(&mm, scenarioPlan(t, "quickstart-discovered")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mm.String(), "classDef disruptive ") || !strings.Contains(mm.String(), "vm_db01_shutdown") ||
		!regexp.MustCompile(`class [^\n]*vm_db01_shutdown[^\n]* disruptive\n`).MatchString(mm.String()) {
		t.Errorf("disruptive steps not classed:\n%s", mm.String())
	}
}

func TestByName(t *testing.T) {
	t.Parallel()
	p := scenarioPlan(t, "quickstart-mixed")
	direct := map[string]func(io.Writer) error{
		"human":    func(w io.Writer) error { return render.Human(w, p, render.HumanOptions{Color: true}) },
		"markdown": func(w io.Writer) error { return render.Markdown(w, p) },
		"json":     func(w io.Writer) error { return render.JSON(w, p) },
		"dot":      func(w io.Writer) error { return render.DOT(w, p) },
		"mermaid":  func(w io.Writer) error { return render.Mermaid(w, p) },
	}
	if len(render.Formats) != len(direct) {
		t.Fatalf("Formats = %v", render.Formats)
	}
	for _, name := range render.Formats {
		f, err := render.ByName(name, render.HumanOptions{Color: true})
		if err != nil {
			t.Fatal(err)
		}
		var a, b bytes.Buffer
		if err := f(&a, p); err != nil {
			t.Fatal(err)
		}
		if err := direct[name](&b); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Errorf("ByName(%q) renders differently from the direct call", name)
		}
	}
	_, err := render.ByName("yaml", render.HumanOptions{})
	if err == nil || !strings.Contains(err.Error(), "human, markdown, json, dot, mermaid") {
		t.Errorf("unknown format error = %v", err)
	}
}

type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteErrorsAreReturned(t *testing.T) {
	t.Parallel()
	p := scenarioPlan(t, "quickstart-discovered")
	for _, name := range render.Formats {
		f, _ := render.ByName(name, render.HumanOptions{})
		if err := f(failWriter{}, p); !errors.Is(err, errWrite) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if err := render.Diff(failWriter{}, p, p); !errors.Is(err, errWrite) {
		t.Errorf("diff: err = %v", err)
	}
}

// A step whose VM has no VMPlan (a plan file edited by hand, or a model
// change) is still shown: hiding work from a reviewer is worse than an
// odd-looking block.
func TestStepsOfUnknownVMsAreShown(t *testing.T) {
	t.Parallel()
	p := &planner.Plan{Steps: []planner.Step{{ID: "vm.ghost.shutdown", VM: "vm.ghost", Kind: planner.StepShutdown, Disruptive: true}}}
	for _, name := range render.Formats {
		f, _ := render.ByName(name, render.HumanOptions{})
		var buf bytes.Buffer
		if err := f(&buf, p); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "vm.ghost") {
			t.Errorf("%s hides the step:\n%s", name, buf.String())
		}
	}
}

// TestMarkdownGraphsStayWithinMermaidLimits renders plans of many VMs,
// in one window and each in its own, and checks every Mermaid block
// against the limits GitHub's Mermaid keeps (maxEdges 500, maxTextSize
// 50,000): a block past them is an error box in the pull request.
func TestMarkdownGraphsStayWithinMermaidLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		windows   int // 0: no window; n: VMs spread over n windows
		wantGraph bool
	}{
		{"600 VMs, no window", 0, true},
		{"600 VMs in 600 windows", 600, false},
	} {
		p := &planner.Plan{}
		for i := 0; i < 600; i++ {
			vm := fmt.Sprintf("vm.v%04d", i)
			win := ""
			if tc.windows > 0 {
				win = fmt.Sprintf("w%d", i%tc.windows)
				if i < tc.windows {
					p.Windows = append(p.Windows, planner.WindowInfo{Name: win, Schedule: "0 22 * * SAT", Duration: "6h"})
				}
			}
			p.VMs = append(p.VMs, planner.VMPlan{Address: vm, Window: win})
			p.Steps = append(p.Steps,
				planner.Step{ID: vm + ".enable_replication", VM: vm, Kind: planner.StepEnableReplication},
				planner.Step{ID: vm + ".shutdown", VM: vm, Kind: planner.StepShutdown, Disruptive: true, Window: win,
					DependsOn: []string{vm + ".enable_replication"}})
		}
		for _, limit := range []int{0, -1} {
			var buf bytes.Buffer
			if err := render.MarkdownWith(&buf, p, render.MarkdownOptions{MaxBytes: limit}); err != nil {
				t.Fatal(err)
			}
			md := buf.String()
			if limit == 0 && len(md) > render.MarkdownCommentLimit {
				t.Errorf("%s: the comment is %d bytes", tc.name, len(md))
			}
			blocks := mermaidBlocks(md)
			for _, b := range blocks {
				if edges := strings.Count(b, "-->"); edges > 500 || len(b) > 50000 {
					t.Errorf("%s: a mermaid block of %d edges and %d characters", tc.name, edges, len(b))
				}
			}
			graph := strings.Contains(md, "```mermaid\nflowchart")
			if graph != tc.wantGraph {
				t.Errorf("%s (limit %d): flowchart drawn = %v, want %v", tc.name, limit, graph, tc.wantGraph)
			}
			if !graph && limit < 0 && !strings.Contains(md, "more groups than one graph can show") {
				t.Errorf("%s: no graph and no word why", tc.name)
			}
		}
	}
}

// mermaidBlocks returns the bodies of the ```mermaid blocks in md.
func mermaidBlocks(md string) []string {
	var out []string
	for _, part := range strings.Split(md, "```mermaid\n")[1:] {
		out = append(out, part[:strings.Index(part, "```")])
	}
	return out
}
