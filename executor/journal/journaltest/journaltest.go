package journaltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"cutover/executor/journal"
)

// Factory prepares a fresh, empty location (a directory, a container) for
// one test and returns open, which opens a new Store on that location each
// time it is called. Every Store open returns must be independent, as if
// opened by a separate process, while sharing the location's journal and
// lock. The factory registers its own cleanup with t.Cleanup; Run closes
// the stores it opens. Run calls the factory from parallel subtests.
type Factory func(t *testing.T) (open func() journal.Store)

// Run runs the conformance suite against the backend newLocation makes.
func Run(t *testing.T, newLocation Factory) {
	t.Helper()
	cases := []struct {
		name string
		test func(t *testing.T, open func() journal.Store)
	}{
		{"EmptyReplay", testEmptyReplay},
		{"RoundTrip", testRoundTrip},
		{"SequenceAcrossReopen", testSequenceAcrossReopen},
		{"VisibleToNewInstance", testVisibleToNewInstance},
		{"InstancesTakeTurns", testInstancesTakeTurns},
		{"ConcurrentAppends", testConcurrentAppends},
		{"InvalidRecordRefused", testInvalidRecordRefused},
		{"SecretRefused", testSecretRefused},
		{"CanceledContext", testCanceledContext},
		{"LockExclusive", testLockExclusive},
		{"LockRace", testLockRace},
		{"LockInfoRoundTrip", testLockInfoRoundTrip},
		{"LockNeedsOperation", testLockNeedsOperation},
		{"UnlockNeedsMatchingID", testUnlockNeedsMatchingID},
		{"ForceUnlock", testForceUnlock},
		{"LockOutlivesClose", testLockOutlivesClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			open := newLocation(t)
			c.test(t, func() journal.Store {
				s := open()
				t.Cleanup(func() { _ = s.Close() }) // Close twice is allowed
				return s
			})
		})
	}
}

var ctx = context.Background()

// sample returns records of every kind, as the executor would write them.
func sample() []journal.Record {
	const step = `vm.app["web01"].test_failover`
	return []journal.Record{
		{Kind: journal.RunStarted, PlanID: "plan-1", RunID: "run-1"},
		{Kind: journal.StepPending, PlanID: "plan-1", RunID: "run-1", StepID: step, Attempt: 1},
		{Kind: journal.BeforeImage, PlanID: "plan-1", RunID: "run-1", StepID: step,
			BeforeImage: json.RawMessage(`{"power":"poweredOn","nics":[{"network":"VM Network"}]}`)},
		{Kind: journal.StepStarted, PlanID: "plan-1", RunID: "run-1", StepID: step, Attempt: 1,
			Handle: json.RawMessage(`{"job":"a1b2","resumeToken":"{\"type\":\"asr\",\"url\":\"https://example/op?api-version=1\"}"}`)},
		{Kind: journal.StepUnknown, PlanID: "plan-1", RunID: "run-1", StepID: step, Attempt: 1,
			Handle: json.RawMessage(`{"task":"task-42"}`), Error: "connection reset while waiting"},
		{Kind: journal.StepFailed, PlanID: "plan-1", RunID: "run-1", StepID: step, Attempt: 2,
			Error: "replication health is Critical:\n\"disk0\" lagging"},
		{Kind: journal.StepSucceeded, PlanID: "plan-1", RunID: "run-1", StepID: step, Attempt: 3},
		{Kind: journal.RunFinished, PlanID: "plan-1", RunID: "run-1", Error: "ünïcode ✓"},
	}
}

// same reports how got differs from want in the fields the caller sets,
// comparing JSON by value since a backend may store it compacted.
func same(got, want journal.Record) string {
	var diffs []string
	check := func(field string, g, w any) {
		if g != w {
			diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", field, g, w))
		}
	}
	check("Kind", got.Kind, want.Kind)
	check("PlanID", got.PlanID, want.PlanID)
	check("RunID", got.RunID, want.RunID)
	check("StepID", got.StepID, want.StepID)
	check("Attempt", got.Attempt, want.Attempt)
	check("Error", got.Error, want.Error)
	for _, f := range []struct {
		name   string
		gotRaw json.RawMessage
		wanRaw json.RawMessage
	}{{"Handle", got.Handle, want.Handle}, {"BeforeImage", got.BeforeImage, want.BeforeImage}} {
		if !jsonEqual(f.gotRaw, f.wanRaw) {
			diffs = append(diffs, fmt.Sprintf("%s = %s, want %s", f.name, f.gotRaw, f.wanRaw))
		}
	}
	return strings.Join(diffs, "; ")
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

func mustAppend(t *testing.T, s journal.Store, r journal.Record) journal.Record {
	t.Helper()
	got, err := s.Append(ctx, r)
	if err != nil {
		t.Fatalf("Append(%s %s): %v", r.Kind, r.StepID, err)
	}
	return got
}

func mustReplay(t *testing.T, s journal.Store) journal.Replay {
	t.Helper()
	rep, err := s.Replay(ctx)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if rep.DroppedBytes != 0 {
		t.Errorf("Replay dropped %d bytes of a journal nobody tore", rep.DroppedBytes)
	}
	return rep
}

// step returns a distinct, valid record numbered n.
func step(n int) journal.Record {
	return journal.Record{Kind: journal.StepPending, RunID: "run", StepID: fmt.Sprintf(`vm.app["vm%03d"].replicate`, n), Attempt: 1}
}

// checkSeqs fails unless the records are numbered 1..len without gaps and
// name the steps want names, in order.
func checkSeqs(t *testing.T, recs []journal.Record, want []string) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("replayed %d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Errorf("record %d has Seq %d, want %d", i, r.Seq, i+1)
		}
		if r.StepID != want[i] {
			t.Errorf("record %d is step %q, want %q", i, r.StepID, want[i])
		}
	}
}

func testEmptyReplay(t *testing.T, open func() journal.Store) {
	s := open()
	rep := mustReplay(t, s)
	if len(rep.Records) != 0 || rep.LastSeq() != 0 {
		t.Errorf("empty journal replayed %d records, last seq %d", len(rep.Records), rep.LastSeq())
	}
	l, err := s.CurrentLock(ctx)
	if err != nil || l != nil {
		t.Errorf("CurrentLock on a fresh location = %v, %v; want nil, nil", l, err)
	}
}

func testRoundTrip(t *testing.T, open func() journal.Store) {
	s := open()
	in := sample()
	var appended []journal.Record
	var prev time.Time
	for i, r := range in {
		got := mustAppend(t, s, r)
		if got.Seq != uint64(i+1) {
			t.Errorf("Append #%d returned Seq %d, want %d", i, got.Seq, i+1)
		}
		if got.Time.IsZero() || got.Time.Location() != time.UTC {
			t.Errorf("Append #%d returned Time %v, want a UTC time", i, got.Time)
		}
		if got.Time.Before(prev) {
			t.Errorf("Append #%d time %v is before the previous record's %v", i, got.Time, prev)
		}
		prev = got.Time
		if d := same(got, r); d != "" {
			t.Errorf("Append #%d returned a different record: %s", i, d)
		}
		appended = append(appended, got)
	}
	rep := mustReplay(t, open())
	if len(rep.Records) != len(in) {
		t.Fatalf("replayed %d records, want %d", len(rep.Records), len(in))
	}
	for i, got := range rep.Records {
		want := appended[i]
		if got.Seq != want.Seq || !got.Time.Equal(want.Time) {
			t.Errorf("record %d replayed as seq %d at %v, appended as seq %d at %v", i, got.Seq, got.Time, want.Seq, want.Time)
		}
		if d := same(got, want); d != "" {
			t.Errorf("record %d (%s) replayed differently: %s", i, want.Kind, d)
		}
	}
	if rep.LastSeq() != uint64(len(in)) {
		t.Errorf("LastSeq = %d, want %d", rep.LastSeq(), len(in))
	}
}

func testSequenceAcrossReopen(t *testing.T, open func() journal.Store) {
	var want []string
	for round := range 3 {
		s := open()
		for i := range 3 {
			n := round*3 + i
			got := mustAppend(t, s, step(n))
			if got.Seq != uint64(n+1) {
				t.Errorf("round %d: Append returned Seq %d, want %d", round, got.Seq, n+1)
			}
			want = append(want, step(n).StepID)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	checkSeqs(t, mustReplay(t, open()).Records, want)
}

func testVisibleToNewInstance(t *testing.T, open func() journal.Store) {
	// The writer is never closed: a record must be durable when Append
	// returns, not when the store is closed.
	w := open()
	var want []string
	for i := range 5 {
		mustAppend(t, w, step(i))
		want = append(want, step(i).StepID)
		checkSeqs(t, mustReplay(t, open()).Records, want)
	}
}

func testInstancesTakeTurns(t *testing.T, open func() journal.Store) {
	// One apply hands over to the next (a resumed run) while the old
	// Store value may still exist; the sequence must continue, not fork.
	a, b := open(), open()
	var want []string
	for i, s := range []journal.Store{a, b, a, a, b} {
		got := mustAppend(t, s, step(i))
		if got.Seq != uint64(i+1) {
			t.Errorf("turn %d: Seq %d, want %d", i, got.Seq, i+1)
		}
		want = append(want, step(i).StepID)
	}
	checkSeqs(t, mustReplay(t, open()).Records, want)
}

func testConcurrentAppends(t *testing.T, open func() journal.Store) {
	s := open()
	const workers, each = 8, 25
	var (
		mu   sync.Mutex
		got  = map[uint64]string{}
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				r, err := s.Append(ctx, step(w*each+i))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if prev, dup := got[r.Seq]; dup {
					errs <- fmt.Errorf("Seq %d given to both %s and %s", r.Seq, prev, r.StepID)
				}
				got[r.Seq] = r.StepID
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := make([]string, workers*each)
	for seq, id := range got {
		if seq < 1 || seq > uint64(len(want)) {
			t.Fatalf("Seq %d out of range 1..%d", seq, len(want))
		}
		want[seq-1] = id
	}
	checkSeqs(t, mustReplay(t, open()).Records, want)
}

func testInvalidRecordRefused(t *testing.T, open func() journal.Store) {
	s := open()
	cases := []struct {
		name string
		rec  journal.Record
	}{
		{"no kind", journal.Record{RunID: "run"}},
		{"kind out of range", journal.Record{Kind: journal.Kind(200)}},
		{"step kind without step", journal.Record{Kind: journal.StepStarted, Handle: json.RawMessage(`{"task":"t"}`)}},
		{"blank step", journal.Record{Kind: journal.StepSucceeded, StepID: "  "}},
		{"before-image without image", journal.Record{Kind: journal.BeforeImage, StepID: "s"}},
		{"handle not JSON", journal.Record{Kind: journal.StepStarted, StepID: "s", Handle: json.RawMessage(`{task`)}},
		{"before-image not JSON", journal.Record{Kind: journal.BeforeImage, StepID: "s", BeforeImage: json.RawMessage(`[1,`)}},
		{"negative attempt", journal.Record{Kind: journal.StepPending, StepID: "s", Attempt: -1}},
	}
	for _, c := range cases {
		_, err := s.Append(ctx, c.rec)
		if !errors.Is(err, journal.ErrInvalidRecord) {
			t.Errorf("%s: Append error = %v, want ErrInvalidRecord", c.name, err)
		}
	}
	if n := len(mustReplay(t, open()).Records); n != 0 {
		t.Errorf("refused records left %d records in the journal", n)
	}
	if got := mustAppend(t, s, step(0)); got.Seq != 1 {
		t.Errorf("first valid record after refusals has Seq %d, want 1", got.Seq)
	}
}

func testSecretRefused(t *testing.T, open func() journal.Store) {
	s := open()
	const secret = "hunter2-s3cr3t"
	cases := []struct {
		name string
		rec  journal.Record
	}{
		{"password in handle", journal.Record{Kind: journal.StepStarted, StepID: "s",
			Handle: json.RawMessage(`{"task":"t","Password" : "` + secret + `"}`)}},
		{"client secret in before-image", journal.Record{Kind: journal.BeforeImage, StepID: "s",
			BeforeImage: json.RawMessage(`{"config":{"client_secret":"` + secret + `"}}`)}},
		{"SAS URL in error", journal.Record{Kind: journal.StepFailed, StepID: "s",
			Error: "GET https://acct.blob.core.windows.net/c/b?sv=2024&sig=" + secret + " failed"}},
	}
	for _, c := range cases {
		_, err := s.Append(ctx, c.rec)
		var se *journal.SecretError
		if !errors.As(err, &se) {
			t.Errorf("%s: Append error = %v, want *SecretError", c.name, err)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the refusal repeats the secret: %v", c.name, err)
		}
	}
	// A step named after a secret-sounding VM is not a secret.
	mustAppend(t, s, journal.Record{Kind: journal.StepPending, StepID: `vm.app["password"].replicate`,
		Handle: json.RawMessage(`{"vm":"password"}`)})
	if n := len(mustReplay(t, open()).Records); n != 1 {
		t.Errorf("journal holds %d records, want only the harmless one", n)
	}
}

func testCanceledContext(t *testing.T, open func() journal.Store) {
	s := open()
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Append(c, step(0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.Lock(c, journal.LockInfo{Operation: "apply"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a canceled context: %v, want context.Canceled", err)
	}
	if n := len(mustReplay(t, s).Records); n != 0 {
		t.Errorf("canceled Append left %d records", n)
	}
	if l, _ := s.CurrentLock(ctx); l != nil {
		t.Errorf("canceled Lock left a lock: %v", l)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func mustLock(t *testing.T, s journal.Store, info journal.LockInfo) journal.LockInfo {
	t.Helper()
	got, err := s.Lock(ctx, info)
	if err != nil {
		t.Fatalf("Lock(%s): %v", info.Operation, err)
	}
	return got
}

func testLockExclusive(t *testing.T, open func() journal.Store) {
	a := open()
	held := mustLock(t, a, journal.LockInfo{Operation: "apply", Info: "pipeline 17"})
	if !uuidRE.MatchString(held.ID) {
		t.Errorf("lock ID %q is not a version 4 UUID", held.ID)
	}
	if held.Who == "" || held.Host == "" || held.PID == 0 || held.Created.IsZero() {
		t.Errorf("Lock did not fill in the holder: %+v", held)
	}
	for name, s := range map[string]journal.Store{"same instance": a, "other instance": open()} {
		_, err := s.Lock(ctx, journal.LockInfo{Operation: "rollback"})
		var le *journal.LockedError
		if !errors.As(err, &le) {
			t.Errorf("%s: second Lock error = %v, want *LockedError", name, err)
			continue
		}
		if le.Held.ID != held.ID || le.Held.Operation != "apply" {
			t.Errorf("%s: LockedError names %+v, want the holder %+v", name, le.Held, held)
		}
		msg := err.Error()
		for _, part := range []string{held.ID, held.Who, held.Host, "apply", fmt.Sprint(held.PID), held.Created.Format(time.RFC3339)} {
			if !strings.Contains(msg, part) {
				t.Errorf("%s: LockedError %q does not mention %q", name, msg, part)
			}
		}
	}
	if cur, err := open().CurrentLock(ctx); err != nil || cur == nil || cur.ID != held.ID {
		t.Errorf("after a refused Lock, CurrentLock = %v, %v; want the first holder", cur, err)
	}
}

func testLockRace(t *testing.T, open func() journal.Store) {
	const contenders = 8
	stores := make([]journal.Store, contenders)
	for i := range stores {
		stores[i] = open()
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		won    []string
		others []error
	)
	start := make(chan struct{})
	for i, s := range stores {
		wg.Go(func() {
			<-start
			info, err := s.Lock(ctx, journal.LockInfo{Operation: fmt.Sprintf("apply-%d", i)})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won = append(won, info.ID)
			} else {
				others = append(others, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("%d contenders took the lock at once, want exactly 1", len(won))
	}
	for _, err := range others {
		var le *journal.LockedError
		if !errors.As(err, &le) || le.Held.ID != won[0] {
			t.Errorf("losing Lock error = %v, want *LockedError naming %s", err, won[0])
		}
	}
}

func testLockInfoRoundTrip(t *testing.T, open func() journal.Store) {
	in := journal.LockInfo{
		Operation: "rollback",
		Who:       "ci@contoso",
		Host:      "runner-7",
		PID:       4242,
		Info:      "https://ci.example/jobs/99",
		ID:        "ignored: the store assigns IDs",
	}
	held := mustLock(t, open(), in)
	if held.ID == in.ID {
		t.Errorf("Lock kept the caller's ID %q; IDs must be assigned by the store", held.ID)
	}
	if held.Who != in.Who || held.Host != in.Host || held.PID != in.PID || held.Info != in.Info || held.Operation != in.Operation {
		t.Errorf("Lock returned %+v, want the caller's fields of %+v", held, in)
	}
	got, err := open().CurrentLock(ctx)
	if err != nil || got == nil {
		t.Fatalf("CurrentLock = %v, %v", got, err)
	}
	if got.ID != held.ID || got.Who != held.Who || got.Host != held.Host || got.PID != held.PID ||
		got.Info != held.Info || got.Operation != held.Operation || !got.Created.Equal(held.Created) {
		t.Errorf("CurrentLock = %+v, want %+v", *got, held)
	}
}

func testLockNeedsOperation(t *testing.T, open func() journal.Store) {
	s := open()
	if _, err := s.Lock(ctx, journal.LockInfo{Who: "x"}); err == nil {
		t.Fatal("Lock without an operation succeeded")
	}
	if l, err := s.CurrentLock(ctx); err != nil || l != nil {
		t.Errorf("refused Lock left %v, %v", l, err)
	}
}

func testUnlockNeedsMatchingID(t *testing.T, open func() journal.Store) {
	s := open()
	held := mustLock(t, s, journal.LockInfo{Operation: "apply"})
	for _, wrong := range []string{"", "not-the-id", strings.ToUpper(held.ID)} {
		err := s.Unlock(ctx, wrong)
		var me *journal.LockMismatchError
		if !errors.As(err, &me) || me.Held.ID != held.ID || me.ID != wrong {
			t.Errorf("Unlock(%q) = %v, want *LockMismatchError naming %s", wrong, err, held.ID)
		}
	}
	if cur, _ := s.CurrentLock(ctx); cur == nil || cur.ID != held.ID {
		t.Fatalf("a refused Unlock changed the lock to %v", cur)
	}
	if err := s.Unlock(ctx, held.ID); err != nil {
		t.Fatalf("Unlock with the right ID: %v", err)
	}
	if cur, err := s.CurrentLock(ctx); err != nil || cur != nil {
		t.Errorf("after Unlock, CurrentLock = %v, %v; want nil", cur, err)
	}
	if err := s.Unlock(ctx, held.ID); !errors.Is(err, journal.ErrNotLocked) {
		t.Errorf("second Unlock = %v, want ErrNotLocked", err)
	}
	again := mustLock(t, open(), journal.LockInfo{Operation: "apply"})
	if again.ID == held.ID {
		t.Errorf("relocking reused lock ID %s", again.ID)
	}
}

func testForceUnlock(t *testing.T, open func() journal.Store) {
	// The holder is "killed": its Store is abandoned, and a human breaks
	// the lock from another instance.
	held := mustLock(t, open(), journal.LockInfo{Operation: "apply"})
	human := open()
	var me *journal.LockMismatchError
	if err := human.ForceUnlock(ctx, "some-other-id"); !errors.As(err, &me) {
		t.Errorf("ForceUnlock with a wrong ID = %v, want *LockMismatchError", err)
	}
	if err := human.ForceUnlock(ctx, held.ID); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	if cur, err := human.CurrentLock(ctx); err != nil || cur != nil {
		t.Errorf("after ForceUnlock, CurrentLock = %v, %v", cur, err)
	}
	if err := human.ForceUnlock(ctx, held.ID); !errors.Is(err, journal.ErrNotLocked) {
		t.Errorf("ForceUnlock of an unlocked state = %v, want ErrNotLocked", err)
	}
	mustLock(t, human, journal.LockInfo{Operation: "apply"})
}

func testLockOutlivesClose(t *testing.T, open func() journal.Store) {
	s := open()
	held := mustLock(t, s, journal.LockInfo{Operation: "apply"})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	var le *journal.LockedError
	if _, err := open().Lock(ctx, journal.LockInfo{Operation: "apply"}); !errors.As(err, &le) || le.Held.ID != held.ID {
		t.Errorf("Lock after the holder closed its store = %v, want *LockedError naming %s", err, held.ID)
	}
}
