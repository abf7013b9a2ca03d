package dag

import (
	"slices"
	"testing"
)

// edge is dependent, dependency.
type edge [2]string

func build(vertices []string, edges ...edge) *Graph {
	g := New()
	for _, v := range vertices {
		g.Add(v)
	}
	for _, e := range edges {
		g.Connect(e[0], e[1])
	}
	return g
}

// diamond: b and c wait for a, d waits for both; e stands alone.
func diamond() *Graph {
	return build([]string{"a", "b", "c", "d", "e"},
		edge{"b", "a"}, edge{"c", "a"}, edge{"d", "b"}, edge{"d", "c"})
}

func TestQueries(t *testing.T) {
	t.Parallel()
	g := diamond()
	g.Connect("d", "b") // repeated edges are kept once
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"keys", g.Keys(), []string{"a", "b", "c", "d", "e"}},
		{"dependencies of d", g.Dependencies("d"), []string{"b", "c"}},
		{"dependencies of a", g.Dependencies("a"), nil},
		{"dependents of a", g.Dependents("a"), []string{"b", "c"}},
		{"dependents of d", g.Dependents("d"), nil},
		{"ancestors of d", g.Ancestors("d"), []string{"a", "b", "c"}},
		{"ancestors of b", g.Ancestors("b"), []string{"a"}},
		{"descendants of a", g.Descendants("a"), []string{"b", "c", "d"}},
		{"descendants of c", g.Descendants("c"), []string{"d"}},
		{"descendants of e", g.Descendants("e"), nil},
		{"unknown key", g.Ancestors("zz"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	if !g.Has("e") || g.Has("zz") || g.Len() != 5 {
		t.Errorf("Has/Len: Has(e)=%v Has(zz)=%v Len=%d", g.Has("e"), g.Has("zz"), g.Len())
	}
}

func TestAncestorsOnCycleIncludeSelf(t *testing.T) {
	t.Parallel()
	g := build([]string{"a", "b", "c"}, edge{"a", "b"}, edge{"b", "a"}, edge{"c", "a"})
	if got, want := g.Ancestors("a"), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("Ancestors(a) = %q, want %q", got, want)
	}
	if got, want := g.Descendants("a"), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Descendants(a) = %q, want %q", got, want)
	}
}

func TestReverse(t *testing.T) {
	t.Parallel()
	g := diamond()
	r := g.Reverse()
	const want = `a
  b
  c
b
  d
c
  d
d
e
`
	if got := r.String(); got != want {
		t.Errorf("Reverse().String() =\n%s\nwant\n%s", got, want)
	}
	if got := r.Reverse().String(); got != g.String() {
		t.Errorf("Reverse twice =\n%s\nwant the original\n%s", got, g.String())
	}
	// The original is untouched.
	if got := g.Dependencies("a"); got != nil {
		t.Errorf("original changed: Dependencies(a) = %q", got)
	}
	order, err := r.TopoSort()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"d", "b", "c", "a", "e"}; !slices.Equal(order, want) {
		t.Errorf("reverse topo order = %q, want %q", order, want)
	}
}

func TestReverseKeepsUnknownEdges(t *testing.T) {
	t.Parallel()
	g := build([]string{"a"}, edge{"a", "ghost"})
	err := g.Reverse().Validate()
	if err == nil || err.Error() != "edge ghost -> a: unknown vertex ghost" {
		t.Errorf("Reverse().Validate() = %v", err)
	}
}
