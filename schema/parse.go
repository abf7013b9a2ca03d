package schema

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// hcl's lexer turns a whole file into one slice of tokens (about 100 bytes
// each) before parsing, grown by appending. For a file of megabytes that
// slice reaches hundreds of megabytes, every step of its growth on fresh
// memory, and on a virtual machine the page faults cost more than the
// lexing: 100,000 locals (3 MB) took a second in the lexer alone. A big
// file is therefore parsed in pieces of about splitChunk bytes, cut where
// one body item ends and the next begins, and the pieces' bodies are
// joined into the file's body. The result is the same syntax tree, with
// the same ranges, as one parse gives (TestSplitParseSameTree).
//
// Only a clean result is kept: if any piece has a diagnostic, or the
// pieces declare an argument twice, the file is parsed again whole, so
// that every error and its position are exactly those of hcl itself. A cut
// in the wrong place (inside a string, heredoc, comment or brackets that
// the scan below misread) leaves that construct unterminated at the end of
// its piece, which hcl reports, so it too ends in the whole parse.
const (
	splitMin   = 256 << 10
	splitChunk = 64 << 10
)

// parseFile parses one native-syntax runbook or variables file.
func parseFile(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	if len(src) >= splitMin {
		if f := parseSplit(src, filename, splitChunk); f != nil {
			return f, nil
		}
	}
	return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
}

// parseSplit parses src in pieces of at least chunk bytes and returns the
// joined file, or nil when the pieces do not parse cleanly or src cannot
// be cut safely.
func parseSplit(src []byte, filename string, chunk int) *hcl.File {
	items, ok := scanItems(src)
	if !ok {
		return nil
	}
	j := joiner{src: src, filename: filename}
	pending := 0 // start of the run of items not parsed yet
	for _, it := range items {
		if it.end-it.start >= chunk && j.bigBlock(it.start, it.end, chunk, pending) {
			if j.failed {
				return nil
			}
			pending = it.end
			continue
		}
		if it.end-pending >= chunk {
			if !j.root(pending, it.end) {
				return nil
			}
			pending = it.end
		}
	}
	// The last piece carries the end of file that ends the root body's
	// range; after a block it is empty, and starts a line.
	if pending < len(src) || len(src) == 0 || src[len(src)-1] == '\n' {
		if !j.root(pending, len(src)) {
			return nil
		}
	}
	j.file.Bytes = src
	return j.file
}

// joiner assembles the file's body from the pieces parsed so far.
type joiner struct {
	src      []byte
	filename string
	// line is the line number at byte offset lineAt, kept as pieces advance.
	line, lineAt int
	file         *hcl.File
	body         *hclsyntax.Body
	failed       bool
}

// pos is the position of off, which must be at the start of a line.
// Offsets are asked in nearly increasing order, so counting lines from
// the last one asked keeps this linear.
func (j *joiner) pos(off int) hcl.Pos {
	if off >= j.lineAt {
		j.line += bytes.Count(j.src[j.lineAt:off], []byte{'\n'})
	} else {
		j.line -= bytes.Count(j.src[off:j.lineAt], []byte{'\n'})
	}
	j.lineAt = off
	return hcl.Pos{Line: j.line + 1, Column: 1, Byte: off}
}

// parse parses src[start:end], which begins a line, as a body.
func (j *joiner) parse(start, end int) (*hcl.File, *hclsyntax.Body) {
	f, diags := hclsyntax.ParseConfig(j.src[start:end], j.filename, j.pos(start))
	if len(diags) > 0 {
		j.failed = true
		return nil, nil
	}
	return f, f.Body.(*hclsyntax.Body)
}

// root parses src[start:end] as top-level items and adds them to the
// file's body; the root body's range spans from the first piece's first
// token to the last piece's end of file.
func (j *joiner) root(start, end int) bool {
	f, b := j.parse(start, end)
	switch {
	case b == nil:
		return false
	case j.file == nil:
		// The first piece's file keeps the joined body: its navigation
		// (the "in block ..." context of diagnostics) walks that body.
		j.file, j.body = f, b
	case !merge(j.body, b):
		j.failed = true
		return false
	default:
		j.body.SrcRange = hcl.RangeBetween(j.body.SrcRange, b.SrcRange)
		j.body.EndRange = b.EndRange
	}
	return true
}

// merge adds from's items to into, or reports false when they set an
// argument twice (hcl's error for that comes from the whole parse).
func merge(into, from *hclsyntax.Body) bool {
	for name, at := range from.Attributes {
		if _, dup := into.Attributes[name]; dup {
			return false
		}
		into.Attributes[name] = at
	}
	into.Blocks = append(into.Blocks, from.Blocks...)
	return true
}

// bigBlock parses the top-level item src[start:end] as a block whose body
// is cut into pieces, when it is a multi-line block whose braces each sit
// as hcl requires; the items before it, from pending, are parsed first. It
// reports false, having parsed nothing, when the item is not such a block.
func (j *joiner) bigBlock(start, end, chunk, pending int) bool {
	open, close, ok := blockBraces(j.src, start, end)
	if !ok || j.src[end-1] != '\n' {
		return false
	}
	// The body starts on the line after "{" and ends before the line of
	// "}", which nothing but blanks may precede or follow.
	bodyStart := open + 1 + lineRest(j.src[open+1:end])
	bodyEnd := bytes.LastIndexByte(j.src[:close], '\n') + 1
	if bodyStart > bodyEnd || j.src[bodyStart-1] != '\n' || onlyBlanks(j.src[bodyEnd:close]) != close-bodyEnd ||
		close+1+lineRest(j.src[close+1:end]) != end {
		return false
	}
	cuts, ok := scanItems(j.src[bodyStart:bodyEnd])
	if !ok {
		return false
	}
	// The header parses as an empty block: "TYPE LABELS {}".
	header := make([]byte, 0, open+2-start)
	header = append(append(header, j.src[start:open+1]...), '}')
	f, diags := hclsyntax.ParseConfig(header, j.filename, j.pos(start))
	hb := f.Body.(*hclsyntax.Body)
	if len(diags) > 0 || len(hb.Blocks) != 1 || len(hb.Attributes) != 0 {
		return false
	}
	blk := hb.Blocks[0]

	if pending < start && !j.root(pending, start) {
		return true
	}
	body := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, Blocks: hclsyntax.Blocks{}}
	from := bodyStart
	for k, it := range cuts {
		if bodyStart+it.end-from < chunk && k < len(cuts)-1 {
			continue
		}
		_, b := j.parse(from, bodyStart+it.end)
		if b == nil || !merge(body, b) {
			j.failed = true
			return true
		}
		from = bodyStart + it.end
	}
	closePos := j.columnPos(close)
	blk.CloseBraceRange = hcl.Range{
		Filename: j.filename,
		Start:    closePos,
		End:      hcl.Pos{Line: closePos.Line, Column: closePos.Column + 1, Byte: close + 1},
	}
	body.SrcRange = hcl.RangeBetween(blk.OpenBraceRange, blk.CloseBraceRange)
	body.EndRange = hcl.Range{Filename: j.filename, Start: blk.CloseBraceRange.End, End: blk.CloseBraceRange.End}
	blk.Body = body
	if j.file == nil {
		// The block is the file's first item: the file and its root body
		// come from the header's parse, which holds the block already.
		j.file, j.body = f, hb
	} else {
		j.body.Blocks = append(j.body.Blocks, blk)
	}
	return true
}

// columnPos is the position of off on a line that holds only blanks
// before it (each one column, as hcl counts them).
func (j *joiner) columnPos(off int) hcl.Pos {
	lineStart := bytes.LastIndexByte(j.src[:off], '\n') + 1
	p := j.pos(lineStart)
	p.Column += off - lineStart
	p.Byte = off
	return p
}

// onlyBlanks is how many spaces and tabs b starts with.
func onlyBlanks(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\t') {
		n++
	}
	return n
}

// lineRest is the length of b's blanks and the line end after them ("\n"
// or "\r\n"), or of the blanks alone when no line end follows them.
func lineRest(b []byte) int {
	n := onlyBlanks(b)
	if n < len(b) && b[n] == '\r' && n+1 < len(b) && b[n+1] == '\n' {
		return n + 2
	}
	if n < len(b) && b[n] == '\n' {
		return n + 1
	}
	return n
}

// blockBraces finds the brace that opens the top-level item src[start:end]
// and the one that closes it, when the first bracket of the item is a
// brace and it closes within the item.
func blockBraces(src []byte, start, end int) (open, close int, ok bool) {
	open, close = -1, -1
	var s scanner
	good := s.scan(src[start:end], func(ev event, off int) bool {
		switch {
		case ev == opened && open < 0:
			if src[start+off] != '{' {
				return false
			}
			open = start + off
		case ev == closed && close < 0:
			close = start + off
		}
		return true
	})
	return open, close, good && open >= 0 && close > open
}

// item is one top-level body item's extent, from the end of the previous
// one (comments and blank lines before it included) to just after the
// newline that ends it.
type item struct{ start, end int }

// scanItems returns the body items of src, or false when src ends inside
// a string, heredoc, comment or brackets.
func scanItems(src []byte) ([]item, bool) {
	var items []item
	start := 0
	var s scanner
	ok := s.scan(src, func(ev event, off int) bool {
		if ev == lineEnd {
			items = append(items, item{start, off})
			start = off
		}
		return true
	})
	if start < len(src) {
		items = append(items, item{start, len(src)})
	}
	return items, ok
}

type event int

const (
	lineEnd event = iota // a newline outside every bracket (off: just after it)
	opened               // a bracket opened at depth zero (off: the bracket)
	closed               // the bracket closing it (off: the bracket)
)

// scanner follows HCL's lexical structure as far as needed to tell where
// brackets, strings, heredocs, templates and comments begin and end.
type scanner struct {
	// stack holds the open brackets: '(', '[', '{', or 't' for a template
	// sequence (${ or %{) inside a string, 'h' inside a heredoc.
	stack []byte
	// heredocs holds the markers of the heredocs a 'h' entry returns to.
	heredocs [][]byte
}

// scan reports events to fn, which stops the scan by returning false, and
// returns whether src ends outside every construct.
func (s *scanner) scan(src []byte, fn func(event, int) bool) bool {
	const (
		code = iota
		str
		heredoc
	)
	mode := code
	var marker []byte
	lineStart := true // in a heredoc, at the start of a line
	i := 0
	for i < len(src) {
		c := src[i]
		switch mode {
		case str, heredoc:
			switch {
			case mode == heredoc && lineStart:
				lineStart = false
				nl := bytes.IndexByte(src[i:], '\n')
				line := src[i:]
				if nl >= 0 {
					line = src[i : i+nl]
				}
				if bytes.Equal(bytes.TrimSpace(line), marker) {
					mode = code
					i += len(line)
					continue
				}
			case c == '\\' && mode == str:
				i += 2
				continue
			case c == '"' && mode == str:
				mode = code
			case (c == '$' || c == '%') && bytes.HasPrefix(src[i+1:], []byte{c, '{'}):
				i += 3
				continue
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
				if mode == str {
					s.stack = append(s.stack, 't')
				} else {
					s.stack = append(s.stack, 'h')
					s.heredocs = append(s.heredocs, marker)
				}
				mode = code
				i += 2
				continue
			case c == '\n' && mode == heredoc:
				lineStart = true
			}
			i++
			continue
		}
		switch c {
		case '"':
			mode = str
		case '#':
			i = skipLine(src, i)
			continue
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				i = skipLine(src, i)
				continue
			}
			if i+1 < len(src) && src[i+1] == '*' {
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					return false
				}
				i += 2 + end + 2
				continue
			}
		case '<':
			if m, n := heredocStart(src[i:]); n > 0 {
				mode, marker, lineStart = heredoc, m, true
				i += n
				continue
			}
		case '(', '[', '{':
			if len(s.stack) == 0 && !fn(opened, i) {
				return false
			}
			s.stack = append(s.stack, c)
		case ')', ']', '}':
			if len(s.stack) == 0 {
				return false
			}
			top := s.stack[len(s.stack)-1]
			if !closes(top, c) {
				return false // mismatched: hcl reports it
			}
			s.stack = s.stack[:len(s.stack)-1]
			switch {
			case top == 't':
				mode = str
			case top == 'h':
				mode = heredoc
				marker = s.heredocs[len(s.heredocs)-1]
				s.heredocs = s.heredocs[:len(s.heredocs)-1]
			case len(s.stack) == 0 && !fn(closed, i):
				return false
			}
		case '\n':
			if len(s.stack) == 0 && !fn(lineEnd, i+1) {
				return false
			}
		}
		i++
	}
	return mode == code && len(s.stack) == 0
}

// closes reports whether bracket c closes what open opened.
func closes(open, c byte) bool {
	switch c {
	case ')':
		return open == '('
	case ']':
		return open == '['
	}
	return open == '{' || open == 't' || open == 'h'
}

// skipLine returns the offset of the newline ending the line comment at i
// (the newline itself still ends an item), or the end of src.
func skipLine(src []byte, i int) int {
	if nl := bytes.IndexByte(src[i:], '\n'); nl >= 0 {
		return i + nl
	}
	return len(src)
}

// heredocStart reads a heredoc introducer ("<<EOT" or "<<-EOT" and the
// line end) at the start of b and returns its marker and length.
func heredocStart(b []byte) ([]byte, int) {
	if !bytes.HasPrefix(b, []byte("<<")) {
		return nil, 0
	}
	i := 2
	if i < len(b) && b[i] == '-' {
		i++
	}
	from := i
	for i < len(b) && (b[i] == '_' || b[i] == '-' || b[i] >= 'a' && b[i] <= 'z' || b[i] >= 'A' && b[i] <= 'Z' || i > from && b[i] >= '0' && b[i] <= '9') {
		i++
	}
	if i == from || b[from] == '-' {
		return nil, 0
	}
	marker := b[from:i]
	if i < len(b) && b[i] == '\r' {
		i++
	}
	if i >= len(b) || b[i] != '\n' {
		return nil, 0
	}
	return marker, i + 1
}
