package journal_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"cutover/executor/journal"
)

// TestNotAJournalIsRefused: a journal file holding no intact record and a
// tail that cannot be the start of one is not a journal (someone wrote
// over it, or it is another file): Replay and Append refuse it with the
// byte offset, and nothing overwrites it. A torn first record, or zeros a
// crash left, still read as an empty journal.
func TestNotAJournalIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		content string
		refused bool
	}{
		{"text without newline", "hello world", true},
		{"one garbage line", "garbage\n", true},
		{"terminal codes", "\x1b[2J\x1b[H\x00\x01", true},
		{"bad length", "1a2b3c4d x {}", true},
		{"json, not framed", `{"seq":1,"kind":"run_started"}` + "\n", true},
		{"torn first record", `1a2b3c4d 120 {"seq":1,"ti`, false},
		{"torn in the header", "1a2b3", false},
		{"zeros", "\x00\x00\x00\x00\x00\x00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := openStore(t, dir)
			path := filepath.Join(dir, "prod.journal")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := s.Replay(ctx)
			var ce *journal.CorruptError
			if tc.refused != errors.As(err, &ce) {
				t.Fatalf("Replay = %+v, %v; want refused=%v", rep, err, tc.refused)
			}
			_, aerr := s.Append(ctx, rec(1))
			if !tc.refused {
				if aerr != nil {
					t.Fatalf("Append after a torn first record: %v", aerr)
				}
				return
			}
			if ce.Offset != 0 || !errors.As(aerr, &ce) {
				t.Fatalf("Replay error %v, Append error %v; want both *CorruptError at offset 0", err, aerr)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, []byte(tc.content)) {
				t.Fatalf("the refused file was changed to %q", b)
			}
		})
	}
}
