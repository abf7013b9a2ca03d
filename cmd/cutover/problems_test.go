package main

import (
	"bytes"
	"fmt"
	"testing"

	"cutover/planner"
)

func TestWriteProblemsGroupsSharedReasons(t *testing.T) {
	many := []planner.Problem{{VM: "vm.db", Reason: "the source VM was not found in vCenter"}}
	for i := range 1000 {
		many = append(many, planner.Problem{VM: fmt.Sprintf("vm.wave[%q]", fmt.Sprintf("app%04d", i)), Reason: "enabling replication needs replication.log_storage_account"})
	}
	for _, tc := range []struct {
		name     string
		problems []planner.Problem
		want     string
	}{
		{"one", many[:1], "Error: vm.db: the source VM was not found in vCenter\n"},
		{"two sharing", []planner.Problem{{VM: "vm.a", Reason: "r"}, {VM: "vm.b", Reason: "r"}}, "Error: 2 VMs: r\n  vm.a, vm.b\n"},
		{"a wave", many, "Error: vm.db: the source VM was not found in vCenter\n" +
			"Error: 1000 VMs: enabling replication needs replication.log_storage_account\n" +
			`  vm.wave["app0000"], vm.wave["app0001"], vm.wave["app0002"], vm.wave["app0003"], vm.wave["app0004"] and 995 more` + "\n"},
	} {
		var b bytes.Buffer
		writeProblems(&b, tc.problems)
		if b.String() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, b.String(), tc.want)
		}
	}
}
