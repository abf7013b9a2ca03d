package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"cutover/internal/userfile"
)

// Options control how a runbook is decoded.
type Options struct {
	// Vars are --var name=value assignments, applied last, in order.
	Vars []string
	// VarFiles are --var-file paths (HCL or JSON), applied before Vars, in
	// order. Relative paths are taken from the working directory.
	VarFiles []string
	// LookupEnv reads the environment for env() and CUTOVER_VAR_<name>;
	// nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// NoFileAccess turns off file, fileexists, templatefile and friends, for
	// sandboxed runs and fuzzing.
	NoFileAccess bool
	// CheckSchedule validates a window's cron schedule; nil skips the check.
	// The caller injects it so that this package needs no cron library.
	CheckSchedule func(string) error
}

func (o *Options) lookupEnv(name string) (string, bool) {
	if o.LookupEnv != nil {
		return o.LookupEnv(name)
	}
	return os.LookupEnv(name)
}

// FileExt is the extension of runbook files.
const FileExt = ".hcl"

// LoadDir decodes every *.hcl file in dir (not its subdirectories).
func LoadDir(dir string, opts Options) (*Runbook, hcl.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read runbook directory",
			Detail:   err.Error(),
		}}
	}
	sources := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), FileExt) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := filepath.Join(dir, e.Name())
		b, err := userfile.Read(name, userfile.MaxSource)
		if err != nil {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Cannot read runbook file",
				Detail:   err.Error(),
			}}
		}
		sources[name] = b
	}
	if len(sources) == 0 {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No runbook files",
			Detail:   fmt.Sprintf("The directory %s holds no *%s files.", dir, FileExt),
		}}
	}
	return LoadSources(dir, sources, opts)
}

// LoadSources decodes a runbook from in-memory sources keyed by file name;
// dir is the base for relative file access.
func LoadSources(dir string, sources map[string][]byte, opts Options) (*Runbook, hcl.Diagnostics) {
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)

	parsed := make(map[string]*hcl.File, len(names))
	var diags hcl.Diagnostics
	var files []*hcl.File
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(n), len(sources[n]))
		h.Write(sources[n])
		if nd := nestingError(n, sources[n]); nd != nil {
			diags = append(diags, nd)
			continue
		}
		f, d := parseFile(sources[n], n)
		diags = append(diags, d...)
		if f != nil {
			parsed[n] = f
			files = append(files, f)
		}
	}
	rb := &Runbook{
		Dir:   dir,
		Name:  dirName(dir),
		Hash:  hex.EncodeToString(h.Sum(nil)),
		Files: parsed,
	}
	if diags.HasErrors() {
		return rb, diags
	}
	d := &decoder{opts: &opts, rb: rb, dir: dir}
	d.decode(files)
	return rb, dedupe(d.diags)
}

// dirName is the runbook's default name: its directory's own name, however
// the directory was spelled ("." or "wave1/." name it too), since plans,
// state keys and messages carry it.
func dirName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return filepath.Base(abs)
	}
	return filepath.Base(dir)
}

// instanceAddr finds the vm instance addresses in a diagnostic's detail.
var instanceAddr = regexp.MustCompile(`vm\.[A-Za-z_][A-Za-z0-9_-]*(\[[^\]]*\])?`)

// instancesListed is how many other instances a merged diagnostic names.
const instancesListed = 5

// dedupe merges repeated diagnostics. An error in a vm block with for_each
// is found once per instance: when the instances' diagnostics differ only
// in the vm address, the first is kept and names how many more there are,
// so that a CSV wave of a thousand rows missing one setting is one
// diagnostic. Diagnostics that differ in anything else (a bad value in one
// row) all stay.
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		sev             hcl.DiagnosticSeverity
		summary, detail string
		rng             hcl.Range
	}
	first := map[key]int{}
	others := map[int][]string{}
	out := diags[:0:0]
	for _, d := range diags {
		k := key{sev: d.Severity, summary: d.Summary, detail: instanceAddr.ReplaceAllString(d.Detail, "vm.*")}
		if d.Subject != nil {
			k.rng = *d.Subject
		}
		if i, ok := first[k]; ok {
			if d.Detail != out[i].Detail {
				others[i] = append(others[i], instanceAddr.FindString(d.Detail))
			}
			continue
		}
		first[k] = len(out)
		c := *d
		out = append(out, &c)
	}
	for i, addrs := range others {
		named := addrs[:min(len(addrs), instancesListed)]
		more := ""
		if rest := len(addrs) - len(named); rest > 0 {
			more = fmt.Sprintf(" and %d more", rest)
		}
		out[i].Detail += fmt.Sprintf(" The same holds for %s%s.", strings.Join(named, ", "), more)
	}
	return out
}

// RequireVMs is the check of every command that plans, applies or
// validates: a runbook whose files declare no vm block (an empty file, one
// holding only comments or settings) would plan nothing and report
// success. It is not part of LoadDir, since import loads a runbook that has
// no VMs yet.
func RequireVMs(rb *Runbook) hcl.Diagnostics {
	if rb == nil {
		return nil
	}
	for _, f := range rb.Files {
		if b, ok := f.Body.(*hclsyntax.Body); ok {
			for _, blk := range b.Blocks {
				if blk.Type == "vm" {
					return nil
				}
			}
		}
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "No VMs",
		Detail:   fmt.Sprintf("The runbook in %s declares no vm block: there is nothing to plan or apply.", rb.Dir),
	}}
}
