package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

func groupRecord(n int) Record {
	return Record{Kind: StepPending, RunID: "run", StepID: fmt.Sprintf(`vm.app["vm%03d"].replicate`, n), Attempt: 1}
}

// gatedStore returns a store whose fsyncs each wait for a value on gate
// (nil lets them through) after announcing themselves on entered, and
// fail with the error fail returns for that sync's number, counted from 1.
func gatedStore(t *testing.T, fail func(n int) error) (s *FileStore, entered chan int, gate chan struct{}) {
	t.Helper()
	s, err := OpenFile(t.TempDir(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	entered = make(chan int, 100)
	gate = make(chan struct{})
	var n int
	s.sync = func(f *os.File) error {
		n++ // only the leader, holding mu, syncs
		entered <- n
		<-gate
		if err := fail(n); err != nil {
			return err
		}
		return f.Sync()
	}
	return s, entered, gate
}

// waitQueued waits until n appends wait in s's queue.
func waitQueued(s *FileStore, n int) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.qmu.Lock()
		got := len(s.queue)
		s.qmu.Unlock()
		if got == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d appends queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

type appendResult struct {
	i   int
	rec Record
	err error
}

// appendAll starts one Append per record and returns their results as
// they come.
func appendAll(s *FileStore, ctxs []context.Context, recs []Record) <-chan appendResult {
	out := make(chan appendResult, len(recs))
	for i, r := range recs {
		go func() {
			got, err := s.Append(ctxs[i], r)
			out <- appendResult{i, got, err}
		}()
	}
	return out
}

func TestConcurrentAppendsShareOneSync(t *testing.T) {
	t.Parallel()
	s, entered, gate := gatedStore(t, func(int) error { return nil })
	bg := context.Background()

	// The first append leads alone and is held inside its fsync.
	first := appendAll(s, []context.Context{bg}, []Record{groupRecord(0)})
	<-entered

	// Meanwhile the rest queue behind it; one of them is refused, one's
	// context ends while it waits.
	const n = 20
	recs := make([]Record, n)
	ctxs := make([]context.Context, n)
	cctx, cancel := context.WithCancel(bg)
	for i := range recs {
		recs[i], ctxs[i] = groupRecord(i+1), bg
	}
	recs[5].Kind = KindUnspecified
	ctxs[7] = cctx
	rest := appendAll(s, ctxs, recs)
	if err := waitQueued(s, n); err != nil {
		close(gate)
		t.Fatal(err)
	}
	cancel()
	select {
	case r := <-first:
		t.Fatalf("Append returned (%v) before its fsync finished", r.err)
	case r := <-rest:
		t.Fatalf("queued Append %d returned (%v) before any of its batch was written", r.i, r.err)
	case <-time.After(20 * time.Millisecond):
	}

	gate <- struct{}{}
	if r := <-first; r.err != nil || r.rec.Seq != 1 {
		t.Fatalf("first Append = seq %d, %v; want seq 1", r.rec.Seq, r.err)
	}
	// All the queued appends are written together: one more fsync, and
	// none of them returns before it ends.
	if got := <-entered; got != 2 {
		t.Fatalf("fsync #%d, want #2", got)
	}
	select {
	case r := <-rest:
		t.Fatalf("Append %d returned (%v) before its batch's fsync finished", r.i, r.err)
	case <-time.After(20 * time.Millisecond):
	}
	close(gate)

	seqs := map[uint64]string{1: groupRecord(0).StepID}
	for range n {
		r := <-rest
		switch r.i {
		case 5:
			if !errors.Is(r.err, ErrInvalidRecord) {
				t.Errorf("invalid record in a batch: %v, want ErrInvalidRecord", r.err)
			}
			continue
		case 7:
			if !errors.Is(r.err, context.Canceled) {
				t.Errorf("append whose context ended while queued: %v, want context.Canceled", r.err)
			}
			continue
		}
		if r.err != nil {
			t.Fatalf("Append %d: %v", r.i, r.err)
		}
		if prev, dup := seqs[r.rec.Seq]; dup {
			t.Fatalf("seq %d given to %s and %s", r.rec.Seq, prev, r.rec.StepID)
		}
		seqs[r.rec.Seq] = r.rec.StepID
	}
	select {
	case got := <-entered:
		t.Fatalf("fsync #%d: %d concurrent appends took more than two", got, n+1)
	default:
	}

	rep, err := s.Replay(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Records) != len(seqs) {
		t.Fatalf("replayed %d records, want %d", len(rep.Records), len(seqs))
	}
	for i, r := range rep.Records {
		if r.Seq != uint64(i+1) || r.StepID != seqs[r.Seq] {
			t.Errorf("record %d is seq %d %s, want seq %d %s", i, r.Seq, r.StepID, i+1, seqs[uint64(i+1)])
		}
	}
}

func TestFailedSyncFailsBatchAndLaterAppends(t *testing.T) {
	t.Parallel()
	s, entered, gate := gatedStore(t, func(n int) error {
		if n == 2 {
			return syscall.EIO
		}
		return nil
	})
	close(gate)
	bg := context.Background()
	if _, err := s.Append(bg, groupRecord(0)); err != nil {
		t.Fatal(err)
	}
	<-entered

	// Hold the next batch's leader until everyone has queued behind it,
	// so that they all share the failing fsync.
	s.mu.Lock()
	const n = 5
	ctxs := make([]context.Context, n)
	recs := make([]Record, n)
	for i := range recs {
		recs[i], ctxs[i] = groupRecord(i+1), bg
	}
	res := appendAll(s, ctxs, recs)
	err := waitQueued(s, n)
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	var failed int
	for range n {
		r := <-res
		if r.err == nil {
			t.Errorf("Append %d = seq %d despite a failed fsync", r.i, r.rec.Seq)
			continue
		}
		if !errors.Is(r.err, syscall.EIO) {
			t.Errorf("Append %d: %v, want the fsync's EIO", r.i, r.err)
		}
		failed++
	}
	if got := <-entered; got != 2 || failed != n {
		t.Fatalf("fsync #%d failed %d appends, want #2 failing all %d", got, failed, n)
	}

	// The file's state is unknown now: this store writes nothing more.
	before, err := os.ReadFile(s.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(bg, groupRecord(99)); !errors.Is(err, syscall.EIO) {
		t.Errorf("Append after a failed fsync: %v, want a refusal naming the EIO", err)
	}
	after, err := os.ReadFile(s.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Error("an Append after a failed fsync changed the journal")
	}
	select {
	case got := <-entered:
		t.Errorf("fsync #%d after the store failed", got)
	default:
	}

	// A store opened again resumes from what the file holds.
	again, err := OpenFile(s.dir, "prod")
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	rep, err := again.Replay(bg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.Append(bg, groupRecord(100))
	if err != nil || got.Seq != rep.LastSeq()+1 {
		t.Fatalf("Append on a reopened store = seq %d, %v; want seq %d", got.Seq, err, rep.LastSeq()+1)
	}
}

// TestReplayNeverSeesHalfABatch replays while parallel appends are under
// way: a batch being written must not show up as a torn record.
func TestReplayNeverSeesHalfABatch(t *testing.T) {
	t.Parallel()
	s, err := OpenFile(t.TempDir(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bg := context.Background()
	var wg sync.WaitGroup
	const workers, each = 8, 20
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Append(bg, groupRecord(w*each+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		rep, err := s.Replay(bg)
		if err != nil || rep.DroppedBytes != 0 {
			t.Fatalf("Replay during appends: dropped %d bytes, %v", rep.DroppedBytes, err)
		}
		select {
		case <-done:
			if rep, _ := s.Replay(bg); len(rep.Records) != workers*each {
				t.Fatalf("replayed %d records, want %d", len(rep.Records), workers*each)
			}
			return
		default:
		}
	}
}
