package dag

import (
	"slices"
	"testing"
)

func TestTopoSort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		vertices []string
		edges    []edge
		want     []string
		wantErr  string
	}{
		{name: "empty", want: []string{}},
		{
			name:     "independent vertices in key order",
			vertices: []string{"c", "a", "b"},
			want:     []string{"a", "b", "c"},
		},
		{
			name:     "dependency before dependent despite key order",
			vertices: []string{"a", "b", "c"},
			edges:    []edge{{"a", "c"}, {"b", "a"}},
			want:     []string{"c", "a", "b"},
		},
		{
			name:     "diamond with a loose vertex",
			vertices: []string{"a", "b", "c", "d", "e"},
			edges:    []edge{{"b", "a"}, {"c", "a"}, {"d", "b"}, {"d", "c"}},
			want:     []string{"a", "b", "c", "d", "e"},
		},
		{
			name:     "ties broken by key at every step",
			vertices: []string{"z", "y", "m", "b"},
			edges:    []edge{{"b", "z"}, {"m", "y"}},
			want:     []string{"y", "m", "z", "b"},
		},
		{
			name: "steps of two VMs",
			vertices: []string{
				`vm.app["web02"].enable_replication`,
				`vm.app["web01"].test_failover`,
				`vm.app["web01"].enable_replication`,
				`vm.db["sql01"].enable_replication`,
			},
			edges: []edge{
				{`vm.app["web01"].test_failover`, `vm.app["web01"].enable_replication`},
				{`vm.app["web01"].enable_replication`, `vm.db["sql01"].enable_replication`},
				{`vm.app["web02"].enable_replication`, `vm.db["sql01"].enable_replication`},
			},
			want: []string{
				`vm.db["sql01"].enable_replication`,
				`vm.app["web01"].enable_replication`,
				`vm.app["web01"].test_failover`,
				`vm.app["web02"].enable_replication`,
			},
		},
		{
			name:     "cycle",
			vertices: []string{"a", "b"},
			edges:    []edge{{"a", "b"}, {"b", "a"}},
			wantErr:  "cycle: a -> b -> a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for range 10 {
				got, err := build(tt.vertices, tt.edges...).TopoSort()
				if tt.wantErr != "" {
					if err == nil || err.Error() != tt.wantErr {
						t.Fatalf("err = %v, want %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("TopoSort() = %q, want %q", got, tt.want)
				}
			}
		})
	}
}
