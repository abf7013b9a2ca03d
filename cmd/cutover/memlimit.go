package main

import (
	"os"
	"runtime/debug"
)

// A plan's memory budget, sized from the runbook before anything is read.
//
// Planning allocates far more than it keeps: each property-collector page
// is decoded from XML and dropped, the schedule is tried at several
// parallelisms, the plan is encoded step by step. With the garbage
// collector's default target (GOGC=100) the heap grows to twice what is
// live at the busiest moment, and the process keeps the pages: 10,000 VMs
// peaked at 230 to 250 MiB resident with about 95 MB live (measured with
// VmHWM and runtime/metrics' /gc/heap/live:bytes). A soft memory limit
// (runtime/debug.SetMemoryLimit, the documented way to give a Go program a
// budget) makes the collector run sooner as the heap nears the budget and
// return freed pages to the system, while GOGC still governs below it, so
// small plans pay nothing. The limit is soft: a plan whose live data
// outgrows it still completes, with the collector running more often
// (the runtime caps that at about half the CPU), never with an
// out-of-memory error of its own.
const (
	// planMemoryBase covers what every plan holds whatever its size: the
	// SDK clients, TLS, the runbook's HCL, the renderers.
	planMemoryBase = 40 << 20
	// planMemoryPerVM is about 1.25 times what one VM keeps live at the
	// peak (the runbook's decoded VM, its live records, its steps and their
	// fingerprints while the plan is rendered and saved): measured at 8 to
	// 9 KB per VM at 10,000 VMs.
	planMemoryPerVM = 10 << 10
)

// limitPlanMemory sets the soft memory limit for planning vms VMs, unless
// GOMEMLIMIT set one already (the user's word wins).
func limitPlanMemory(vms int) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	debug.SetMemoryLimit(planMemoryLimit(vms))
}

// planMemoryLimit is the budget for vms VMs in bytes.
func planMemoryLimit(vms int) int64 {
	return planMemoryBase + int64(vms)*planMemoryPerVM
}
