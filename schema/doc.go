// Package schema owns the cutover runbook language: the HCL block schemas,
// decoding a directory of *.hcl files into typed Go values, variables,
// locals, functions, for_each/count expansion and validation.
//
// Decoding happens in two passes, as in Terraform's configs package: first
// the structure of every file is read against hcl.BodySchema values and every
// declared object keeps the range it was declared at; then expressions are
// evaluated against an hcl.EvalContext built from variables and locals.
// Every problem a user can fix is reported as an hcl.Diagnostic with a source
// range, and decoding keeps going so that one run reports them all.
//
// Values that come from env() or from variables declared sensitive carry the
// cty mark "sensitive" while they are evaluated; once decoded, secrets by
// nature (passwords, client secrets) are held as Secret, and any other
// attribute whose value was sensitive is listed in the owner's Sensitive set,
// so that no renderer prints it.
//
// A file over 256 KiB is parsed in pieces cut between body items, on every
// core, and joined into the tree one parse would give (parse.go); anything
// the pieces do not parse cleanly is parsed again whole, so diagnostics are
// always hcl's own.
//
// This package imports only hcl and cty (and the standard library). It must
// not talk to vCenter or Azure, print, or know about plans.
package schema
