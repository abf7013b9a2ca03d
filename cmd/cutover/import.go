package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cutover/internal/userfile"
	"cutover/planner"
	"cutover/schema"
)

// importName is the runbook file import writes its vm blocks to.
const importName = "imported.hcl"

func newImportCommand(g *globals) *cobra.Command {
	var (
		csvPath, folder, match, asrCSV, sizesFile, diskType, stage string
		networks                                                   []string
		force, sim                                                 bool
		limit                                                      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "import [DIR] --csv FILE",
		Short: "Write a runbook's VMs from vCenter and Azure Migrate (or a Site Recovery at-scale CSV)",
		Long: `Import reads every vCenter the runbook's vcenter blocks name (one bulk
discovery, as plan does) and each azure block's Azure Migrate appliance and
vault, and writes FILE: one row per VM that can be migrated, with its
instance UUID (its identity; names can repeat), inventory path, CPUs,
memory, disks, NICs (MAC=port group), guest OS, whether Azure Migrate
discovered it and whether it already replicates, and proposed targets: an
Azure-valid name, a size (the first of --sizes, or of the built-in D/E v5
table, with at least the VM's vCPUs and memory), the disk type and the
subnet mapped from its first NIC's port group (--map-network PG=SUBNET).
Unless DIR already has vm blocks, it also writes ` + importName + `: a vm block with
for_each over FILE. VMs it leaves out are listed with the reason.

--from-asr-csv takes the machines and their targets from the CSV of
Microsoft's "migrate at scale with Site Recovery" scripts instead, and lists
the columns a runbook has no place for.

Import never overwrites a file without --force.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if csvPath == "" {
				return usagef("--csv FILE is required: where to write the VMs")
			}
			dir := runbookDir(args)
			opts := planner.ImportOptions{Folder: folder, Match: match, Networks: map[string]string{}, DiskType: diskType, Stage: stage}
			for _, m := range networks {
				pg, subnet, ok := strings.Cut(m, "=")
				if !ok || pg == "" || subnet == "" {
					return usagef("--map-network %q: want PORTGROUP=SUBNET", m)
				}
				opts.Networks[pg] = subnet
			}
			if match != "" {
				if _, err := filepath.Match(match, ""); err != nil {
					return usagef("--match %q: %v", match, err)
				}
			}
			if stage != "" && !validStage(stage) {
				return usagef("--stage %q: want replicating, tested, migrated or completed", stage)
			}
			rel, err := relInside(dir, csvPath)
			if err != nil {
				return usageError{err}
			}
			if sizesFile != "" {
				if opts.Sizes, err = readSizeRules(sizesFile); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			var unmapped []schema.ASRUnmapped
			if asrCSV != "" {
				b, err := userfile.Read(asrCSV, userfile.MaxSource)
				if err != nil {
					return err
				}
				opts.ASR, unmapped, err = schema.ReadASRCSV(bytes.NewReader(b), asrCSV)
				if err != nil {
					return err
				}
				if opts.ASR == nil {
					opts.ASR = []schema.ASRRow{}
				}
			}
			hasVMs, err := schema.DeclaresVMs(dir)
			if err != nil {
				return err
			}
			hclPath := filepath.Join(dir, importName)
			for _, p := range []string{csvPath, hclPath} {
				if p == hclPath && hasVMs {
					continue
				}
				if _, err := os.Stat(p); err == nil && !force {
					return fmt.Errorf("%s exists; import overwrites only with --force", p)
				}
			}

			rb, err := loadRunbookFor(g, cmd.ErrOrStderr(), dir, false)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), limit)
			defer cancel()
			s, err := connect(ctx, rb, sim)
			if err != nil {
				return err
			}
			defer s.Close()
			rows, skipped, err := planner.Inventory(ctx, s.sources, opts)
			if err != nil {
				return err
			}

			var buf strings.Builder
			if err := schema.WriteImportCSV(&buf, rows); err != nil {
				return err
			}
			if err := os.WriteFile(csvPath, []byte(buf.String()), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(out, "Wrote %d %s to %s.\n", len(rows), plural(len(rows), "VM", "VMs"), csvPath)
			if !hasVMs {
				src, err := schema.ImportBlocks(filepath.ToSlash(rel), rows, len(rb.Azures) > 1)
				if err != nil {
					return err
				}
				if err := os.WriteFile(hclPath, src, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(out, "Wrote the vm block reading it to %s.\n", hclPath)
			} else {
				fmt.Fprintf(out, "%s already declares vm blocks; point one at %s with csvdecode(file(%q)).\n", dir, csvPath, filepath.ToSlash(rel))
			}
			writeImportNotes(out, rb, rows, skipped, unmapped)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&csvPath, "csv", "", "write the VMs to this CSV file, inside DIR")
	f.StringVar(&folder, "folder", "", "import only VMs under this inventory path, such as /dc1/vm/wave1")
	f.StringVar(&match, "match", "", "import only VMs whose name matches this glob, such as 'web*'")
	f.StringArrayVar(&networks, "map-network", nil, "target subnet for a port group, PORTGROUP=SUBNET (repeatable)")
	f.StringVar(&asrCSV, "from-asr-csv", "", "take machines and targets from a Site Recovery at-scale CSV")
	f.StringVar(&sizesFile, "sizes", "", "CSV of size,vcpus,memory_gib: the sizes to propose from, in order of preference")
	f.StringVar(&diskType, "disk-type", "StandardSSD_LRS", "target disk type for every row")
	f.StringVar(&stage, "stage", "replicating", "stage every row asks for")
	f.BoolVar(&force, "force", false, "overwrite FILE and "+importName)
	f.BoolVar(&sim, "sim", false, "read the simulated world in DIR/.cutover/sim")
	f.DurationVar(&limit, "timeout", 10*time.Minute, "give up reading the inventories after this long")
	return cmd
}

func validStage(s string) bool {
	for _, st := range schema.Stages {
		if string(st) == s {
			return true
		}
	}
	return false
}

// relInside returns file relative to dir, refusing a file outside it: the
// runbook reads the CSV with file(), relative to its directory.
func relInside(dir, file string) (string, error) {
	ad, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	af, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(ad, af)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("--csv %s is outside %s; the runbook reads it relative to its directory", file, dir)
	}
	return rel, nil
}

// readSizeRules reads --sizes: size,vcpus,memory_gib rows, a header
// optional.
func readSizeRules(path string) ([]planner.SizeRule, error) {
	b, err := userfile.Read(path, userfile.MaxSource)
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []planner.SizeRule
	for i, r := range recs {
		if len(r) != 3 {
			return nil, fmt.Errorf("%s:%d: want size,vcpus,memory_gib", path, i+1)
		}
		cpu, err1 := strconv.Atoi(strings.TrimSpace(r[1]))
		mem, err2 := strconv.Atoi(strings.TrimSpace(r[2]))
		if err1 != nil || err2 != nil {
			if i == 0 {
				continue // a header
			}
			return nil, fmt.Errorf("%s:%d: vcpus and memory_gib must be whole numbers", path, i+1)
		}
		out = append(out, planner.SizeRule{Size: strings.TrimSpace(r[0]), VCPUs: cpu, MemoryGiB: mem})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no sizes", path)
	}
	return out, nil
}

// writeImportNotes lists what import left out and what the runbook still
// needs.
func writeImportNotes(out io.Writer, rb *schema.Runbook, rows []schema.ImportRow, skipped []planner.Skipped, unmapped []schema.ASRUnmapped) {
	if len(skipped) > 0 {
		fmt.Fprintf(out, "\nLeft out %d %s:\n", len(skipped), plural(len(skipped), "machine", "machines"))
		for _, s := range skipped {
			fmt.Fprintf(out, "  %s: %s\n", s.VM, s.Reason)
		}
	}
	if len(unmapped) > 0 {
		fmt.Fprintf(out, "\nColumns of the at-scale CSV not mapped:\n")
		for _, u := range unmapped {
			fmt.Fprintf(out, "  %s: %s\n", u.Column, u.Reason)
		}
	}
	var unsized []string
	for _, r := range rows {
		if r.Size == "" {
			unsized = append(unsized, r.Name)
		}
	}
	if len(unsized) > 0 {
		fmt.Fprintf(out, "\nNo size of the table is large enough for %s; ASR will choose (or set size in the CSV).\n", strings.Join(unsized, ", "))
	}
	need := func(col string, have bool, def string) {
		if have || def != "" {
			return
		}
		for _, r := range rows {
			if col == "resource_group" && r.ResourceGroup == "" || col == "policy" && r.Policy == "" {
				fmt.Fprintf(out, "\nSome rows have no %s and the runbook's defaults set none: set it in defaults (or in the CSV) before plan.\n", col)
				return
			}
		}
	}
	var defRG, defPolicy string
	if rb.Defaults != nil {
		defRG, defPolicy = rb.Defaults.Target.ResourceGroup, rb.Defaults.Replication.Policy
	}
	need("resource_group", false, defRG)
	need("policy", false, defPolicy)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
