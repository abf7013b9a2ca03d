package render_test

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"cutover/planner"
	"cutover/planner/render"
)

// motd is a tag as templatefile renders it: many lines, a final newline.
func motd(owner string, extra ...string) string {
	lines := []string{"Welcome to web01.", "", "This host is managed by cutover.", "Do not change it by hand.", "Owner: " + owner,
		"Escalation: #ops-oncall", "Backups: nightly", "Patching: second Tuesday", "Monitoring: yes", "Retention: 30 days"}
	return strings.Join(append(lines, extra...), "\n") + "\n"
}

// multilinePlan is the drifted csv-wave plan with a multi-line tag change
// added to its update step.
func multilinePlan(t testing.TB) *planner.Plan {
	t.Helper()
	p := scenarioPlan(t, "csv-wave-drift")
	for i := range p.Steps {
		if p.Steps[i].Kind == planner.StepUpdateReplication {
			// Only the short attribute names, so that the padding the
			// expected text shows stays put.
			var short []planner.Change
			for _, c := range p.Steps[i].Changes {
				if _, _, nic := planner.ParseNICAttribute(c.Attribute); !nic {
					short = append(short, c)
				}
			}
			p.Steps[i].Changes = append(short, planner.Change{
				Attribute: "target.vm_tags.motd",
				Old:       motd("team-a"),
				New:       motd("team-b", "Decommission: 2027-01-01"),
			})
			return p
		}
	}
	t.Fatal("no update step")
	return nil
}

func TestMultilineChangeIsALineDiff(t *testing.T) {
	t.Parallel()
	p := multilinePlan(t)
	var h, c, m bytes.Buffer
	if err := render.Human(&h, p, render.HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := render.Human(&c, p, render.HumanOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if err := render.Markdown(&m, p); err != nil {
		t.Fatal(err)
	}
	golden(t, "multiline-change.txt", h.Bytes())
	golden(t, "multiline-change.md", m.Bytes())

	// The changed line is shown once on each side with three lines of
	// context; the unchanged head of the value is counted, not repeated.
	// The first line is more than three lines from the change; the five
	// unchanged lines between the two changes are fewer than 2*3+1, so
	// both changes share one run of context.
	wantHuman := "         ~ target.vm_tags.motd = <<-EOT\n" +
		"                # (1 unchanged line hidden)\n" +
		"\n" +
		"                This host is managed by cutover.\n" +
		"                Do not change it by hand.\n" +
		"              - Owner: team-a\n" +
		"              + Owner: team-b\n" +
		"                Escalation: #ops-oncall\n" +
		"                Backups: nightly\n" +
		"                Patching: second Tuesday\n" +
		"                Monitoring: yes\n" +
		"                Retention: 30 days\n" +
		"              + Decommission: 2027-01-01\n" +
		"            EOT\n"
	if !strings.Contains(h.String(), wantHuman) {
		t.Errorf("human rendering lacks the line diff:\n%s", h.String())
	}
	if strings.Contains(h.String(), strconv.Quote(motd("team-a"))) || strings.Contains(h.String(), `\n`) {
		t.Error("human rendering still shows the values as quoted blobs")
	}
	if ansi.ReplaceAllString(c.String(), "") != h.String() {
		t.Error("coloured multi-line diff, stripped, differs from plain")
	}
	if !strings.Contains(c.String(), "\x1b[31m-\x1b[0m Owner: team-a") || !strings.Contains(c.String(), "\x1b[32m+\x1b[0m Owner: team-b") {
		t.Error("removed and added lines are not coloured")
	}

	wantMD := "     - `target.vm_tags.motd`:\n" +
		"       ```diff\n" +
		"       @@ 1 unchanged line hidden @@\n" +
		"        \n" +
		"        This host is managed by cutover.\n" +
		"        Do not change it by hand.\n" +
		"       -Owner: team-a\n" +
		"       +Owner: team-b\n"
	if !strings.Contains(m.String(), wantMD) || !strings.Contains(m.String(), "       +Decommission: 2027-01-01\n       ```\n") {
		t.Errorf("markdown lacks the diff block:\n%s", m.String())
	}
	// Single-line changes keep their one-line form.
	if !regexp.MustCompile(`~ target\.size +?= "Standard_D2s_v5" -> "Standard_D4s_v5"\n`).MatchString(h.String()) ||
		!strings.Contains(m.String(), "     - `target.size`: `Standard_D2s_v5` → `Standard_D4s_v5`\n") {
		t.Error("single-line changes changed form")
	}
}

// A value with a run of backticks cannot close the Markdown fence early.
func TestMultilineChangeFenceOutlastsBackticks(t *testing.T) {
	t.Parallel()
	p := &planner.Plan{
		VMs: []planner.VMPlan{{Address: "vm.a"}},
		Steps: []planner.Step{{ID: "vm.a.update_replication", VM: "vm.a", Kind: planner.StepUpdateReplication,
			Changes: []planner.Change{{Attribute: "target.vm_tags.doc", Old: "a\n```\nb", New: "a\n````\nb"}}}},
	}
	var m bytes.Buffer
	if err := render.Markdown(&m, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.String(), "       `````diff\n        a\n       -```\n       +````\n        b\n       `````\n") {
		t.Errorf("fence:\n%s", m.String())
	}
}

// applyUnified applies the unified diff in patch to old, checking every
// context and removed line, so that a test proves the hunk headers and
// lines are what patch(1) would need.
func applyUnified(t *testing.T, old []string, patch string) []string {
	t.Helper()
	header := regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$`)
	lines := strings.Split(strings.TrimSuffix(patch, "\n"), "\n")
	if len(lines) < 3 || lines[0] != "--- reviewed plan" || lines[1] != "+++ new plan" {
		t.Fatalf("no unified diff header:\n%s", patch)
	}
	var out []string
	at := 0 // next line of old to copy
	for i := 2; i < len(lines); {
		h := header.FindStringSubmatch(lines[i])
		if h == nil {
			t.Fatalf("line %d is not a hunk header: %q", i, lines[i])
		}
		num := func(s string, def int) int {
			if s == "" {
				return def
			}
			n, _ := strconv.Atoi(s)
			return n
		}
		oldStart, oldN := num(h[1], 0), num(h[2], 1)
		newStart, newN := num(h[3], 0), num(h[4], 1)
		from := oldStart - 1
		if oldN == 0 {
			from = oldStart
		}
		if from < at {
			t.Fatalf("hunk %q overlaps the one before", lines[i])
		}
		out = append(out, old[at:from]...)
		at = from
		if want := newStart - 1; newN > 0 && len(out) != want {
			t.Errorf("hunk %q: the new side starts at line %d, not %d", lines[i], len(out)+1, newStart)
		}
		gotOld, gotNew := 0, 0
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "@@"); i++ {
			l := lines[i]
			switch l[0] {
			case ' ', '-':
				if at >= len(old) || old[at] != l[1:] {
					t.Fatalf("line %q does not match the old text at %d", l, at+1)
				}
				at++
				gotOld++
				if l[0] == ' ' {
					out = append(out, l[1:])
					gotNew++
				}
			case '+':
				out = append(out, l[1:])
				gotNew++
			default:
				t.Fatalf("bad diff line %q", l)
			}
		}
		if gotOld != oldN || gotNew != newN {
			t.Errorf("hunk %q holds %d old and %d new lines", h[0], gotOld, gotNew)
		}
	}
	return append(out, old[at:]...)
}

// untimed is a human rendering as Diff compares it.
func untimed(t *testing.T, p *planner.Plan) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := render.Human(&buf, p, render.HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if !strings.HasPrefix(lines[1], "Planned ") {
		t.Fatalf("line 2 is %q", lines[1])
	}
	return append(lines[:1], lines[2:]...)
}

func TestDiffEndsWithAUnifiedDiff(t *testing.T) {
	t.Parallel()
	scenarios := func(a, b string) func(t testing.TB) (*planner.Plan, *planner.Plan) {
		return func(t testing.TB) (*planner.Plan, *planner.Plan) { return scenarioPlan(t, a), scenarioPlan(t, b) }
	}
	for _, c := range []struct {
		name  string
		plans func(t testing.TB) (*planner.Plan, *planner.Plan)
	}{
		{"quickstart-discovered-to-mixed", scenarios("quickstart-discovered", "quickstart-mixed")},
		{"csv-wave-drift-to-discovered", scenarios("csv-wave-drift", "csv-wave-discovered")},
		{"quickstart-no-changes-to-commit", scenarios("quickstart-no-changes", "quickstart-commit")},
		{"multi-tier-discovered-to-mixed", scenarios("multi-tier-discovered", "multi-tier-mixed")},
		{"rehearsal-discovered-to-back-from-failover", scenarios("rehearsal-discovered", "rehearsal-back-from-failover")},
		// Every block of a large plan changes: one diff over all lines
		// took seconds here and minutes at 5,000 VMs; VM by VM it is quick.
		{"1000-vms-all-moved", func(t testing.TB) (*planner.Plan, *planner.Plan) {
			a, b := wavePlan(t, 1000), wavePlan(t, 1000)
			for i := range b.Steps {
				b.Steps[i].Gate += " (again)"
			}
			return a, b
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, b := c.plans(t)
			b.CreatedAt = b.CreatedAt.Add(36e11) // planned an hour later
			b.ExpiresAt = b.ExpiresAt.Add(36e11)
			got := diffOf(t, a, b)
			const intro = "\nThe human renderings, line by line (planning times left out):\n\n"
			i := strings.Index(got, intro)
			if i < 0 || !strings.HasPrefix(got, "Changes since the reviewed plan:\n") {
				t.Fatalf("no structural summary followed by a line diff:\n%s", got)
			}
			patch := got[i+len(intro):]
			if strings.Contains(patch, "\x1b") || strings.Contains(patch, "Planned ") {
				t.Error("the line diff holds colour or planning times")
			}
			old, new := untimed(t, a), untimed(t, b)
			if applied := applyUnified(t, old, patch); strings.Join(applied, "\n") != strings.Join(new, "\n") {
				t.Errorf("the diff applied to the old rendering does not give the new one:\n%s", patch)
			}
			// Three lines of context: a hunk opens with three unchanged
			// lines unless it starts at the top.
			for _, hunk := range strings.Split(patch, "\n@@ ")[1:] {
				body := strings.SplitN(hunk, "\n", 5)
				if strings.HasPrefix(hunk, "-1,") || strings.HasPrefix(hunk, "-1 ") {
					continue
				}
				for _, l := range body[1:4] {
					if !strings.HasPrefix(l, " ") {
						t.Errorf("hunk @@ %s opens with fewer than 3 context lines", body[0])
					}
				}
			}
		})
	}
}

func TestDiffOfReplannedPlanHasNoLineDiff(t *testing.T) {
	t.Parallel()
	a, b := multilinePlan(t), multilinePlan(t)
	b.CreatedAt = b.CreatedAt.Add(36e11)
	b.ExpiresAt = b.ExpiresAt.Add(36e11)
	if got := diffOf(t, a, b); got != "No differences: the new plan does what the reviewed plan does, from the same live state.\n" {
		t.Errorf("the same plan made an hour later differs:\n%s", got)
	}
}

// A multi-line value that changed between two plans shows in both parts
// of the diff: as one field in the summary and line by line after it.
func TestDiffShowsMultilineValueChange(t *testing.T) {
	t.Parallel()
	a, b := multilinePlan(t), multilinePlan(t)
	for i := range b.Steps {
		for j := range b.Steps[i].Changes {
			if c := &b.Steps[i].Changes[j]; c.Attribute == "target.vm_tags.motd" {
				c.New = strings.Replace(c.New, "Backups: nightly", "Backups: hourly", 1)
			}
		}
	}
	got := diffOf(t, a, b)
	for _, want := range []string{
		"  ~ vm.wave[\"wave1-web01\"].update_replication\n      changes: ",
		"@@ -",
		// The value's own diff gains a removed and an added line.
		"-                Backups: nightly\n+              - Backups: nightly\n+              + Backups: hourly\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n@@ "); n != 1 {
		t.Errorf("%d hunks, want 1:\n%s", n, got)
	}
}
