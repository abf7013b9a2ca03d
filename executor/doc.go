// Package executor applies a saved plan: it walks the plan's DAG, calls the
// providers, journals every step transition with the before-images rollback
// needs, resumes interrupted runs, holds the state lock and enforces
// maintenance windows.
//
// The executor never prints; it reports through a hook interface that
// cmd/cutover renders.
package executor
