package dag

import (
	"errors"
	"slices"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		vertices []string
		edges    []edge
		want     string // "" means valid
	}{
		{
			name:     "empty",
			vertices: nil,
		},
		{
			name:     "chain",
			vertices: []string{"a", "b", "c"},
			edges:    []edge{{"a", "b"}, {"b", "c"}},
		},
		{
			name:     "self loop",
			vertices: []string{"a", "b"},
			edges:    []edge{{"a", "a"}, {"b", "a"}},
			want:     "cycle: a -> a",
		},
		{
			name:     "two vertices",
			vertices: []string{"a", "b"},
			edges:    []edge{{"b", "a"}, {"a", "b"}},
			want:     "cycle: a -> b -> a",
		},
		{
			name:     "three vertices named from the smallest key",
			vertices: []string{"a", "b", "c"},
			edges:    []edge{{"c", "a"}, {"b", "c"}, {"a", "b"}},
			want:     "cycle: a -> b -> c -> a",
		},
		{
			name:     "two separate cycles in key order",
			vertices: []string{"x", "y", "b", "c", "d"},
			edges:    []edge{{"x", "y"}, {"y", "x"}, {"c", "b"}, {"b", "c"}, {"d", "b"}},
			want:     "cycle: b -> c -> b\ncycle: x -> y -> x",
		},
		{
			name:     "overlapping cycles share one error",
			vertices: []string{"a", "b", "c"},
			edges:    []edge{{"a", "b"}, {"b", "a"}, {"a", "c"}, {"c", "a"}},
			want:     "cycle: a -> b -> a (more cycles also pass through c)",
		},
		{
			name:     "shortest cycle is named",
			vertices: []string{"a", "b", "c", "d"},
			edges:    []edge{{"a", "b"}, {"b", "c"}, {"c", "d"}, {"d", "a"}, {"a", "d"}},
			want:     "cycle: a -> d -> a (more cycles also pass through b, c)",
		},
		{
			name:     "cycle downstream of acyclic part",
			vertices: []string{"root", "p", "q", "r"},
			edges:    []edge{{"p", "root"}, {"q", "p"}, {"r", "q"}, {"p", "r"}},
			want:     "cycle: p -> r -> q -> p",
		},
		{
			name:     "unknown dependency",
			vertices: []string{"a"},
			edges:    []edge{{"a", "ghost"}},
			want:     "edge a -> ghost: unknown vertex ghost",
		},
		{
			name:     "unknown both ends, then cycles",
			vertices: []string{"a", "b"},
			edges:    []edge{{"y", "x"}, {"a", "b"}, {"b", "a"}, {"a", "ghost"}},
			want:     "edge a -> ghost: unknown vertex ghost\nedge y -> x: unknown vertices x, y\ncycle: a -> b -> a",
		},
		{
			name: "step addresses",
			vertices: []string{
				`vm.app["web01"].enable_replication`,
				`vm.app["web01"].test_failover`,
			},
			edges: []edge{
				{`vm.app["web01"].test_failover`, `vm.app["web01"].enable_replication`},
				{`vm.app["web01"].enable_replication`, `vm.app["web01"].test_failover`},
			},
			want: `cycle: vm.app["web01"].enable_replication -> vm.app["web01"].test_failover -> vm.app["web01"].enable_replication`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Rebuild and recheck a few times: map order differs per run,
			// the message must not.
			for range 10 {
				err := build(tt.vertices, tt.edges...).Validate()
				got := ""
				if err != nil {
					got = err.Error()
				}
				if got != tt.want {
					t.Fatalf("Validate() =\n%s\nwant\n%s", got, tt.want)
				}
			}
		})
	}
}

// TestCycleDirection guards the "a -> b" direction (a waits for b).
// Reading it the other way round would send users to fix the wrong edge.
func TestCycleDirection(t *testing.T) {
	t.Parallel()
	g := build([]string{"a", "b", "c"}, edge{"a", "c"}, edge{"c", "b"}, edge{"b", "a"})
	err := g.Validate()
	var ce *CycleError
	if !errors.As(err, &ce) {
		t.Fatalf("Validate() = %v, want a *CycleError", err)
	}
	if want := []string{"a", "c", "b", "a"}; !slices.Equal(ce.Path, want) {
		t.Errorf("Path = %q, want %q", ce.Path, want)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(ce.Members, want) {
		t.Errorf("Members = %q, want %q", ce.Members, want)
	}
}

func TestValidateUnknownIsTyped(t *testing.T) {
	t.Parallel()
	err := build([]string{"b"}, edge{"a", "b"}).Validate()
	var ue *UnknownVertexError
	if !errors.As(err, &ue) {
		t.Fatalf("Validate() = %v, want a *UnknownVertexError", err)
	}
	if ue.Dependent != "a" || ue.Dependency != "b" || !slices.Equal(ue.Missing, []string{"a"}) {
		t.Errorf("got %+v", *ue)
	}
}
