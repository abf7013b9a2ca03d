package planfile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"cutover/internal/userfile"
	"cutover/planner"
)

// Encode returns the plan file bytes: indented JSON with a final newline,
// stable for a given plan so that files diff well in review. It is Write
// into memory.
func Encode(p *planner.Plan) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write streams the plan file to w: the bytes encoding/json's indented
// encoder would give for the whole plan, but written field by field and,
// in the plan's lists (VMs, steps), element by element, so that a plan of
// fifty thousand VMs never exists as one encoded buffer. Fields are found
// by reflection, with their json tags and omitempty, so a field added to
// planner.Plan is written without touching this code.
func Write(w io.Writer, p *planner.Plan) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	var scratch bytes.Buffer
	encode := func(val any, prefix string) error {
		scratch.Reset()
		enc := json.NewEncoder(&scratch)
		enc.SetIndent(prefix, "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(val); err != nil {
			return err
		}
		_, err := bw.Write(bytes.TrimSuffix(scratch.Bytes(), []byte("\n")))
		return err
	}
	bw.WriteByte('{')
	first := true
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		if strings.Contains(","+opts+",", ",omitempty,") && emptyJSON(fv) {
			continue
		}
		if first {
			bw.WriteString("\n  ")
		} else {
			bw.WriteString(",\n  ")
		}
		first = false
		if err := encode(name, ""); err != nil {
			return err
		}
		bw.WriteString(": ")
		if fv.Kind() != reflect.Slice || fv.Len() == 0 {
			if err := encode(fv.Interface(), "  "); err != nil {
				return err
			}
			continue
		}
		bw.WriteByte('[')
		for j := range fv.Len() {
			if j > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n    ")
			if err := encode(fv.Index(j).Interface(), "    "); err != nil {
				return err
			}
		}
		bw.WriteString("\n  ]")
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// emptyJSON is encoding/json's omitempty test.
func emptyJSON(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// Save writes the plan to path atomically, readable by the owner only: a
// plan names infrastructure even though it holds no secrets. The file is
// streamed (see Write).
func Save(path string, p *planner.Plan) error {
	_, err := SaveDigest(path, p)
	return err
}

// SaveDigest is Save that also returns the file's digest, hashed as it is
// written.
func SaveDigest(path string, p *planner.Plan) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".plan-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if err := Write(io.MultiWriter(tmp, h), p); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), os.Rename(tmp.Name(), path)
}

// DigestOf is the digest of the plan file p would be, computed while
// encoding without keeping the file.
func DigestOf(p *planner.Plan) (string, error) {
	h := sha256.New()
	if err := Write(h, p); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Decode reads a plan, refusing other format versions and unknown fields.
func Decode(b []byte) (*planner.Plan, error) {
	var probe struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("not a cutover plan file: %s%w", jsonPosition(b, err), err)
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
		return nil, fmt.Errorf("plan file is damaged: %s%w", jsonPosition(b, err), err)
	}
	if dec.More() {
		return nil, errors.New("plan file is damaged: data after the plan")
	}
	if err := Validate(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// jsonPosition is "line L, column C: " for a JSON error that carries the
// byte offset it stopped at, else "". encoding/json's offset counts the
// byte it could not take (a syntax error) or the whole value it could not
// store (a type error), so the position named is that byte, or the last
// byte of that value.
func jsonPosition(b []byte, err error) string {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		off    int64
	)
	switch {
	case errors.As(err, &syntax):
		off = syntax.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	default:
		return ""
	}
	off = min(max(off-1, 0), int64(len(b)))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := 1 + int(off) - (bytes.LastIndexByte(b[:off], '\n') + 1)
	return fmt.Sprintf("line %d, column %d: ", line, col)
}

// Load reads a plan file and returns it with its digest.
func Load(path string) (*planner.Plan, string, error) {
	b, err := userfile.Read(path, userfile.MaxPlan)
	if err != nil {
		return nil, "", err
	}
	p, err := Decode(b)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return p, Digest(b), nil
}

// LoadExact is Load for a plan about to be applied, which also says
// (edited) whether the file is byte for byte what cutover writes for the
// plan it decodes to. JSON readers forgive what the planner never writes
// (a repeated key, of which the last wins; other spacing or key order;
// other escapes of the same text); a file that holds any of it was edited
// after planning, whatever it decodes to. The caller decides when to
// refuse it: a check that names the step an edit changed says more.
func LoadExact(path string) (p *planner.Plan, digest string, edited, err error) {
	b, err := userfile.Read(path, userfile.MaxPlan)
	if err != nil {
		return nil, "", nil, err
	}
	p, err = Decode(b)
	if err != nil {
		return nil, "", nil, fmt.Errorf("%s: %w", path, err)
	}
	if edited = exact(b, p); edited != nil {
		edited = fmt.Errorf("%s: %w", path, edited)
	}
	return p, Digest(b), edited, nil
}

// exact compares b with the encoding of p and names the first line that
// differs.
func exact(b []byte, p *planner.Plan) error {
	want, err := Encode(p)
	if err != nil {
		return err
	}
	if bytes.Equal(b, want) {
		return nil
	}
	line := 1
	for i := 0; i < len(b) && i < len(want) && b[i] == want[i]; i++ {
		if b[i] == '\n' {
			line++
		}
	}
	return &ValidationError{Where: fmt.Sprintf("line %d", line), Reason: "the file is not as cutover wrote it (it was edited after planning); make a new plan with cutover plan --out"}
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

// MaxClockSkew is how far in the future a plan's created_at may lie: the
// clocks of the machine that planned and the one that applies differ a
// little, never by more.
const MaxClockSkew = time.Hour

// Check decides whether p may be applied now: it must not be expired, must
// come from the runbook whose hash is given, and every planned VM's live
// fingerprint must equal the one recorded.
func Check(p *planner.Plan, runbookHash string, now time.Time, live map[string]planner.Live) error {
	if !p.ExpiresAt.IsZero() && now.After(p.ExpiresAt) {
		return &ExpiredError{At: p.ExpiresAt}
	}
	if p.CreatedAt.After(now.Add(MaxClockSkew)) {
		// Made later than now: its dates were moved by hand (to keep it
		// applicable past the expiry it was reviewed with).
		return &ValidationError{Where: "created_at", Reason: fmt.Sprintf("%s is in the future", p.CreatedAt.Format(time.RFC3339))}
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
