package render_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"cutover/planner"
	"cutover/planner/render"
)

// expandNames reads back the compacted VM names of a rendering:
// vm.wave["app00001" … "app00099", "db"] names 99 + 1 VMs.
func expandNames(text string) map[string]bool {
	out := map[string]bool{}
	for _, m := range regexp.MustCompile("`(vm\\.[A-Za-z0-9_-]+)(\\[[^`]*\\])?`").FindAllStringSubmatch(text, -1) {
		if m[2] == "" {
			out[m[1]] = true
			continue
		}
		for _, part := range strings.Split(m[2][1:len(m[2])-1], ", ") {
			a, b, isRun := strings.Cut(part, " … ")
			if !isRun {
				out[m[1]+"["+a+"]"] = true
				continue
			}
			num := regexp.MustCompile(`^(.*?)(\d+)("?)$`)
			ma, mb := num.FindStringSubmatch(a), num.FindStringSubmatch(b)
			lo, _ := strconv.Atoi(ma[2])
			hi, _ := strconv.Atoi(mb[2])
			for i := lo; i <= hi; i++ {
				out[fmt.Sprintf("%s[%s%0*d%s]", m[1], ma[1], len(ma[2]), i, ma[3])] = true
			}
		}
	}
	return out
}

// TestCommentNamesEveryDisruptiveVM: however large the plan, the comment
// stays within GitHub's limit and still names each VM that has a
// disruptive step or a point of no return.
func TestCommentNamesEveryDisruptiveVM(t *testing.T) {
	t.Parallel()
	for _, n := range []int{100, 1000} {
		p := wavePlan(t, n)
		md := markdownOf(t, p, render.MarkdownOptions{})
		if c := utf8.RuneCountInString(md); c > 65536 || len(md) > render.MarkdownCommentLimit {
			t.Errorf("%d VMs: the comment is %d characters", n, c)
		}
		section := md
		if i := strings.Index(md, "#### VMs with disruptive steps"); i >= 0 {
			section = md[i:]
			section = section[:strings.Index(section, "\n#### ")+1]
		}
		named := expandNames(section)
		want := 0
		for _, vm := range p.VMs {
			disruptive := false
			for _, s := range p.Steps {
				if s.VM == vm.Address && (s.Disruptive || s.NoReturn) {
					disruptive = true
				}
			}
			if !disruptive {
				continue
			}
			want++
			if !named[vm.Address] {
				t.Errorf("%d VMs: the comment does not name %s", n, vm.Address)
				break
			}
		}
		if want < n/2 {
			t.Fatalf("%d VMs: only %d disruptive; the sample is wrong", n, want)
		}
	}
}

// TestTimelineSpillInEveryForm: a window too short for its wave is
// reported, with the VMs that spill over, in the human, Markdown and JSON
// forms.
func TestTimelineSpillInEveryForm(t *testing.T) {
	t.Parallel()
	p := wavePlan(t, 100)
	p.Schedule(planner.ScheduleOptions{Parallelism: 2})
	var night planner.WindowTimeline
	for _, w := range p.Timeline.Windows {
		if w.Name == "night" {
			night = w
		}
	}
	if night.Fits() || len(night.Spill) == 0 || night.FitVMs+len(night.Spill) != night.VMs {
		t.Fatalf("night at parallelism 2: %+v", night)
	}
	var human, js strings.Builder
	if err := render.Human(&human, p, render.HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := render.JSON(&js, p); err != nil {
		t.Fatal(err)
	}
	md := markdownOf(t, p, render.MarkdownOptions{})
	for form, text := range map[string]string{"human": human.String(), "markdown": md} {
		if !strings.Contains(text, "DOES NOT FIT") && !strings.Contains(text, "**no**") {
			t.Errorf("%s: no verdict", form)
		}
		if !strings.Contains(text, fmt.Sprintf("%d of %d VMs spill over", len(night.Spill), night.VMs)) {
			t.Errorf("%s: no count of spilling VMs", form)
		}
		if !strings.Contains(text, fmt.Sprintf("parallelism %d", night.FitParallelism)) || !strings.Contains(text, fmt.Sprintf("the first %d VMs fit", night.FitVMs)) {
			t.Errorf("%s: no remedy", form)
		}
	}
	// Markdown names every spilling VM, compacted.
	caution := md[strings.Index(md, "closes before its disruptive steps end"):]
	caution = caution[:strings.Index(caution, "\n\n")]
	named := expandNames(caution)
	for _, vm := range night.Spill {
		if !named[vm] {
			t.Errorf("markdown does not name %s as spilling", vm)
		}
	}
	if !strings.Contains(js.String(), `"spill": [`+"\n") || !strings.Contains(js.String(), `"fits": false`) {
		t.Errorf("json lacks the spill")
	}
}
