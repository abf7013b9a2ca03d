// Package planner turns a decoded runbook and the live state read through the
// providers into a plan: a per-VM lifecycle diff, the steps that close it and
// the DAG that orders them.
//
// The planner never prints and never changes the world: it reads through the
// providers and returns data. Rendering belongs to cmd/cutover.
package planner
