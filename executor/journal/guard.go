package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Guard lists substrings that must not appear in a record's encoded JSON,
// matched without regard to case. It is a last line of defence against a
// caller journaling a credential by mistake (say, a whole client config as
// a handle): the journal is a plain file on a CI runner or a blob many
// people can read, and it is kept for rollback long after the run.
//
// The check is a heuristic on the outer JSON only: a credential hidden in
// an opaque string (a base64 blob, or JSON escaped inside a string) is not
// seen. Callers stay responsible for journaling handles, not credentials.
type Guard []string

// DefaultGuard refuses JSON object keys that name credentials, URL query
// parameters that carry a SAS signature, and the key parts of Azure
// connection strings (which an SDK error may echo). Keys are matched with their
// quotes and colon so that a VM or step merely named "password" is not
// refused; Go's JSON encoder writes no space before the colon.
var DefaultGuard = Guard{
	`"password":`, `"passwd":`, `"secret":`, `"client_secret":`,
	`"clientsecret":`, `"access_token":`, `"accesstoken":`,
	`"refresh_token":`, `"refreshtoken":`, `"authorization":`,
	`"api_key":`, `"apikey":`, `"sas_token":`, `"sastoken":`,
	`"private_key":`, `"privatekey":`,
	`"connectionstring":`, `"connection_string":`,
	`?sig=`, `&sig=`, `accountkey=`, `sharedaccesskey=`,
}

// SecretError is returned by Append for a record refused by the store's
// Guard. It names the pattern that matched, never the surrounding text, so
// that the error itself does not leak what it refused.
type SecretError struct {
	Kind    Kind
	StepID  string
	Pattern string
}

func (e *SecretError) Error() string {
	return fmt.Sprintf("journal: refusing %s record for step %q: its JSON contains %q, which looks like a credential; journal operation handles and identifiers, never credentials",
		e.Kind, e.StepID, e.Pattern)
}

// check returns a *SecretError for the first pattern found in encoded.
func (g Guard) check(r Record, encoded []byte) error {
	if len(g) == 0 {
		return nil
	}
	lower := bytes.ToLower(encoded)
	for _, p := range g {
		if p != "" && bytes.Contains(lower, bytes.ToLower([]byte(p))) {
			return &SecretError{Kind: r.Kind, StepID: r.StepID, Pattern: p}
		}
	}
	return nil
}

// EncodeRecord stamps r with seq and now (converted to UTC), validates it,
// encodes it as JSON and checks it against g. Every backend encodes through
// it so that all of them refuse the same records and write the same JSON.
func EncodeRecord(r Record, seq uint64, now time.Time, g Guard) (Record, []byte, error) {
	r.Seq = seq
	r.Time = now.UTC()
	if err := r.Validate(); err != nil {
		return Record{}, nil, err
	}
	// HTML escaping is off so that the journal reads as written (a URL
	// keeps its "&") and the Guard sees the characters it looks for.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return Record{}, nil, fmt.Errorf("journal: encoding %s record for step %q: %w", r.Kind, r.StepID, err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if err := g.check(r, b); err != nil {
		return Record{}, nil, err
	}
	return r, b, nil
}

// DecodeRecord is the inverse of EncodeRecord for a record read back from a
// backend. Unknown fields are ignored (a newer cutover may add some), but
// an unknown kind is an error because its meaning cannot be guessed.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, err
	}
	if !r.Kind.Valid() {
		return Record{}, fmt.Errorf("journal: record %d has no kind", r.Seq)
	}
	return r, nil
}
