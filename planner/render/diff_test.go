package render_test

import (
	"bytes"
	"strings"
	"testing"

	"cutover/planner"
	"cutover/planner/render"
)

func diffOf(t *testing.T, a, b *planner.Plan) string {
	t.Helper()
	var buf bytes.Buffer
	if err := render.Diff(&buf, a, b); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestDiffIdenticalPlans(t *testing.T) {
	t.Parallel()
	a, b := scenarioPlan(t, "multi-tier-mixed"), scenarioPlan(t, "multi-tier-mixed")
	b.CreatedAt = b.CreatedAt.Add(90 * 60e9) // planned again later: not a difference
	if got := diffOf(t, a, b); !strings.HasPrefix(got, "No differences") {
		t.Errorf("identical plans differ:\n%s", got)
	}
}

func TestDiffGolden(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, old, new string }{
		// A reviewed plan, then some VMs moved on their own: steps drop out.
		{"diff-quickstart-discovered-to-mixed", "quickstart-discovered", "quickstart-mixed"},
		// Settings drift appeared after review: an update step is added.
		{"diff-csv-wave-drift-to-none", "csv-wave-drift", "csv-wave-discovered"},
		// The runbook was edited to complete db01.
		{"diff-quickstart-no-changes-to-commit", "quickstart-no-changes", "quickstart-commit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			golden(t, c.name+".txt", []byte(diffOf(t, scenarioPlan(t, c.old), scenarioPlan(t, c.new))))
		})
	}
}

func TestDiffNamesWhatMoved(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	a := build(t, rb, all(rb, protected))

	// The source was powered off and ASR took a new ETag; the steps are
	// the same except that the shutdown is no longer needed.
	live := all(rb, protected)
	off := protected()
	off.Source.PowerState = "poweredOff"
	off.Item.ETag = "e9"
	live["vm.db01"] = off
	b := build(t, rb, live)
	got := diffOf(t, a, b)
	for _, want := range []string{
		"~ vm.db01\n",
		`live state: power_state "poweredOn" -> "poweredOff"`,
		"- vm.db01.shutdown (disruptive)\n",
		"~ vm.db01.unplanned_failover\n      depends_on: [vm.db01.shutdown] -> [vm.db01.snapshot]\n",
		"summary: ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "vm.app01") {
		t.Errorf("diff mentions an untouched VM:\n%s", got)
	}

	// Input changes are listed key by key.
	c := build(t, rb, all(rb, protected))
	for i := range c.Steps {
		if c.Steps[i].ID == "vm.app01.test_failover" {
			c.Steps[i].Inputs = map[string]string{"network": c.Steps[i].Inputs["network"], "subnet": "other", "extra": "x"}
		}
	}
	got = diffOf(t, a, c)
	for _, want := range []string{
		"~ vm.app01.test_failover\n",
		`inputs.extra: added "x"`,
		`inputs.subnet: "app" -> "other"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
}
