// Package planner turns a decoded runbook and the live state read through
// the providers into a plan: a per-VM lifecycle diff, the steps that close
// it and the DAG that orders them.
//
// Build is pure: it takes the runbook and a provider-neutral Live snapshot
// per VM (refresh fills it from vCenter and ASR in bulk) and returns plan
// data. Fingerprints of the live inputs go into the plan so that apply can
// refuse a plan whose world moved.
//
// Schedule places the steps on a timeline (a list schedule of the DAG at
// the run's parallelism) and measures each window's disruptive part
// against its close. Inventory reads the same bulk discoveries as refresh
// and proposes the rows cutover import writes; writing them is schema's.
//
// The planner never prints and never changes the world. Rendering belongs
// to cmd/cutover; encoding plan files belongs to planner/planfile.
package planner
