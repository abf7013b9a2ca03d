package render_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"cutover/planner"
	"cutover/planner/render"
	"cutover/schema"
)

// waveRunbook is a wave of n VMs (a multiple of 100) from a generated set: half of them, in
// window "night", go all the way to completed (two points of no return
// each), the other half, in window "weekend", to migrated.
const waveRunbook = `
runbook { name = "big-wave" }

locals {
  # range() makes at most 1,024 values: hundreds times a hundred.
  names = toset(flatten([for hi in range(%d) : [for lo in range(100) : format("app%%05d", hi * 100 + lo)]]))
}

vcenter "dc1" {
  url      = "https://vc01.corp.example/sdk"
  username = "svc"
  password = "x"
}

azure "migrate" {
  subscription_id = "11111111-2222-3333-4444-555555555555"
  vault           = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
  appliance       = "appliance-01"
}

window "night" {
  schedule = "0 22 * * SAT"
  duration = "6h"
}

window "weekend" {
  schedule = "0 20 * * FRI"
  duration = "48h"
  timezone = "America/New_York"
}

defaults {
  replication {
    policy              = "24-hour-replication-policy"
    disk_type           = "Standard_LRS"
    log_storage_account = "logs"
  }
  target {
    resource_group = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/app-prod"
    network        = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/prod-vnet"
    subnet         = "app"
    test_network   = "test-vnet"
  }
}

vm "wave" {
  for_each = local.names

  stage  = tonumber(substr(each.key, 3, 5)) %% 2 == 0 ? "completed" : "migrated"
  window = tonumber(substr(each.key, 3, 5)) %% 2 == 0 ? window.night : window.weekend
  target {
    size = "Standard_D2s_v5"
  }
}
`

// wavePlan plans n VMs, a tenth of them already protected, the rest just
// discovered.
func wavePlan(t testing.TB, n int) *planner.Plan {
	t.Helper()
	rb, diags := schema.LoadSources(t.TempDir(), map[string][]byte{"main.hcl": fmt.Appendf(nil, waveRunbook, n/100)}, schema.Options{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(rb.VMs) != n {
		t.Fatalf("the runbook has %d VMs, want %d", len(rb.VMs), n)
	}
	live := map[string]planner.Live{}
	for i, vm := range rb.VMs {
		if i%10 == 0 {
			live[vm.Address] = protected()
		} else {
			live[vm.Address] = discovered()
		}
	}
	return build(t, rb, live)
}

func markdownOf(t testing.TB, p *planner.Plan, opts render.MarkdownOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := render.MarkdownWith(&buf, p, opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestMarkdownLargePlanFitsInAComment(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1000, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			p := wavePlan(t, n)
			var buf bytes.Buffer
			if err := render.Markdown(&buf, p); err != nil {
				t.Fatal(err)
			}
			md := buf.String()
			t.Logf("%d VMs, %d steps: %d bytes, %d characters of Markdown", n, len(p.Steps), len(md), len([]rune(md)))
			if len(md) > render.MarkdownCommentLimit {
				t.Fatalf("%d bytes, over the %d limit", len(md), render.MarkdownCommentLimit)
			}
			s := p.Summarize()
			for _, want := range []string{
				"### cutover plan: `big-wave`\n",
				fmt.Sprintf("> [!CAUTION]\n> This plan passes **%d points of no return**.", s.NoReturn),
				fmt.Sprintf("> [!WARNING]\n> **%d disruptive steps** stop or move running workloads; they run only inside windows `night`, `weekend`.", s.Disruptive),
				"| | count |\n| --- | ---: |\n",
				fmt.Sprintf("| VMs changing | %d |\n", n),
				fmt.Sprintf("| points of no return | %d |\n", s.NoReturn),
				fmt.Sprintf("**Plan:** %d to replicate,", s.Replicate),
				// The notice: what is left out, and how to see it all.
				fmt.Sprintf("> [!NOTE]\n> This plan, %d VMs and %d steps, is too large for one pull-request comment.", n, len(p.Steps)),
				"> - each VM's steps with their inputs and gates;\n",
				"`cutover show PLAN --format markdown > plan.md`",
				"`cutover show PLAN --format json`",
				// Each window is still there, as counts.
				"#### Window `night`\n\nOpens `0 22 * * SAT` for `6h`.\n\n| stage now → target | VMs | steps | disruptive steps | points of no return |\n",
				"#### Window `weekend`\n",
				"#### To undo this\n",
			} {
				if !strings.Contains(md, want) {
					t.Errorf("the comment lacks %q", want)
				}
			}
			for _, gone := range []string{"<details>", "#### Steps per VM", "```mermaid", "| VM | stage now → target |"} {
				if strings.Contains(md, gone) {
					t.Errorf("the summarised comment still holds %q", gone)
				}
			}
			// The window counts add up to the plan.
			night, weekend := (n+1)/2, n/2
			if !strings.Contains(md, fmt.Sprintf("| discovered → completed | %d |", night-night/5)) ||
				!strings.Contains(md, fmt.Sprintf("| protected → completed | %d |", night/5)) ||
				!strings.Contains(md, fmt.Sprintf("| discovered → migrated | %d |", weekend)) {
				t.Errorf("window counts do not add up:\n%s", md)
			}
			// Long lists are cut, and say so.
			if got := strings.Count(md, "> - `vm.wave["); got != 20 {
				t.Errorf("the caution lists %d steps, want the first 20", got)
			}
			if !strings.Contains(md, fmt.Sprintf("> - and %d more, left out of this comment\n", s.NoReturn-20)) {
				t.Error("the caution does not say how many steps it left out")
			}
		})
	}
}

// Without a bound the same plan renders in full: that is what the notice
// tells the reader to run.
func TestMarkdownWithoutLimitIsComplete(t *testing.T) {
	t.Parallel()
	p := wavePlan(t, 1000)
	md := markdownOf(t, p, render.MarkdownOptions{MaxBytes: -1})
	if strings.Contains(md, "[!NOTE]") || strings.Count(md, "<details>") != 1000 || strings.Count(md, "| `vm.wave[") != 1000 {
		t.Errorf("an unbounded rendering was summarised (%d bytes, %d details)", len(md), strings.Count(md, "<details>"))
	}
}

// Each level leaves out only what it must: a budget a little under a
// plan's full size drops the <details> first and keeps the window rows and
// the graph.
func TestMarkdownDegradesInOrder(t *testing.T) {
	t.Parallel()
	p := scenarioPlan(t, "quickstart-discovered")
	full := markdownOf(t, p, render.MarkdownOptions{MaxBytes: -1})
	if markdownOf(t, p, render.MarkdownOptions{}) != full {
		t.Fatal("a small plan is rendered differently under the default limit")
	}
	if markdownOf(t, p, render.MarkdownOptions{MaxBytes: len(full)}) != full {
		t.Fatal("a plan exactly at its budget was summarised")
	}
	details := full[strings.Index(full, "#### Steps per VM"):]

	// 1. Details go first.
	md := markdownOf(t, p, render.MarkdownOptions{MaxBytes: len(full) - len(details) + 1200})
	if strings.Contains(md, "<details>") || !strings.Contains(md, "| `vm.db01` | discovered → migrated |") || !strings.Contains(md, "```mermaid") {
		t.Errorf("level 1 should drop only the details:\n%s", md)
	}
	if !strings.Contains(md, "> - each VM's steps with their inputs and gates;\n>\n") {
		t.Errorf("level 1 notice:\n%s", md)
	}

	// 2. Then the per-VM rows, keeping the graph, on a wave, where the
	// rows are what makes the comment long: the largest rendering without
	// them still has the graph, and names the disruptive VMs instead.
	w := wavePlan(t, 100)
	wmd := markdownOf(t, w, render.MarkdownOptions{MaxBytes: -1})
	wmd = markdownOf(t, w, render.MarkdownOptions{MaxBytes: strings.Index(wmd, "#### Steps per VM") + 1200})
	if strings.Contains(wmd, "<details>") || !strings.Contains(wmd, "| `vm.wave[") {
		t.Fatalf("level 1 of the wave:\n%s", wmd)
	}
	for b := len(wmd) - 100; b > 0 && strings.Contains(wmd, "| `vm.wave["); b -= 100 {
		wmd = markdownOf(t, w, render.MarkdownOptions{MaxBytes: b})
	}
	if !strings.Contains(wmd, "| discovered → completed | 40 |") || !strings.Contains(wmd, "```mermaid\nflowchart LR\n") ||
		!strings.Contains(wmd, "#### VMs with disruptive steps") {
		t.Errorf("level 2 should count the window's VMs, name the disruptive ones and keep the graph:\n%s", wmd)
	}
	if !strings.Contains(wmd, "> - the window tables' row per VM: each window counts its VMs by stage change instead;\n") {
		t.Errorf("level 2 notice:\n%s", wmd)
	}

	// 3. Then the graph.
	md = markdownOf(t, p, render.MarkdownOptions{MaxBytes: 3100})
	if strings.Contains(md, "#### Graph") || !strings.Contains(md, "> - the graph and the timeline charts;\n") || !strings.Contains(md, "| discovered → migrated | 3 |") {
		t.Errorf("level 3 should drop the graph:\n%s", md)
	}
	if len(md) > 3100 {
		t.Errorf("level 3 is %d bytes", len(md))
	}

	// Last, a budget nothing fits still gets the counts and the notice.
	md = markdownOf(t, p, render.MarkdownOptions{MaxBytes: 10})
	if !strings.Contains(md, "| steps | 17 |") || !strings.Contains(md, "> - the lists of points of no return and of windows, and the window tables;") ||
		strings.Contains(md, "#### Window") {
		t.Errorf("minimal rendering:\n%s", md)
	}
}

// An unchanged plan of many VMs is summarised too: its window tables are
// all it has.
func TestMarkdownLargeUnchangedPlan(t *testing.T) {
	t.Parallel()
	p := wavePlan(t, 1000)
	p.Steps = nil
	md := markdownOf(t, p, render.MarkdownOptions{})
	if len(md) > render.MarkdownCommentLimit || !strings.Contains(md, "**No changes.** 1000 VMs are already at their desired stage.") ||
		!strings.Contains(md, "| discovered → completed | 400 | 0 | 0 | 0 |") {
		t.Errorf("%d bytes:\n%s", len(md), md)
	}
	// Nothing about steps was left out of a plan without any.
	if strings.Contains(md, "step graph") || strings.Contains(md, "each VM's steps") || !strings.Contains(md, "> - the window tables' row per VM") {
		t.Errorf("notice:\n%s", md)
	}
}
