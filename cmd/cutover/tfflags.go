package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// terraformFlags accepts long flags spelled with one dash, as Terraform
// users type them (-out=x.plan, -auto-approve, -detailed-exitcode,
// -var 'a=b'): pflag would read "-out=x.plan" as the shorthand flags o, u,
// t... and fail with "unknown shorthand flag". An argument of one dash and
// two or more letters is rewritten to the two-dash spelling when the name
// before any "=" is a long flag of the command it is given to (or of its
// parents); anything else is left for pflag to judge. Nothing after "--"
// is touched, so arguments meant for something else pass through.
//
// cutover defines no shorthand flags, so no run of single letters can be
// meant as a group of them; should one be added, a one-dash argument that
// names a long flag still wins, as it does in Terraform.
func terraformFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name := a[1:]
		if j := strings.IndexByte(name, '='); j >= 0 {
			name = name[:j]
		}
		if lookupFlag(cmd, name) != nil {
			out[i] = "-" + a
		}
	}
	return out
}

// lookupFlag finds a long flag by name on cmd, its persistent flags or any
// parent's.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	for c := cmd; c != nil; c = c.Parent() {
		if f := c.Flags().Lookup(name); f != nil {
			return f
		}
		if f := c.PersistentFlags().Lookup(name); f != nil {
			return f
		}
	}
	return nil
}

// usageArgs wraps every command's positional-argument check so that a
// wrong number of arguments is a usage error like a wrong flag.
func usageArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}

// shorthandErr matches pflag's complaint about a one-dash word it read as
// a group of shorthand flags.
var shorthandErr = regexp.MustCompile(`^unknown shorthand flag: '.' in -([^-=\s][^=\s]+)`)

// twoDashHint answers a one-dash word that is no flag of the command in
// the spelling cutover uses, instead of pflag's "unknown shorthand flag:
// 'o' in -outt=x", which names a letter nobody typed as a flag.
func twoDashHint(err error) error {
	m := shorthandErr.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	return fmt.Errorf("unknown flag: --%s (flags are spelled with two dashes; one works too for flags the command has)", m[1])
}
