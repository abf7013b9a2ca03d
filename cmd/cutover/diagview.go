package main

import (
	"bytes"
	"io"
	"os"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"
)

// writeDiagnostics renders diagnostics for people: file:line:col, summary,
// a source snippet and the detail. Colour only on a terminal.
func writeDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, noColor bool) {
	if len(diags) == 0 {
		return
	}
	color := !noColor && isTerminal(w) && os.Getenv("NO_COLOR") == ""
	width := uint(100)
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			width = uint(cols)
		}
	}
	// A file name, snippet or message may hold control characters (a
	// runbook is input like any other): render plainly first and, if
	// anything needs escaping, print the escaped plain text, never colour
	// codes around raw bytes.
	var plain bytes.Buffer
	_ = hcl.NewDiagnosticTextWriter(&plain, files, width, false).WriteDiagnostics(sortDiagnostics(diags))
	if text := plain.String(); needsEscape(text, true) || !color {
		_, _ = io.WriteString(w, safeText(text))
		return
	}
	wr := hcl.NewDiagnosticTextWriter(w, files, width, color)
	_ = wr.WriteDiagnostics(sortDiagnostics(diags))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// sortDiagnostics orders by file and position so output is stable: errors
// found while decoding come out in the order the decoder met them.
func sortDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	out := append(hcl.Diagnostics(nil), diags...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
	return out
}

// jsonDiagnostic is the machine form of one diagnostic, shaped like
// Terraform's so existing tooling reads it.
type jsonDiagnostic struct {
	Severity string       `json:"severity"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail,omitempty"`
	Range    *jsonRange   `json:"range,omitempty"`
	Snippet  *jsonSnippet `json:"snippet,omitempty"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonSnippet struct {
	Code      string `json:"code"`
	StartLine int    `json:"start_line"`
	// Highlight offsets are byte offsets into Code.
	HighlightStartOffset int `json:"highlight_start_offset"`
	HighlightEndOffset   int `json:"highlight_end_offset"`
}

func toJSONDiagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) []jsonDiagnostic {
	out := make([]jsonDiagnostic, 0, len(diags))
	for _, d := range sortDiagnostics(diags) {
		jd := jsonDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if s := d.Subject; s != nil {
			jd.Range = &jsonRange{
				Filename: s.Filename,
				Start:    jsonPos{s.Start.Line, s.Start.Column, s.Start.Byte},
				End:      jsonPos{s.End.Line, s.End.Column, s.End.Byte},
			}
			if f, ok := files[s.Filename]; ok && f != nil {
				jd.Snippet = snippet(f.Bytes, *s)
			}
		}
		out = append(out, jd)
	}
	return out
}

// snippet cuts the source lines a range covers (at most three).
func snippet(src []byte, r hcl.Range) *jsonSnippet {
	if r.Start.Byte > len(src) || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
		return nil
	}
	start := bytes.LastIndexByte(src[:r.Start.Byte], '\n') + 1
	end := r.End.Byte
	lines := 0
	for end < len(src) && src[end] != '\n' {
		end++
	}
	for i := start; i < end; i++ {
		if src[i] == '\n' {
			lines++
			if lines == 3 {
				end = i
				break
			}
		}
	}
	hiEnd := r.End.Byte - start
	if hiEnd > end-start {
		hiEnd = end - start
	}
	return &jsonSnippet{
		Code:                 string(src[start:end]),
		StartLine:            r.Start.Line,
		HighlightStartOffset: r.Start.Byte - start,
		HighlightEndOffset:   hiEnd,
	}
}
