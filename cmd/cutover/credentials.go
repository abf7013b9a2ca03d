package main

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"cutover/schema"
)

// checkCredentials refuses, before any connection, a runbook whose
// credentials are empty: without this a missing VC_PASSWORD surfaces as a
// login or DNS failure that names neither the variable nor --sim. It names
// the setting, the environment variable the runbook reads it from (when
// it uses env()), and the simulated world as the way to try without one.
func checkCredentials(rb *schema.Runbook) error {
	var missing []string
	for _, vc := range rb.VCenters {
		if !vc.Password.IsSet() {
			missing = append(missing, describeMissing(rb, "vcenter", vc.Name, "password", vc.DeclRange))
		}
	}
	for _, az := range rb.Azures {
		if az.Credential == "client_secret" && !az.ClientSecret.IsSet() {
			missing = append(missing, describeMissing(rb, "azure", az.Name, "client_secret", hcl.Range{}))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s\nSet %s and run again, or try the runbook against the simulated world with --sim.",
		strings.Join(missing, "\n"), map[bool]string{true: "it", false: "them"}[len(missing) == 1])
}

// describeMissing says which setting is empty and where it comes from.
func describeMissing(rb *schema.Runbook, kind, name, attr string, _ hcl.Range) string {
	msg := fmt.Sprintf("%s %q: %s is empty", kind, name, attr)
	if v := envVarOf(rb, kind, name, attr); v != "" {
		msg += fmt.Sprintf(": the runbook reads it from the environment variable %s (env(%q)), which is not set", v, v)
	}
	return msg
}

// envVarOf finds the variable an attribute reads with env("NAME"), by
// looking at the attribute's expression in the runbook's source.
func envVarOf(rb *schema.Runbook, kind, name, attr string) string {
	for _, f := range rb.Files {
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type != kind || len(b.Labels) == 0 || b.Labels[0] != name {
				continue
			}
			at, ok := b.Body.Attributes[attr]
			if !ok {
				continue
			}
			var found string
			_ = hclsyntax.VisitAll(at.Expr, func(n hclsyntax.Node) hcl.Diagnostics {
				call, ok := n.(*hclsyntax.FunctionCallExpr)
				if !ok || call.Name != "env" || len(call.Args) == 0 || found != "" {
					return nil
				}
				if v, diags := call.Args[0].Value(nil); !diags.HasErrors() && v.Type().FriendlyName() == "string" {
					found = v.AsString()
				}
				return nil
			})
			if found != "" {
				return found
			}
		}
	}
	return ""
}
