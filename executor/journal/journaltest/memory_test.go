package journaltest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"cutover/executor/journal"
	"cutover/executor/journal/journaltest"
)

// memLocation is shared storage, like a blob container: each memStore on
// it is a separate client.
type memLocation struct {
	mu      sync.Mutex
	records [][]byte // encoded JSON, as a blob backend would store blocks
	lock    *journal.LockInfo
}

// memStore is a minimal backend written only against the journal package's
// exported helpers. It shows the suite assumes nothing about files, which
// is what a blob backend will rely on.
type memStore struct{ loc *memLocation }

var _ journal.Store = memStore{}

func (s memStore) Append(ctx context.Context, r journal.Record) (journal.Record, error) {
	if err := ctx.Err(); err != nil {
		return journal.Record{}, err
	}
	s.loc.mu.Lock()
	defer s.loc.mu.Unlock()
	rec, b, err := journal.EncodeRecord(r, uint64(len(s.loc.records))+1, time.Now(), journal.DefaultGuard)
	if err != nil {
		return journal.Record{}, err
	}
	s.loc.records = append(s.loc.records, b)
	return rec, nil
}

func (s memStore) Replay(ctx context.Context) (journal.Replay, error) {
	if err := ctx.Err(); err != nil {
		return journal.Replay{}, err
	}
	s.loc.mu.Lock()
	defer s.loc.mu.Unlock()
	var rep journal.Replay
	for _, b := range s.loc.records {
		r, err := journal.DecodeRecord(b)
		if err != nil {
			return journal.Replay{}, err
		}
		rep.Records = append(rep.Records, r)
	}
	return rep, nil
}

func (s memStore) Lock(ctx context.Context, info journal.LockInfo) (journal.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return journal.LockInfo{}, err
	}
	info, err := journal.PrepareLockInfo(info, time.Now())
	if err != nil {
		return journal.LockInfo{}, err
	}
	s.loc.mu.Lock()
	defer s.loc.mu.Unlock()
	if s.loc.lock != nil {
		return journal.LockInfo{}, &journal.LockedError{Held: *s.loc.lock}
	}
	s.loc.lock = &info
	return info, nil
}

func (s memStore) Unlock(ctx context.Context, id string) error { return s.ForceUnlock(ctx, id) }

func (s memStore) ForceUnlock(ctx context.Context, id string) error {
	s.loc.mu.Lock()
	defer s.loc.mu.Unlock()
	switch {
	case s.loc.lock == nil:
		return journal.ErrNotLocked
	case s.loc.lock.ID != id:
		return &journal.LockMismatchError{ID: id, Held: *s.loc.lock}
	}
	s.loc.lock = nil
	return nil
}

func (s memStore) CurrentLock(context.Context) (*journal.LockInfo, error) {
	s.loc.mu.Lock()
	defer s.loc.mu.Unlock()
	if s.loc.lock == nil {
		return nil, nil
	}
	held := *s.loc.lock
	return &held, nil
}

func (memStore) Close() error { return nil }

func TestMemoryBackendConformance(t *testing.T) {
	t.Parallel()
	journaltest.Run(t, func(t *testing.T) func() journal.Store {
		loc := &memLocation{}
		return func() journal.Store { return memStore{loc} }
	})
}
