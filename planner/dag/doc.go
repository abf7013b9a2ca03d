// Package dag is the small directed acyclic graph that orders plan steps.
//
// Vertices are strings (step addresses such as vm.app["web01"].test_failover)
// and an edge is declared with Connect(dependent, dependency): the dependent
// waits for the dependency. The planner builds a Graph, calls Validate, and
// renders it (String, DOT, Mermaid); the executor walks it with Walk, which
// runs each vertex as soon as its dependencies have succeeded, bounded by a
// parallelism limit, and skips the descendants of a failure; a running
// vertex can give its seat up while it waits (Release) and take it back
// (Acquire). Rollback walks Reverse().
//
// The package owns graph structure and traversal only. It must not know what
// a step does, must not print or log, must not read the clock or the
// environment, and must not import other cutover packages: callers attach
// meaning through the function passed to Walk and the Style hook of the
// renderers. Every output (errors, orders, renderings, walk results) is
// deterministic for a given graph so plans can be compared and reviewed.
//
// A Graph is not safe for concurrent mutation. Reads, including a running
// Walk, may proceed concurrently with each other.
package dag
