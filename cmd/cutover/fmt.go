package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"cutover/internal/userfile"
	"cutover/planner/render"
	"cutover/schema"
)

func newFmtCommand(g *globals) *cobra.Command {
	var check, diff, recursive bool
	cmd := &cobra.Command{
		Use:   "fmt [PATH...]",
		Short: "Rewrite runbook files in canonical format",
		Long: `Fmt rewrites *.hcl files in canonical HCL layout. PATH may be a file or a
directory (default: the current directory); directories are searched
recursively unless --recursive=false, skipping hidden ones.

With --check nothing is written: the files that would change are listed and
the exit status is 1 if there are any.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			files, err := runbookFiles(args, recursive)
			if err != nil {
				return usageError{err}
			}
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			changed, failed := 0, false
			for _, name := range files {
				src, err := userfile.Read(name, userfile.MaxSource)
				if err != nil {
					return err
				}
				formatted, diags := schema.Format(src, name)
				if diags.HasErrors() {
					writeDiagnostics(errOut, map[string]*hcl.File{name: {Bytes: src}}, diags, g.noColor)
					failed = true
					continue
				}
				if bytes.Equal(src, formatted) {
					continue
				}
				changed++
				fmt.Fprintln(out, name)
				if diff {
					if err := render.UnifiedDiff(out, name, name+" (formatted)", string(src), string(formatted)); err != nil {
						return err
					}
				}
				if !check {
					if err := writeFileKeepMode(name, formatted); err != nil {
						return err
					}
				}
			}
			if failed || (check && changed > 0) {
				return exitCodeError{exitError}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; exit 1 if any file is not formatted")
	cmd.Flags().BoolVar(&diff, "diff", false, "show the changes as a diff")
	cmd.Flags().BoolVar(&recursive, "recursive", true, "search directories recursively")
	return cmd
}

// runbookFiles expands paths to the *.hcl files they hold, sorted.
func runbookFiles(paths []string, recursive bool) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				name := d.Name()
				if path != p && (strings.HasPrefix(name, ".") || name == "node_modules" || !recursive) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, schema.FileExt) && !strings.HasPrefix(d.Name(), ".") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

func writeFileKeepMode(name string, data []byte) error {
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	tmp := name + ".cutover-fmt"
	if err := os.WriteFile(tmp, data, st.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
