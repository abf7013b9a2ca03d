package journal

import (
	"context"
	"errors"
	"fmt"
)

// Store is one runbook state's journal and lock. The file backend is
// FileStore; a shared backend (Azure Blob: an append blob for the journal, a
// blob lease for the lock with LockInfo in its metadata) implements the same
// interface, and every implementation must pass journaltest.Run.
//
// Appends are serialised within one Store. Across processes it is the lock
// that makes one writer: an apply takes the lock before its first Append
// and releases it after its last. Reading (Replay, CurrentLock) needs no
// lock.
type Store interface {
	// Append assigns r the next sequence number and the store clock's
	// time, and returns once the record is durable: a crash after Append
	// returns cannot lose it. The executor appends before every remote
	// call whose outcome it must remember. A record that is invalid
	// (ErrInvalidRecord) or looks like it carries a credential
	// (*SecretError) is refused and nothing is written. ctx is checked
	// before writing; a write under way is finished rather than
	// abandoned, since a half-written record helps nobody. After an
	// error the record may or may not be in the journal (a write can
	// land and its sync fail), so the executor must not make the call
	// the record guards; it stops, and a resume reads what survived.
	Append(ctx context.Context, r Record) (Record, error)

	// Replay reads every record in append order. A torn last record (the
	// write a crash interrupted) is left out and reported in
	// Replay.DroppedBytes; a damaged record before the last is a
	// *CorruptError. An empty or absent journal replays as no records.
	Replay(ctx context.Context) (Replay, error)

	// Lock takes the state lock for one operation. The store assigns
	// info.ID (see NewLockID) and info.Created and fills Who, Host and PID
	// from the environment when empty. If the lock is held, Lock returns
	// a *LockedError naming the holder; it never waits and never breaks a
	// lock, even one whose holder died: that takes a human's ForceUnlock.
	Lock(ctx context.Context, info LockInfo) (LockInfo, error)

	// Unlock releases the lock taken with the given ID. It is what the
	// holder calls when its operation ends. A different ID is a
	// *LockMismatchError and leaves the lock alone; no lock at all is
	// ErrNotLocked.
	Unlock(ctx context.Context, id string) error

	// ForceUnlock removes a lock that its holder can no longer release,
	// typically because that process was killed; it works from any
	// process or machine. The ID must match the lock's, so that a human
	// breaks the lock they inspected and not one taken since. Errors are
	// as for Unlock.
	ForceUnlock(ctx context.Context, id string) error

	// CurrentLock returns the lock's holder, or nil when unlocked.
	CurrentLock(ctx context.Context) (*LockInfo, error)

	// Close releases resources the store holds. It does not release the
	// lock: a lock outlives the Store value that took it, as it outlives
	// a killed process. Close may be called more than once.
	Close() error
}

// Replay is the result of reading a journal back.
type Replay struct {
	// Records are the intact records, in sequence order.
	Records []Record
	// DroppedBytes is the size of a torn last record left out of Records,
	// 0 when the journal ended cleanly. A backend with atomic appends
	// always reports 0.
	DroppedBytes int64
}

// LastSeq returns the sequence number of the last record, 0 for none.
func (r Replay) LastSeq() uint64 {
	if len(r.Records) == 0 {
		return 0
	}
	return r.Records[len(r.Records)-1].Seq
}

// CorruptError reports a damaged record that is not the journal's last, so
// it cannot be the torn write of a crash. The executor must stop: replaying
// around it could repeat or forget a step. A human should inspect the
// journal at Offset.
type CorruptError struct {
	// Location names the journal (a file path, a blob URL).
	Location string
	// Offset is the byte offset at which the damaged record starts.
	Offset int64
	// Reason says what is wrong with it.
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("journal %s: damaged record at byte offset %d: %s", e.Location, e.Offset, e.Reason)
}

// ErrNotLocked is returned by Unlock and ForceUnlock when the state is not
// locked.
var ErrNotLocked = errors.New("journal: state is not locked")

// LockMismatchError is returned by Unlock and ForceUnlock when the lock is
// held under a different ID than the one given.
type LockMismatchError struct {
	// ID is the lock ID the caller gave.
	ID string
	// Held describes the lock actually held.
	Held LockInfo
}

func (e *LockMismatchError) Error() string {
	return fmt.Sprintf("journal: lock ID %q does not match the lock held: %s", e.ID, e.Held)
}

// LockedError is returned by Lock when another operation holds the lock.
type LockedError struct {
	// Held describes the holder.
	Held LockInfo
	// Stale explains why the holder seems to be gone (say, its process no
	// longer runs on this host), empty when nothing suggests so. It is a
	// hint for the human deciding whether to force-unlock; the store
	// never acts on it.
	Stale string
}

func (e *LockedError) Error() string {
	msg := fmt.Sprintf("journal: state is locked: %s", e.Held)
	if e.Stale != "" {
		msg += "; " + e.Stale
	}
	return msg + fmt.Sprintf("; if that operation is no longer running, force-unlock lock ID %s", e.Held.ID)
}
