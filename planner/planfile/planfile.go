package planfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"cutover/planner"
)

// Encode returns the plan file bytes: indented JSON with a final newline,
// stable for a given plan so that files diff well in review.
func Encode(p *planner.Plan) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Save writes the plan to path atomically, readable by the owner only: a
// plan names infrastructure even though it holds no secrets.
func Save(path string, p *planner.Plan) error {
	b, err := Encode(p)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".plan-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Decode reads a plan, refusing other format versions and unknown fields.
func Decode(b []byte) (*planner.Plan, error) {
	var probe struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("not a cutover plan file: %w", err)
	}
	if probe.FormatVersion == nil {
		return nil, errors.New("not a cutover plan file: no format_version")
	}
	if *probe.FormatVersion != planner.FormatVersion {
		return nil, &VersionError{Got: *probe.FormatVersion, Want: planner.FormatVersion}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p planner.Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("plan file is damaged: %w", err)
	}
	if dec.More() {
		return nil, errors.New("plan file is damaged: data after the plan")
	}
	if err := Validate(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Load reads a plan file and returns it with its digest.
func Load(path string) (*planner.Plan, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	p, err := Decode(b)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return p, Digest(b), nil
}

// Read decodes a plan from r.
func Read(r io.Reader) (*planner.Plan, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return Decode(b)
}

// Digest is the SHA-256 of a plan file's bytes, as approved in review.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// VersionError is a plan file from another format version.
type VersionError struct{ Got, Want int }

func (e *VersionError) Error() string {
	return fmt.Sprintf("plan file format %d is not supported by this cutover (it reads format %d); plan again with this version", e.Got, e.Want)
}

// ExpiredError is a plan past its expiry.
type ExpiredError struct{ At time.Time }

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("the plan expired at %s; plan again", e.At.Format(time.RFC3339))
}

// RunbookError is a plan made from another runbook or another version of it.
type RunbookError struct {
	Plan, Runbook string
}

func (e *RunbookError) Error() string {
	return fmt.Sprintf("the plan was made from a different runbook (plan %s…, runbook now %s…); plan again", short(e.Plan), short(e.Runbook))
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Drift is one VM whose live inputs changed since planning.
type Drift struct {
	VM      string
	Changes []string
}

// StaleError lists every drifted VM.
type StaleError struct{ Drifted []Drift }

func (e *StaleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the plan is stale: %d VM(s) changed since it was made; plan again and review the new plan", len(e.Drifted))
	for _, d := range e.Drifted {
		fmt.Fprintf(&b, "\n  %s: %s", d.VM, strings.Join(d.Changes, "; "))
	}
	return b.String()
}

// Check decides whether p may be applied now: it must not be expired, must
// come from the runbook whose hash is given, and every planned VM's live
// fingerprint must equal the one recorded.
func Check(p *planner.Plan, runbookHash string, now time.Time, live map[string]planner.Live) error {
	if !p.ExpiresAt.IsZero() && now.After(p.ExpiresAt) {
		return &ExpiredError{At: p.ExpiresAt}
	}
	if p.RunbookHash != runbookHash {
		return &RunbookError{Plan: p.RunbookHash, Runbook: runbookHash}
	}
	var drifted []Drift
	for _, vm := range p.VMs {
		l, ok := live[vm.Address]
		if !ok {
			drifted = append(drifted, Drift{VM: vm.Address, Changes: []string{"no longer found"}})
			continue
		}
		if ch := vm.Fingerprint.Diff(planner.FingerprintOf(l)); len(ch) > 0 {
			drifted = append(drifted, Drift{VM: vm.Address, Changes: ch})
		}
	}
	if len(drifted) > 0 {
		sort.Slice(drifted, func(i, j int) bool { return drifted[i].VM < drifted[j].VM })
		return &StaleError{Drifted: drifted}
	}
	return nil
}
