package dag

import (
	"strings"
	"testing"
)

// steps is a plan-shaped graph whose keys carry quotes, brackets and dots.
func steps() *Graph {
	const (
		db   = `vm.db["sql01"].enable_replication`
		rep  = `vm.app["web01"].enable_replication`
		test = `vm.app["web01"].test_failover`
		fo   = `vm.app["web01"].failover`
		com  = `vm.app["web01"].commit`
	)
	return build([]string{db, rep, test, fo, com},
		edge{rep, db}, edge{test, rep}, edge{fo, test}, edge{com, fo})
}

func stepStyle(key string) Style {
	switch {
	case strings.HasSuffix(key, ".failover"):
		return Style{Label: "fail over web01", Class: "disruptive"}
	case strings.HasSuffix(key, ".commit"):
		return Style{Class: "no-return"}
	}
	return Style{}
}

func TestString(t *testing.T) {
	t.Parallel()
	const want = `vm.app["web01"].commit
  vm.app["web01"].failover
vm.app["web01"].enable_replication
  vm.db["sql01"].enable_replication
vm.app["web01"].failover
  vm.app["web01"].test_failover
vm.app["web01"].test_failover
  vm.app["web01"].enable_replication
vm.db["sql01"].enable_replication
`
	if got := steps().String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
	if got := New().String(); got != "" {
		t.Errorf("empty graph String() = %q", got)
	}
}

func TestDOT(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		g     *Graph
		style StyleFunc
		want  string
	}{
		{
			name:  "steps with style",
			g:     steps(),
			style: stepStyle,
			want: `digraph {
  "vm.app[\"web01\"].commit" [class="no-return"];
  "vm.app[\"web01\"].enable_replication";
  "vm.app[\"web01\"].failover" [label="fail over web01", class="disruptive"];
  "vm.app[\"web01\"].test_failover";
  "vm.db[\"sql01\"].enable_replication";
  "vm.app[\"web01\"].enable_replication" -> "vm.app[\"web01\"].test_failover";
  "vm.app[\"web01\"].failover" -> "vm.app[\"web01\"].commit";
  "vm.app[\"web01\"].test_failover" -> "vm.app[\"web01\"].failover";
  "vm.db[\"sql01\"].enable_replication" -> "vm.app[\"web01\"].enable_replication";
}
`,
		},
		{
			name: "backslashes and newlines cannot break out of a string",
			g:    build([]string{`dir\`, "two\nlines"}, edge{"two\nlines", `dir\`}),
			want: `digraph {
  "dir\\";
  "two\nlines";
  "dir\\" -> "two\nlines";
}
`,
		},
		{name: "empty", g: New(), want: "digraph {\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.g.DOT(tt.style); got != tt.want {
				t.Errorf("DOT() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestMermaid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		g     *Graph
		style StyleFunc
		want  string
	}{
		{
			name:  "steps with style",
			g:     steps(),
			style: stepStyle,
			want: `flowchart TD
  vm_app_web01_commit["vm.app[#quot;web01#quot;].commit"]
  vm_app_web01_enable_replication["vm.app[#quot;web01#quot;].enable_replication"]
  vm_app_web01_failover["fail over web01"]
  vm_app_web01_test_failover["vm.app[#quot;web01#quot;].test_failover"]
  vm_db_sql01_enable_replication["vm.db[#quot;sql01#quot;].enable_replication"]
  vm_app_web01_enable_replication --> vm_app_web01_test_failover
  vm_app_web01_failover --> vm_app_web01_commit
  vm_app_web01_test_failover --> vm_app_web01_failover
  vm_db_sql01_enable_replication --> vm_app_web01_enable_replication
  class vm_app_web01_commit no_return
  class vm_app_web01_failover disruptive
`,
		},
		{
			name: "hostile keys",
			g:    build([]string{"end", "1st", "<b>#x&`", "a.b", "a_b", `"`}, edge{"end", "1st"}),
			want: `flowchart TD
  n_["#quot;"]
  n_1st["1st"]
  b_x["#lt;b#gt;#35;x#amp;#96;"]
  a_b["a.b"]
  a_b_2["a_b"]
  n_end["end"]
  n_1st --> n_end
`,
		},
		{name: "empty", g: New(), want: "flowchart TD\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.g.Mermaid(tt.style); got != tt.want {
				t.Errorf("Mermaid() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestMermaidIDsAreUniqueAndStable(t *testing.T) {
	t.Parallel()
	keys := []string{"a.b", "a_b", "a_b_2", "a-b"}
	g := build(keys)
	ids := mermaidIDs(g.Keys())
	seen := map[string]string{}
	for k, id := range ids {
		if other, dup := seen[id]; dup {
			t.Errorf("%q and %q share id %q", k, other, id)
		}
		seen[id] = k
	}
	// Adding an unrelated key leaves the others' IDs alone.
	g.Add("zzz")
	again := mermaidIDs(g.Keys())
	for _, k := range keys {
		if again[k] != ids[k] {
			t.Errorf("id of %q changed from %q to %q", k, ids[k], again[k])
		}
	}
}
