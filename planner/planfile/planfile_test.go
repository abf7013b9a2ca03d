package planfile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cutover/planner"
	"cutover/planner/planfile"
	"cutover/schema"
)

func quickstartPlan(t testing.TB) (*planner.Plan, *schema.Runbook, map[string]planner.Live) {
	t.Helper()
	rb, diags := schema.LoadDir(filepath.Join("..", "..", "examples", "quickstart"), schema.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	live := map[string]planner.Live{}
	for i, vm := range rb.VMs {
		live[vm.Address] = planner.Live{Source: &planner.LiveSource{Moref: "vm-" + string(rune('1'+i)), PowerState: "poweredOn", Host: "H0", ChangeVersion: "cv1"}}
	}
	p, problems := planner.Build(rb, live, planner.Options{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), ToolVersion: "test"})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return p, rb, live
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	p, _, _ := quickstartPlan(t)
	path := filepath.Join(t.TempDir(), "q.plan")
	if err := planfile.Save(path, p); err != nil {
		t.Fatal(err)
	}
	got, digest, err := planfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := planfile.Encode(p)
	b, _ := planfile.Encode(got)
	if string(a) != string(b) {
		t.Errorf("round trip changed the plan:\n%s\n%s", a, b)
	}
	if len(digest) != 64 || digest != planfile.Digest(a) {
		t.Errorf("digest %q", digest)
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"format_version": 99}`, "format 99 is not supported"},
		{`{"runbook": "x"}`, "no format_version"},
		{`{"format_version": 1, "surprise": true}`, "damaged"},
		{`not json`, "not a cutover plan file: line 1, column 2: invalid character 'o'"},
		{"{\n  \"format_version\": 1,\n  \"runbook\": 70\n}", "damaged: line 3, column 15: json: cannot unmarshal number"},
		{"{\"format_version\": 1,\n\"steps\": [{\"estimate\": \"1ns\"}]}", "damaged: line 2, column 28: json: cannot unmarshal string"},
	}
	for _, tt := range tests {
		if _, err := planfile.Decode([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	p, rb, live := quickstartPlan(t)
	now := p.CreatedAt.Add(time.Hour)
	if err := planfile.Check(p, rb.Hash, now, live); err != nil {
		t.Fatalf("untouched world refused: %v", err)
	}
	var expired *planfile.ExpiredError
	if err := planfile.Check(p, rb.Hash, p.ExpiresAt.Add(time.Second), live); !errors.As(err, &expired) {
		t.Errorf("expired plan: %v", err)
	}
	var other *planfile.RunbookError
	if err := planfile.Check(p, "feedface", now, live); !errors.As(err, &other) {
		t.Errorf("other runbook: %v", err)
	}

	moved := map[string]planner.Live{}
	for k, v := range live {
		moved[k] = v
	}
	src := *live["vm.app02"].Source
	src.PowerState = "poweredOff"
	moved["vm.app02"] = planner.Live{Source: &src}
	err := planfile.Check(p, rb.Hash, now, moved)
	var stale *planfile.StaleError
	if !errors.As(err, &stale) || len(stale.Drifted) != 1 || stale.Drifted[0].VM != "vm.app02" ||
		!strings.Contains(err.Error(), `power_state "poweredOn" -> "poweredOff"`) {
		t.Errorf("stale plan: %v", err)
	}
}

// TestWriteIsTheIndentedEncoding: the streamed plan file is byte for byte
// what encoding/json's indented encoder makes of the whole plan (so digests
// of plans written before streaming still match), with lists full, empty
// and absent, and omitempty fields set and unset.
func TestWriteIsTheIndentedEncoding(t *testing.T) {
	t.Parallel()
	full, _, _ := quickstartPlan(t)
	full.Variables = map[string]string{"wave": "1", "<html>": "a&b"}
	full.RunbookDir = "../runbook"
	full.Simulated = true
	empty := *full
	empty.VMs, empty.Steps, empty.Windows, empty.Variables = []planner.VMPlan{}, nil, nil, nil
	empty.Simulated, empty.RunbookDir = false, ""
	for name, p := range map[string]*planner.Plan{"full": full, "empty lists": &empty} {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(p); err != nil {
				t.Fatal(err)
			}
			got, err := planfile.Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("streamed plan differs from the indented encoding:\n%s", diffLines(string(want.Bytes()), string(got)))
			}
			d, err := planfile.DigestOf(p)
			if err != nil || d != planfile.Digest(want.Bytes()) {
				t.Fatalf("DigestOf %s, %v", d, err)
			}
		})
	}
}

// diffLines shows the first line that differs.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}
