package planner

// Known reports whether k is a step kind this build plans and executes;
// a plan file naming any other kind was not written by the planner.
func (k StepKind) Known() bool {
	_, ok := kinds[k]
	return ok
}

// Disruptive reports whether every step of kind k touches a running
// workload and so waits for its window. Some other kinds (a relocation of
// a powered-on VM) are disruptive only in some plans.
func (k StepKind) Disruptive() bool { return kinds[k].disruptive }
