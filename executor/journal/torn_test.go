package journal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cutover/executor/journal"
)

var ctx = context.Background()

// fixedClock ticks one second per call from a fixed instant, so journals
// written in tests are byte-for-byte reproducible.
func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 23, 22, 0, 0, 0, time.FixedZone("CET", 3600))
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func openStore(t testing.TB, dir string) *journal.FileStore {
	t.Helper()
	s, err := journal.OpenFile(dir, "prod", journal.WithClock(fixedClock()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func rec(n int) journal.Record {
	return journal.Record{
		Kind:    journal.StepStarted,
		RunID:   "run-1",
		StepID:  fmt.Sprintf(`vm.app["web%02d"].test_failover`, n),
		Attempt: 1,
		Handle:  json.RawMessage(fmt.Sprintf(`{"job":"job-%d","task":"task-%d"}`, n, n)),
	}
}

// writeJournal appends n records in a fresh directory and returns the
// directory, the file's bytes and the offset at which each line starts.
func writeJournal(t *testing.T, n int) (dir string, data []byte, starts []int) {
	t.Helper()
	dir = t.TempDir()
	s := openStore(t, dir)
	for i := range n {
		if _, err := s.Append(ctx, rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(s.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); {
		starts = append(starts, off)
		off += bytes.IndexByte(data[off:], '\n') + 1
	}
	if len(starts) != n {
		t.Fatalf("journal has %d lines, want %d", len(starts), n)
	}
	return dir, data, starts
}

// replayFile writes data as a journal in a fresh directory and replays it.
func replayFile(t *testing.T, data []byte) (journal.Replay, error, *journal.FileStore) {
	t.Helper()
	dir := t.TempDir()
	s := openStore(t, dir)
	if err := os.WriteFile(s.JournalPath(), data, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Replay(ctx)
	return rep, err, s
}

// checkIntact fails unless recs are exactly rec(0)..rec(n-1), numbered 1..n.
func checkIntact(t *testing.T, recs []journal.Record, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("replayed %d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		want := rec(i)
		if r.Seq != uint64(i+1) || r.StepID != want.StepID || string(r.Handle) != string(want.Handle) || r.Kind != want.Kind {
			t.Fatalf("record %d = %+v, want seq %d %+v", i, r, i+1, want)
		}
	}
}

// frame builds a line the way the file backend does, for hand-made damage.
func frame(payload string) string {
	return fmt.Sprintf("%08x %d %s\n", crc32.Checksum([]byte(payload), crc32.MakeTable(crc32.Castagnoli)), len(payload), payload)
}

func TestTornLastRecordTolerated(t *testing.T) {
	t.Parallel()
	_, data, starts := writeJournal(t, 3)
	last := data[starts[2]:]
	good := data[:starts[2]]
	cases := []struct {
		name string
		tail []byte
	}{
		{"half a line", last[:len(last)/2]},
		{"missing newline", last[:len(last)-1]},
		{"only the checksum", last[:8]},
		{"bad checksum", append([]byte("deadbeef"), last[8:]...)},
		{"length one too long", func() []byte {
			f := bytes.SplitN(last, []byte(" "), 3)
			var n int
			fmt.Sscan(string(f[1]), &n)
			return fmt.Appendf(nil, "%s %d %s", f[0], n+1, f[2])
		}()},
		{"payload byte flipped", func() []byte {
			b := bytes.Clone(last)
			b[len(b)-5] ^= 0x20
			return b
		}()},
		{"zeros from a lost data block", make([]byte, 4096)},
		{"zeros ending in newline", append(make([]byte, 100), '\n')},
		{"empty line", []byte("\n")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rep, err, s := replayFile(t, append(bytes.Clone(good), c.tail...))
			if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			checkIntact(t, rep.Records, 2)
			if rep.DroppedBytes != int64(len(c.tail)) {
				t.Errorf("DroppedBytes = %d, want %d", rep.DroppedBytes, len(c.tail))
			}
			// The next append cuts the torn record off and takes
			// its sequence number.
			got, err := s.Append(ctx, rec(2))
			if err != nil {
				t.Fatalf("Append after a torn record: %v", err)
			}
			if got.Seq != 3 {
				t.Errorf("Append after a torn record got Seq %d, want 3", got.Seq)
			}
			rep, err = s.Replay(ctx)
			if err != nil || rep.DroppedBytes != 0 {
				t.Fatalf("Replay after repair: dropped %d, %v", rep.DroppedBytes, err)
			}
			checkIntact(t, rep.Records, 3)
		})
	}
}

// TestCrashAtEveryByte simulates a crash that cut the last append short at
// each possible point: the earlier records must always survive intact.
func TestCrashAtEveryByte(t *testing.T) {
	t.Parallel()
	_, data, starts := writeJournal(t, 4)
	last := starts[3]
	for cut := last; cut <= len(data); cut++ {
		rep, err, _ := replayFile(t, data[:cut])
		if err != nil {
			t.Fatalf("cut at %d: Replay: %v", cut, err)
		}
		if cut == len(data) {
			checkIntact(t, rep.Records, 4)
		} else {
			checkIntact(t, rep.Records, 3)
		}
		if want := int64(cut - last); cut < len(data) && rep.DroppedBytes != want {
			t.Errorf("cut at %d: DroppedBytes = %d, want %d", cut, rep.DroppedBytes, want)
		}
	}
}

// TestDamagedLastRecordTolerated flips each byte of the last record in
// turn: a checksum failure at the end is what a torn write looks like.
func TestDamagedLastRecordTolerated(t *testing.T) {
	t.Parallel()
	_, data, starts := writeJournal(t, 3)
	for i := starts[2]; i < len(data); i++ {
		b := bytes.Clone(data)
		b[i] ^= 0x01
		rep, err, _ := replayFile(t, b)
		if err != nil {
			t.Fatalf("byte %d flipped: Replay: %v", i, err)
		}
		checkIntact(t, rep.Records, 2)
		if rep.DroppedBytes != int64(len(data)-starts[2]) {
			t.Errorf("byte %d flipped: DroppedBytes = %d, want %d", i, rep.DroppedBytes, len(data)-starts[2])
		}
	}
}

// TestDamagedMiddleRecordRefused flips each byte of a record that has
// another after it: that is not a torn write, so replay and append stop
// with the offset instead of skipping a step's history.
func TestDamagedMiddleRecordRefused(t *testing.T) {
	t.Parallel()
	_, data, starts := writeJournal(t, 3)
	for i := starts[1]; i < starts[2]; i++ {
		b := bytes.Clone(data)
		b[i] ^= 0x01
		_, err, s := replayFile(t, b)
		var ce *journal.CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("byte %d flipped: Replay error = %v, want *CorruptError", i, err)
		}
		if ce.Offset != int64(starts[1]) || ce.Location != s.JournalPath() {
			t.Errorf("byte %d flipped: error at %s offset %d, want %s offset %d", i, ce.Location, ce.Offset, s.JournalPath(), starts[1])
		}
		if _, err := s.Append(ctx, rec(3)); !errors.As(err, &ce) {
			t.Fatalf("byte %d flipped: Append error = %v, want *CorruptError", i, err)
		}
		after, _ := os.ReadFile(s.JournalPath())
		if !bytes.Equal(after, b) {
			t.Fatalf("byte %d flipped: a refused Append changed the damaged journal", i)
		}
	}
}

func TestIntactButWrongRecordRefused(t *testing.T) {
	t.Parallel()
	_, data, starts := writeJournal(t, 2)
	good := string(data)
	cases := []struct {
		name   string
		data   string
		offset int
	}{
		// The checksum holds, so these bytes are what a writer meant:
		// not understanding them is no torn write, even at the end.
		{"unknown kind at the end", good + frame(`{"seq":3,"time":"2026-11-23T21:00:00Z","kind":"step_teleported","step_id":"s"}`), len(good)},
		{"no kind", good + frame(`{"seq":3,"time":"2026-11-23T21:00:00Z"}`), len(good)},
		{"not JSON", good + frame(`{"seq":3,`), len(good)},
		{"sequence gap", good + frame(`{"seq":4,"time":"2026-11-23T21:00:00Z","kind":"run_finished"}`), len(good)},
		{"sequence repeated", good + frame(`{"seq":2,"time":"2026-11-23T21:00:00Z","kind":"run_finished"}`), len(good)},
		{"blank line in the middle", good[:starts[1]] + "\n" + good[starts[1]:], starts[1]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err, _ := replayFile(t, []byte(c.data))
			var ce *journal.CorruptError
			if !errors.As(err, &ce) || ce.Offset != int64(c.offset) {
				t.Fatalf("Replay error = %v, want *CorruptError at offset %d", err, c.offset)
			}
		})
	}
}

func TestJournalIsHumanReadable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStore(t, dir)
	if _, err := s.Append(ctx, journal.Record{Kind: journal.RunStarted, PlanID: "p1", RunID: "r1"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "prod.journal"))
	if err != nil {
		t.Fatal(err)
	}
	want := frame(`{"seq":1,"time":"2026-11-23T21:00:01Z","kind":"run_started","plan_id":"p1","run_id":"r1"}`)
	if string(data) != want {
		t.Errorf("journal =\n%q\nwant\n%q", data, want)
	}
	fi, err := os.Stat(s.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("journal permissions %v, want 0600: before-images describe the estate", perm)
	}
}

func TestReadOnlyUseCreatesNothing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), ".cutover")
	s := openStore(t, dir)
	if _, err := s.Replay(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CurrentLock(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reading an absent journal created %s (stat: %v)", dir, err)
	}
	if _, err := s.Append(ctx, rec(0)); err != nil {
		t.Fatalf("first Append must create the directory: %v", err)
	}
}

// TestForeignAppendSeen checks that a store notices records another
// instance appended since its own last append, instead of reusing their
// sequence numbers.
func TestForeignAppendSeen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := openStore(t, dir), openStore(t, dir)
	for i, s := range []*journal.FileStore{a, b, b, a} {
		got, err := s.Append(ctx, rec(i))
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != uint64(i+1) {
			t.Errorf("append %d got Seq %d, want %d", i, got.Seq, i+1)
		}
	}
}
