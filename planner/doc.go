// Package planner turns a decoded runbook and the live state read through
// the providers into a plan: a per-VM lifecycle diff, the steps that close
// it and the DAG that orders them.
//
// Build is pure: it takes the runbook and a provider-neutral Live snapshot
// per VM (refresh fills it from vCenter and ASR in bulk) and returns plan
// data. Fingerprints of the live inputs go into the plan so that apply can
// refuse a plan whose world moved.
//
// The planner never prints and never changes the world. Rendering belongs
// to cmd/cutover; encoding plan files belongs to planner/planfile.
package planner
