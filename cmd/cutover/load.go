package main

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"

	"cutover/schema"
)

// loadBudget is how long decoding a runbook may take. Real runbooks take
// well under a second (100,000 locals validate in under two); a runbook
// whose expressions compute too much (a for expression nested over huge
// ranges) would otherwise run until killed, and a scheduled apply would
// hang with it.
var loadBudget = 30 * time.Second

// loadDir is schema.LoadDir within loadBudget. Go cannot stop a running
// evaluation, so past the budget the command fails and leaves it behind;
// the process ends with the command.
func loadDir(g *globals, dir string) (*schema.Runbook, hcl.Diagnostics) {
	type result struct {
		rb    *schema.Runbook
		diags hcl.Diagnostics
	}
	done := make(chan result, 1)
	opts := g.loadOptions()
	go func() {
		rb, diags := schema.LoadDir(dir, opts)
		done <- result{rb, diags}
	}()
	t := time.NewTimer(loadBudget)
	defer t.Stop()
	select {
	case r := <-done:
		return r.rb, r.diags
	case <-t.C:
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Runbook takes too long to evaluate",
			Detail: fmt.Sprintf("Decoding the runbook in %s did not finish within %s: an expression computes too much "+
				"(such as for expressions nested over large ranges, or setproduct of large sets).", dir, loadBudget),
		}}
	}
}
