package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// safe escapes what a terminal would act on rather than show: control
// characters (ESC starts colour and cursor sequences, CR rewrites the line)
// and invalid UTF-8. Names and messages come from runbooks, CSV files,
// plan files and remote services, any of which may hold such bytes;
// printing them raw could hide or forge output.
func safe(s string) string {
	if !needsEscape(s, false) {
		return s
	}
	return escapeText(s, false)
}

// safeText is safe for multi-line text: newlines and tabs stay.
func safeText(s string) string {
	if !needsEscape(s, true) {
		return s
	}
	return escapeText(s, true)
}

func needsEscape(s string, keepLines bool) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return true
			}
		}
		if keepLines && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return true
		}
	}
	return false
}

func escapeText(s string, keepLines bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r):
			// Bidirectional overrides (U+202E...) reorder what follows
			// them on screen: a name could show as another.
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
