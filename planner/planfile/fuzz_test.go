package planfile_test

import (
	"testing"

	"cutover/planner/planfile"
)

// FuzzDecode feeds arbitrary bytes to the plan file reader. It must refuse
// or accept, never panic; a plan it accepts must pass structural
// validation and survive a round trip through Encode unchanged.
// Seeds: a real plan and the committed corpus under
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	p, _, _ := quickstartPlan(f)
	b, err := planfile.Encode(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"format_version":1}`))
	f.Add([]byte(`{"format_version":1,"steps":[{"id":""}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := planfile.Decode(b)
		if err != nil {
			return
		}
		if err := planfile.Validate(p); err != nil {
			t.Fatalf("Decode accepted a plan Validate refuses: %v", err)
		}
		again, err := planfile.Encode(p)
		if err != nil {
			t.Fatalf("Encode of a decoded plan: %v", err)
		}
		p2, err := planfile.Decode(again)
		if err != nil {
			t.Fatalf("re-decoding an encoded plan: %v", err)
		}
		third, _ := planfile.Encode(p2)
		if string(third) != string(again) {
			t.Fatalf("round trip changed the plan:\n%s\n%s", again, third)
		}
	})
}
