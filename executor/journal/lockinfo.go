package journal

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"
)

// LockInfo describes who holds a state lock, for the human who finds it
// held. It is stored as JSON in the file backend's lock file and would be
// stored as metadata on a blob lease.
type LockInfo struct {
	// ID identifies this taking of the lock; Unlock and ForceUnlock must
	// quote it.
	ID string `json:"id"`
	// Operation is what the holder is doing, e.g. "apply" or "rollback".
	Operation string `json:"operation"`
	// Who is the user (or CI identity) that took the lock.
	Who string `json:"who"`
	// Host is the machine the holder runs on.
	Host string `json:"host"`
	// PID is the holder's process ID on Host, so a human (or the stale
	// hint in LockedError) can tell whether it still runs.
	PID int `json:"pid"`
	// Created is when the lock was taken, in UTC.
	Created time.Time `json:"created"`
	// Info is free text the caller adds, e.g. the CI job URL.
	Info string `json:"info,omitempty"`
	// OSLock is set by a backend whose holder also holds an OS-level
	// lock that the kernel releases when the holder's process ends (the
	// file backend on unix): finding that lock free proves the holder
	// gone, and the backend may then take the lock over.
	OSLock bool `json:"os_lock,omitempty"`
}

// String names the holder in one line for error messages.
func (i LockInfo) String() string {
	s := fmt.Sprintf("lock ID %s held by %s on %s (pid %d) for %q since %s",
		i.ID, orUnknown(i.Who), orUnknown(i.Host), i.PID, i.Operation, i.Created.UTC().Format(time.RFC3339))
	if i.Info != "" {
		s += " (" + i.Info + ")"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// NewLockID returns a random version 4 UUID. Lock IDs are UUIDs so that a
// blob backend can propose the lock ID as the lease ID and any process that
// knows the ID can release the lease.
func NewLockID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("journal: generating lock ID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// PrepareLockInfo completes info for Lock: a new ID, Created = now in UTC,
// and Who, Host and PID from this process when empty. Every backend calls it
// so that lock info means the same everywhere.
func PrepareLockInfo(info LockInfo, now time.Time) (LockInfo, error) {
	if strings.TrimSpace(info.Operation) == "" {
		return LockInfo{}, errors.New("journal: lock info needs an operation")
	}
	id, err := NewLockID()
	if err != nil {
		return LockInfo{}, err
	}
	info.ID = id
	info.Created = now.UTC()
	if info.Who == "" {
		info.Who = currentUser()
	}
	if info.Host == "" {
		// An unknown host only weakens the stale hint, so an error
		// here is not worth failing the lock for.
		info.Host, _ = os.Hostname()
	}
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	return info, nil
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}
