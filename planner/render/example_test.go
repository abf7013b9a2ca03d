package render_test

import (
	"os"
	"time"

	"cutover/planner"
	"cutover/planner/render"
)

// A plan for one VM whose replication is running: test it, then stop here.
func ExampleHuman() {
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	p := &planner.Plan{
		FormatVersion: planner.FormatVersion, ToolVersion: "dev", Runbook: "demo", RunbookHash: "0123456789abcdef",
		CreatedAt: at, ExpiresAt: at.Add(7 * 24 * time.Hour),
		VMs: []planner.VMPlan{{Address: "vm.web01", Live: planner.LiveProtected, Desired: "tested", TargetName: "web01", Size: "Standard_D2s_v5"}},
		Steps: []planner.Step{
			{ID: "vm.web01.test_failover", VM: "vm.web01", Kind: planner.StepTestFailover,
				Inputs: map[string]string{"subnet": "test"}, Inverse: planner.StepTestCleanup},
			{ID: "vm.web01.test_failover_cleanup", VM: "vm.web01", Kind: planner.StepTestCleanup,
				DependsOn: []string{"vm.web01.test_failover"}},
		},
	}
	// The CLI passes Color: true only when stdout is a terminal.
	_ = render.Human(os.Stdout, p, render.HumanOptions{Color: false})
	// Output:
	// Runbook "demo" (hash 0123456789ab)
	// Planned 2026-03-14T09:00:00Z by cutover dev; applicable until 2026-03-21T09:00:00Z.
	//
	// Steps are marked with these symbols:
	//    + create
	//    ~ update in place
	//    - remove or cancel
	//    > run
	//    ! disruptive: stops or moves a running workload, only inside its window
	//   !! point of no return: cannot be undone once applied
	//
	// cutover will perform the following actions:
	//
	//   # vm.web01 goes from protected to tested
	//   ~ vm.web01 {
	//         target_name = "web01"
	//         size        = "Standard_D2s_v5"
	//       ~ stage       = "protected" -> "tested"
	//
	//       > test_failover {
	//             subnet = "test"
	//         }
	//
	//       - test_failover_cleanup
	//     }
	//
	// Plan: 0 to replicate, 0 to update, 1 to test, 0 to fail over, 0 disruptive, 0 points of no return.
	//
	// Timeline: at parallelism 10, initial replication at 100 Mbit/s per VM, from the start of the run (taken as the window's opening); all steps end at +30m.
	//   estimates: 2 default
	//
	// To undo this (rollback preview):
	//   test_failover_cleanup    1 step, undoing test_failover
}

// The CLI's --format flag picks a renderer by name; colour is decided by
// the caller and only the human form uses it.
func ExampleByName() {
	p := &planner.Plan{
		VMs: []planner.VMPlan{{Address: "vm.db", Live: planner.LiveFailedOver, Desired: "completed"}},
		Steps: []planner.Step{
			{ID: "vm.db.failover_commit", VM: "vm.db", Kind: planner.StepFailoverCommit, Disruptive: true, NoReturn: true},
			{ID: "vm.db.complete_migration", VM: "vm.db", Kind: planner.StepCompleteMigration, NoReturn: true,
				DependsOn: []string{"vm.db.failover_commit"}},
		},
	}
	f, err := render.ByName("mermaid", render.HumanOptions{})
	if err != nil {
		panic(err) // the CLI reports it as a usage error
	}
	_ = f(os.Stdout, p)
	// Output:
	// flowchart TD
	//   vm_db_complete_migration["vm.db.complete_migration (no return)"]
	//   vm_db_failover_commit["vm.db.failover_commit (no return)"]
	//   vm_db_failover_commit --> vm_db_complete_migration
	//   class vm_db_complete_migration,vm_db_failover_commit no_return
	//   classDef no_return fill:#f8d7da,stroke:#b00020,stroke-width:3px,color:#000
}
