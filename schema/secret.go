package schema

import (
	"fmt"
	"log/slog"
)

// Secret holds a value that must never be printed: a password, a client
// secret, a token. Every formatting path (fmt verbs, JSON, slog) shows a
// placeholder; Reveal is the one way to read it, and only code that hands the
// value to a live service should call it.
type Secret struct{ value string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s.value != "" }

const redacted = "(sensitive)"

// String implements fmt.Stringer without revealing the value.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer without revealing the value.
func (s Secret) GoString() string { return redacted }

// Format makes every fmt verb, %x and %q included, print the placeholder.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON writes the placeholder, so a Secret that reaches an encoder by
// mistake still leaks nothing.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
