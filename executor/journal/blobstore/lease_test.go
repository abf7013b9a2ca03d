package blobstore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/appendblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"cutover/executor/journal"
	"cutover/executor/journal/blobstore"
	"cutover/executor/journal/blobstore/azuritetest"
)

func step(n int) journal.Record {
	return journal.Record{Kind: journal.StepPending, RunID: "run", StepID: fmt.Sprintf(`vm.app["vm%03d"].replicate`, n), Attempt: 1}
}

// rawJournal returns an SDK client for a state's journal blob, to look at
// or damage it behind the store's back.
func rawJournal(t *testing.T, cfg blobstore.Config) *appendblob.Client {
	t.Helper()
	cc, err := container.NewClientWithSharedKeyCredential(cfg.ServiceURL+"/"+cfg.Container, cfg.SharedKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cc.NewAppendBlobClient(cfg.State + ".journal")
}

func checkSteps(t *testing.T, recs []journal.Record, want []string) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("replayed %d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.StepID != want[i] {
			t.Errorf("record %d = seq %d step %q, want seq %d step %q", i, r.Seq, r.StepID, i+1, want[i])
		}
	}
}

// An apply journals under the lock; a second runner (a resumed apply)
// reads every record back and continues the sequence.
func TestJournalRoundTripAcrossStores(t *testing.T) {
	t.Parallel()
	cfg := config(t, uniqueName("roundtrip"), "prod")
	a := open(t, cfg)
	lock, err := a.Lock(ctx, journal.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	handle := json.RawMessage(`{"job":"asr-job-1","resumeToken":"{\"u\":\"https://x/op?a=1&b=2\"}"}`)
	in := []journal.Record{
		{Kind: journal.RunStarted, PlanID: "p", RunID: "r1"},
		{Kind: journal.StepPending, PlanID: "p", RunID: "r1", StepID: "s1", Attempt: 1},
		{Kind: journal.StepStarted, PlanID: "p", RunID: "r1", StepID: "s1", Attempt: 1, Handle: handle},
		{Kind: journal.StepFailed, PlanID: "p", RunID: "r1", StepID: "s1", Attempt: 1, Error: "ünïcode\nand a newline"},
	}
	var out []journal.Record
	for _, r := range in {
		got, err := a.Append(ctx, r)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		out = append(out, got)
	}
	if err := a.Unlock(ctx, lock.ID); err != nil {
		t.Fatal(err)
	}

	b := open(t, cfg)
	rep, err := b.Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.DroppedBytes != 0 || len(rep.Records) != len(in) {
		t.Fatalf("replay = %d records, %d dropped; want %d, 0", len(rep.Records), rep.DroppedBytes, len(in))
	}
	for i, got := range rep.Records {
		want := out[i]
		if got.Seq != want.Seq || !got.Time.Equal(want.Time) || got.Kind != want.Kind || got.StepID != want.StepID ||
			got.Error != want.Error || !bytes.Equal(got.Handle, want.Handle) {
			t.Errorf("record %d replayed as %+v, appended as %+v", i, got, want)
		}
	}
	if _, err := b.Lock(ctx, journal.LockInfo{Operation: "apply"}); err != nil {
		t.Fatalf("second runner's Lock after Unlock: %v", err)
	}
	next, err := b.Append(ctx, journal.Record{Kind: journal.RunStarted, PlanID: "p", RunID: "r2"})
	if err != nil {
		t.Fatal(err)
	}
	if next.Seq != uint64(len(in)+1) {
		t.Errorf("resumed run's first record has seq %d, want %d", next.Seq, len(in)+1)
	}
	// The blob reads like the file backend's journal: framed JSON lines.
	resp, err := rawJournal(t, cfg).DownloadStream(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(in)+1 || !strings.Contains(lines[0], ` {"seq":1,`) {
		t.Errorf("journal blob holds %d lines starting %q; want %d framed JSON lines", len(lines), lines[0], len(in)+1)
	}
}

// While one runner holds the lease, a second apply is refused by name, and
// cannot write to the journal either: the service refuses appends without
// the lease.
func TestSecondApplyRefusedWhileLeaseHeld(t *testing.T) {
	t.Parallel()
	cfg := config(t, uniqueName("held"), "prod")
	cfg.LeaseDuration = 15 * time.Second
	first := open(t, cfg)
	held, err := first.Lock(ctx, journal.LockInfo{Operation: "apply", Who: "alice", Host: "runner-1", PID: 4242, Info: "pipeline 7 ✓"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Append(ctx, step(0)); err != nil {
		t.Fatalf("holder's Append: %v", err)
	}

	second := open(t, cfg)
	_, err = second.Lock(ctx, journal.LockInfo{Operation: "apply", Who: "bob"})
	var le *journal.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock = %v, want *journal.LockedError", err)
	}
	if le.Held.ID != held.ID || le.Held.Who != "alice" || le.Held.Host != "runner-1" || le.Held.PID != 4242 || le.Held.Info != "pipeline 7 ✓" {
		t.Errorf("LockedError names %+v, want the holder %+v", le.Held, held)
	}
	for _, part := range []string{held.ID, "alice", "runner-1", "4242"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("LockedError %q does not mention %q", err, part)
		}
	}
	_, err = second.Append(ctx, step(99))
	if !errors.As(err, &le) || le.Held.ID != held.ID {
		t.Errorf("Append by a runner without the lock = %v, want an error wrapping *journal.LockedError naming %s", err, held.ID)
	}

	// The holder renews its 15 s lease: past the lease duration the
	// second apply is still refused and the holder still appends.
	time.Sleep(20 * time.Second)
	if _, err := second.Lock(ctx, journal.LockInfo{Operation: "apply"}); !errors.As(err, &le) || le.Held.ID != held.ID {
		t.Errorf("Lock after the lease duration, holder renewing = %v, want *journal.LockedError naming %s", err, held.ID)
	}
	if _, err := first.Append(ctx, step(1)); err != nil {
		t.Errorf("holder's Append after renewals: %v", err)
	}
	rep, err := second.Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, rep.Records, []string{step(0).StepID, step(1).StepID})
	if err := first.Unlock(ctx, held.ID); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if _, err := second.Lock(ctx, journal.LockInfo{Operation: "apply"}); err != nil {
		t.Errorf("Lock after Unlock: %v", err)
	}
}

// A runner that dies holding the lock (its store dropped without Unlock:
// no more renewals) blocks the next apply until a human force-unlocks the
// lock ID they were shown; the next apply then continues the journal.
func TestCrashReleasedByForceUnlock(t *testing.T) {
	t.Parallel()
	cfg := config(t, uniqueName("forceunlock"), "prod")
	dead := open(t, cfg)
	held, err := dead.Lock(ctx, journal.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dead.Append(ctx, step(0)); err != nil {
		t.Fatal(err)
	}
	_ = dead.Close() // the process is gone: nothing renews or releases

	next := open(t, cfg)
	_, err = next.Lock(ctx, journal.LockInfo{Operation: "apply"})
	var le *journal.LockedError
	if !errors.As(err, &le) || le.Held.ID != held.ID {
		t.Fatalf("Lock while the dead runner's lease stands = %v, want *journal.LockedError naming %s", err, held.ID)
	}
	human := open(t, cfg)
	var me *journal.LockMismatchError
	if err := human.ForceUnlock(ctx, strings.ToUpper(held.ID)); !errors.As(err, &me) {
		t.Errorf("ForceUnlock with the ID in another case = %v, want *journal.LockMismatchError", err)
	}
	if err := human.ForceUnlock(ctx, le.Held.ID); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	if _, err := next.Lock(ctx, journal.LockInfo{Operation: "apply"}); err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	got, err := next.Append(ctx, step(1))
	if err != nil || got.Seq != 2 {
		t.Fatalf("Append after taking over = seq %d, %v; want seq 2", got.Seq, err)
	}
}

// A runner that lost its lock while still running (a human force-unlocked
// it, another apply took over) can no longer write: its appends carry a
// lease ID the service no longer honours.
func TestLostLockCannotAppend(t *testing.T) {
	t.Parallel()
	cfg := config(t, uniqueName("zombie"), "prod")
	zombie := open(t, cfg)
	held, err := zombie.Lock(ctx, journal.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zombie.Append(ctx, step(0)); err != nil {
		t.Fatal(err)
	}
	if err := open(t, cfg).ForceUnlock(ctx, held.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := zombie.Append(ctx, step(1)); err == nil {
		t.Error("Append by a store whose lock was force-unlocked succeeded")
	}
	next := open(t, cfg)
	taken, err := next.Lock(ctx, journal.LockInfo{Operation: "apply", Who: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = zombie.Append(ctx, step(2))
	var le *journal.LockedError
	if !errors.As(err, &le) || le.Held.ID != taken.ID {
		t.Errorf("Append by the old holder after another took the lock = %v, want an error wrapping *journal.LockedError naming %s", err, taken.ID)
	}
	if _, err := next.Append(ctx, step(3)); err != nil {
		t.Fatal(err)
	}
	rep, err := next.Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, rep.Records, []string{step(0).StepID, step(3).StepID})
}

// A dead runner's finite lease expires by itself: after at most the lease
// duration the next apply takes the lock without a human.
func TestCrashLeaseExpires(t *testing.T) {
	t.Parallel()
	cfg := config(t, uniqueName("expiry"), "prod")
	cfg.LeaseDuration = 15 * time.Second
	dead := open(t, cfg)
	held, err := dead.Lock(ctx, journal.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	taken := time.Now()
	_ = dead.Close()

	next := open(t, cfg)
	var le *journal.LockedError
	if _, err := next.Lock(ctx, journal.LockInfo{Operation: "apply"}); !errors.As(err, &le) || le.Held.ID != held.ID {
		t.Fatalf("Lock right after the crash = %v, want *journal.LockedError naming %s", err, held.ID)
	}
	deadline := taken.Add(25 * time.Second)
	for {
		time.Sleep(500 * time.Millisecond)
		info, err := next.Lock(ctx, journal.LockInfo{Operation: "apply"})
		if err == nil {
			if waited := time.Since(taken); waited < 14*time.Second {
				t.Errorf("the dead runner's 15 s lease ended after %v", waited)
			}
			if info.ID == held.ID {
				t.Errorf("new lock reused ID %s", info.ID)
			}
			break
		}
		if !errors.As(err, &le) {
			t.Fatalf("Lock while waiting for expiry: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead runner's 15 s lease still held after %v", time.Since(taken))
		}
	}
	// The old holder's lock ID no longer unlocks anything.
	var me *journal.LockMismatchError
	if err := next.ForceUnlock(ctx, held.ID); !errors.As(err, &me) {
		t.Errorf("ForceUnlock with the expired lock's ID = %v, want *journal.LockMismatchError", err)
	}
}

// Two runners appending at once without the lock never interleave: each
// append is conditional on the journal's end, so a writer whose view is
// stale has its write refused and either re-reads and numbers its record
// after the other's or, if the other keeps winning, fails with
// ErrContended. Either way the journal stays one gapless sequence in which
// every acknowledged record appears exactly once, at the seq it was given,
// and no failed one appears.
func TestConcurrentWritersDoNotInterleave(t *testing.T) {
	t.Parallel()
	cfg := config(t, uniqueName("writers"), "prod")
	a, b := open(t, cfg), open(t, cfg)
	const each = 30
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		acked  = map[string]uint64{}
		failed = map[string]bool{}
	)
	for w, s := range []*blobstore.Store{a, b} {
		wg.Go(func() {
			for i := range each {
				r := step(w*each + i)
				got, err := s.Append(ctx, r)
				mu.Lock()
				if err == nil {
					acked[r.StepID] = got.Seq
				} else if errors.Is(err, blobstore.ErrContended) {
					failed[r.StepID] = true
				} else {
					t.Errorf("Append: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rep, err := open(t, cfg).Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Records) != len(acked) {
		t.Errorf("journal holds %d records, %d appends were acknowledged (%d refused)", len(rep.Records), len(acked), len(failed))
	}
	for i, r := range rep.Records {
		if r.Seq != uint64(i+1) {
			t.Errorf("record %d has seq %d", i, r.Seq)
		}
		if seq, ok := acked[r.StepID]; !ok || seq != r.Seq {
			t.Errorf("journal has %s at seq %d; its Append returned seq %d (acknowledged: %v)", r.StepID, r.Seq, seq, ok)
		}
	}
	if len(acked) < each {
		t.Errorf("only %d of %d appends succeeded: the writers did not take turns", len(acked), 2*each)
	}
	t.Logf("%d appends acknowledged, %d refused as contended", len(acked), len(failed))

	// The condition itself: a write aimed at a stale end is refused by
	// the service and leaves the journal as it was.
	raw := rawJournal(t, cfg)
	stale := int64(0)
	_, err = raw.AppendBlock(ctx, streaming.NopCloser(strings.NewReader("interleaved\n")), &appendblob.AppendBlockOptions{
		AppendPositionAccessConditions: &appendblob.AppendPositionAccessConditions{AppendPosition: &stale},
	})
	if !bloberror.HasCode(err, bloberror.AppendPositionConditionNotMet) {
		t.Errorf("append at a stale position = %v, want AppendPositionConditionNotMet", err)
	}
	if rep2, err := a.Replay(ctx); err != nil || len(rep2.Records) != len(acked) {
		t.Errorf("after the refused write, replay = %d records, %v; want %d", len(rep2.Records), err, len(acked))
	}
}

// Damage anywhere in the blob is corruption, never a torn write to skip.
func TestDamagedJournalIsCorrupt(t *testing.T) {
	t.Parallel()
	cfg := config(t, uniqueName("corrupt"), "prod")
	s := open(t, cfg)
	if _, err := s.Append(ctx, step(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := rawJournal(t, cfg).AppendBlock(ctx, streaming.NopCloser(strings.NewReader("00000000 2 {}\n")), nil); err != nil {
		t.Fatal(err)
	}
	_, err := open(t, cfg).Replay(ctx)
	var ce *journal.CorruptError
	if !errors.As(err, &ce) || !strings.Contains(ce.Location, cfg.State+".journal") || ce.Offset == 0 {
		t.Fatalf("Replay of a damaged journal = %v, want *journal.CorruptError past the first record", err)
	}
	if _, err := s.Append(ctx, step(1)); !errors.As(err, &ce) {
		t.Errorf("Append to a damaged journal = %v, want *journal.CorruptError", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	base := config(t, uniqueName("missing"), "prod")
	base.CreateContainer = false
	if _, err := blobstore.Open(ctx, base); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open of a missing container = %v, want an error saying it does not exist", err)
	}
	for name, mod := range map[string]func(*blobstore.Config){
		"no credential":    func(c *blobstore.Config) { c.SharedKey = nil },
		"state with slash": func(c *blobstore.Config) { c.State = "a/b" },
		"lease too short":  func(c *blobstore.Config) { c.LeaseDuration = 5 * time.Second },
		"two credentials":  func(c *blobstore.Config) { c.ConnectionString = "UseDevelopmentStorage=true" },
	} {
		cfg := base
		mod(&cfg)
		if _, err := blobstore.Open(ctx, cfg); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
	// A malformed connection string is not echoed: it holds a key.
	const secret = "c2VjcmV0LWtleS1kby1ub3QtbGVhaw=="
	cfg := blobstore.Config{Container: "c", State: "prod", ConnectionString: "AccountName=x;AccountKey=" + secret + ";garbage"}
	if _, err := blobstore.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "malformed") || strings.Contains(err.Error(), secret) {
		t.Errorf("Open with a malformed connection string = %v; want an error saying so without repeating the key", err)
	}
	// Nor is a SAS when the service cannot be reached (nothing listens
	// on port 1).
	const sig = "c2FzLXNpZ25hdHVyZS1kby1ub3QtbGVhaw"
	cfg = blobstore.Config{Container: "c", State: "prod",
		ConnectionString: "BlobEndpoint=http://127.0.0.1:1/" + azuritetest.DevAccount + ";SharedAccessSignature=sv=2024-08-04&ss=b&sig=" + sig,
		ClientOptions:    &container.ClientOptions{ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}}}
	if _, err := blobstore.Open(ctx, cfg); err == nil || strings.Contains(err.Error(), sig) {
		t.Errorf("Open of an unreachable account with a SAS = %v; want an error that does not repeat the signature", err)
	} else {
		t.Logf("unreachable: %v", err)
	}
	// A connection string (Azurite's documented form) works.
	cs := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;", azuritetest.DevAccount, azuritetest.DevKey, azurite(t))
	s, err := blobstore.Open(ctx, blobstore.Config{Container: uniqueName("connstr"), State: "prod", ConnectionString: cs, CreateContainer: true})
	if err != nil {
		t.Fatalf("Open with a connection string: %v", err)
	}
	defer s.Close()
	if _, err := s.Append(ctx, step(0)); err != nil {
		t.Errorf("Append through a connection string: %v", err)
	}
	if strings.Contains(s.Location(), azuritetest.DevKey) {
		t.Errorf("Location %q carries the key", s.Location())
	}
}

// dropFirstAppendAnswer sends every request, but loses the answer to the
// first AppendBlock, as a connection reset after the service applied it
// would.
type dropFirstAppendAnswer struct {
	dropped atomic.Bool
}

func (d *dropFirstAppendAnswer) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err == nil && req.URL.Query().Get("comp") == "appendblock" && resp.StatusCode == http.StatusCreated && d.dropped.CompareAndSwap(false, true) {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return nil, errors.New("connection reset by peer (injected after the append landed)")
	}
	return resp, err
}

// When an append landed but its answer was lost, the SDK's retry meets the
// moved end; Append must recognise its own record there rather than
// journal it twice.
func TestLostAppendAnswerNotDuplicated(t *testing.T) {
	t.Parallel()
	cfg := config(t, uniqueName("lostanswer"), "prod")
	transport := &dropFirstAppendAnswer{}
	cfg.ClientOptions.Transport = transport
	s := open(t, cfg)
	got, err := s.Append(ctx, step(0))
	if err != nil {
		t.Fatalf("Append whose first answer was lost: %v", err)
	}
	if !transport.dropped.Load() {
		t.Fatal("the injected fault never fired")
	}
	if got.Seq != 1 {
		t.Errorf("Append returned seq %d, want 1", got.Seq)
	}
	if got, err := s.Append(ctx, step(1)); err != nil || got.Seq != 2 {
		t.Errorf("next Append = seq %d, %v; want seq 2", got.Seq, err)
	}
	rep, err := open(t, config(t, cfg.Container, cfg.State)).Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, rep.Records, []string{step(0).StepID, step(1).StepID})
}
