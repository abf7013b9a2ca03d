package main

import (
	"fmt"
	"io"
	"strings"

	"cutover/planner"
)

// problemListLimit is how many VMs a shared problem names before it
// counts the rest.
const problemListLimit = 5

// writeProblems prints the VMs that cannot be planned. VMs that share a
// reason are one error naming the first few of them, so that a wave of a
// thousand VMs missing the same setting is one line, not a thousand.
func writeProblems(w io.Writer, problems []planner.Problem) {
	var order []string
	byReason := map[string][]string{}
	for _, p := range problems {
		if _, ok := byReason[p.Reason]; !ok {
			order = append(order, p.Reason)
		}
		byReason[p.Reason] = append(byReason[p.Reason], p.VM)
	}
	for _, reason := range order {
		vms := byReason[reason]
		if len(vms) == 1 {
			fmt.Fprintf(w, "Error: %s: %s\n", vms[0], reason)
			continue
		}
		named := vms[:min(len(vms), problemListLimit)]
		more := ""
		if rest := len(vms) - len(named); rest > 0 {
			more = fmt.Sprintf(" and %d more", rest)
		}
		fmt.Fprintf(w, "Error: %d VMs: %s\n  %s%s\n", len(vms), reason, strings.Join(named, ", "), more)
	}
}
