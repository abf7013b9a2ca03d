package schema

import (
	"bytes"
	"runtime"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// hcl's lexer turns a whole file into one slice of tokens (about 100 bytes
// each) before parsing, grown by appending. For a file of megabytes that
// slice reaches hundreds of megabytes, every step of its growth on fresh
// memory, and on a virtual machine the page faults cost more than the
// lexing: 100,000 locals (3 MB) took a second in the lexer alone. A big
// file is therefore parsed in pieces of about splitChunk bytes, cut where
// one body item ends and the next begins, on every core at once, and the
// pieces' bodies are joined into the file's body. The result is the same
// syntax tree, with the same ranges, as one parse gives
// (TestSplitParseSameTree).
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
	pl := planner{src: src, filename: filename}
	pending := 0 // start of the run of items not planned yet
	for _, it := range items {
		if it.end-it.start >= chunk && pl.bigBlock(it.start, it.end, chunk, pending) {
			pending = it.end
			continue
		}
		if it.end-pending >= chunk {
			pl.root(pending, it.end)
			pending = it.end
		}
	}
	// The last piece carries the end of file that ends the root body's
	// range; after a block it is empty, and starts a line.
	if pending < len(src) || len(src) == 0 || src[len(src)-1] == '\n' {
		pl.root(pending, len(src))
	}
	pl.parseAll()
	f := pl.join()
	if f != nil {
		f.Bytes = src
	}
	return f
}

// piece is a part of the file parsed on its own: a run of top-level items
// or of the items of a block's body.
type piece struct {
	start, end int
	pos        hcl.Pos
	file       *hcl.File
	clean      bool
}

// part is one step of joining: a top-level piece (blk nil), or a block
// whose header was parsed as "TYPE LABELS {}" and whose body is pieces.
type part struct {
	pieces     []int
	blk        *hclsyntax.Block
	header     *hcl.File
	closeRange hcl.Range
}

// planner cuts the file into pieces and records how to join them.
type planner struct {
	src      []byte
	filename string
	// line is the line number at byte offset lineAt, kept as pieces advance.
	line, lineAt int
	pieces       []piece
	parts        []part
}

// pos is the position of off, which must be at the start of a line.
// Offsets are asked in nearly increasing order, so counting lines from
// the last one asked keeps this linear.
func (pl *planner) pos(off int) hcl.Pos {
	if off >= pl.lineAt {
		pl.line += bytes.Count(pl.src[pl.lineAt:off], []byte{'\n'})
	} else {
		pl.line -= bytes.Count(pl.src[off:pl.lineAt], []byte{'\n'})
	}
	pl.lineAt = off
	return hcl.Pos{Line: pl.line + 1, Column: 1, Byte: off}
}

// piece plans src[start:end], which begins a line, as a piece.
func (pl *planner) piece(start, end int) int {
	pl.pieces = append(pl.pieces, piece{start: start, end: end, pos: pl.pos(start)})
	return len(pl.pieces) - 1
}

// root plans src[start:end] as top-level items.
func (pl *planner) root(start, end int) {
	pl.parts = append(pl.parts, part{pieces: []int{pl.piece(start, end)}})
}

// bigBlock plans the top-level item src[start:end] as a block whose body
// is cut into pieces, when it is a multi-line block whose braces each sit
// as hcl requires; the items before it, from pending, are planned first.
// It reports false, having planned nothing, when the item is not such a
// block.
func (pl *planner) bigBlock(start, end, chunk, pending int) bool {
	src := pl.src
	open, close, ok := blockBraces(src, start, end)
	if !ok || src[close] != '}' || src[end-1] != '\n' {
		return false
	}
	// The body starts on the line after "{" and ends before the line of
	// "}", which nothing but blanks may precede or follow.
	bodyStart := open + 1 + lineRest(src[open+1:end])
	bodyEnd := bytes.LastIndexByte(src[:close], '\n') + 1
	if bodyStart > bodyEnd || src[bodyStart-1] != '\n' || onlyBlanks(src[bodyEnd:close]) != close-bodyEnd ||
		close+1+lineRest(src[close+1:end]) != end {
		return false
	}
	cuts, ok := scanItems(src[bodyStart:bodyEnd])
	if !ok {
		return false
	}
	header := make([]byte, 0, open+2-start)
	header = append(append(header, src[start:open+1]...), '}')
	f, diags := hclsyntax.ParseConfig(header, pl.filename, pl.pos(start))
	hb := f.Body.(*hclsyntax.Body)
	if len(diags) > 0 || len(hb.Blocks) != 1 || len(hb.Attributes) != 0 {
		return false
	}

	if pending < start {
		pl.root(pending, start)
	}
	pt := part{blk: hb.Blocks[0], header: f}
	from := bodyStart
	for k, it := range cuts {
		if bodyStart+it.end-from < chunk && k < len(cuts)-1 {
			continue
		}
		pt.pieces = append(pt.pieces, pl.piece(from, bodyStart+it.end))
		from = bodyStart + it.end
	}
	// "}" has only blanks before it on its line, one column each.
	at := pl.pos(bodyEnd)
	at.Column += close - bodyEnd
	at.Byte = close
	pt.closeRange = hcl.Range{
		Filename: pl.filename,
		Start:    at,
		End:      hcl.Pos{Line: at.Line, Column: at.Column + 1, Byte: close + 1},
	}
	pl.parts = append(pl.parts, pt)
	return true
}

// parseAll parses every piece, on as many cores as there are.
func (pl *planner) parseAll() {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(pl.pieces)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p := &pl.pieces[i]
				f, diags := hclsyntax.ParseConfig(pl.src[p.start:p.end], pl.filename, p.pos)
				p.file, p.clean = f, len(diags) == 0
			}
		}()
	}
	for i := range pl.pieces {
		next <- i
	}
	close(next)
	wg.Wait()
}

// join assembles the parsed pieces into one file, or returns nil if a
// piece was not clean or the pieces set an argument twice.
func (pl *planner) join() *hcl.File {
	var file *hcl.File
	var root *hclsyntax.Body
	for _, pt := range pl.parts {
		if pt.blk == nil {
			p := pl.pieces[pt.pieces[0]]
			if !p.clean {
				return nil
			}
			b := p.file.Body.(*hclsyntax.Body)
			switch {
			case file == nil:
				// The first piece's file keeps the joined body: its
				// navigation (the "in block ..." context of diagnostics)
				// walks that body.
				file, root = p.file, b
			case !merge(root, b):
				return nil
			default:
				root.SrcRange = hcl.RangeBetween(root.SrcRange, b.SrcRange)
				root.EndRange = b.EndRange
			}
			continue
		}
		body := &hclsyntax.Body{
			Attributes: hclsyntax.Attributes{},
			Blocks:     hclsyntax.Blocks{},
			SrcRange:   hcl.RangeBetween(pt.blk.OpenBraceRange, pt.closeRange),
			EndRange:   hcl.Range{Filename: pl.filename, Start: pt.closeRange.End, End: pt.closeRange.End},
		}
		for _, i := range pt.pieces {
			p := pl.pieces[i]
			if !p.clean || !merge(body, p.file.Body.(*hclsyntax.Body)) {
				return nil
			}
		}
		pt.blk.Body, pt.blk.CloseBraceRange = body, pt.closeRange
		if file == nil {
			// The block is the file's first item: the file and its root
			// body come from the header's parse, which holds the block.
			file, root = pt.header, pt.header.Body.(*hclsyntax.Body)
		} else {
			root.Blocks = append(root.Blocks, pt.blk)
		}
	}
	return file
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
