package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultDir is the directory, next to the runbook, that holds local state.
const DefaultDir = ".cutover"

// DefaultLocation returns the directory and state name FileStore uses by
// default for a runbook file or directory: ".cutover" beside it, named after
// it without its extension.
func DefaultLocation(runbookPath string) (dir, state string) {
	clean := filepath.Clean(runbookPath)
	base := filepath.Base(clean)
	if ext := filepath.Ext(base); ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return filepath.Join(filepath.Dir(clean), DefaultDir), base
}

// FileStore keeps a state's journal in "<dir>/<state>.journal" and its lock
// in "<dir>/<state>.lock". It is safe for concurrent use.
type FileStore struct {
	dir         string
	journalPath string
	lockPath    string
	state       string
	clock       func() time.Time
	guard       Guard

	mu sync.Mutex
	// f is the journal opened for appending, nil until the first Append.
	f *os.File
	// end and lastSeq describe the journal as this store last verified
	// it; loaded is false when they must be re-read from disk.
	end     int64
	lastSeq uint64
	loaded  bool
}

var _ Store = (*FileStore)(nil)

// Option configures a FileStore.
type Option func(*FileStore)

// WithClock sets the clock that stamps records and locks; the default is
// time.Now. Tests inject a fixed clock so journals are reproducible.
func WithClock(now func() time.Time) Option {
	return func(s *FileStore) { s.clock = now }
}

// WithGuard replaces DefaultGuard as the set of substrings Append refuses.
// An empty Guard turns the check off.
func WithGuard(g Guard) Option {
	return func(s *FileStore) { s.guard = g }
}

// OpenFile returns the store for state stateName under dir. It touches
// nothing on disk: the directory and files are created by the first Append
// or Lock, so that read-only commands leave no trace.
func OpenFile(dir, stateName string, opts ...Option) (*FileStore, error) {
	if err := checkStateName(stateName); err != nil {
		return nil, err
	}
	if dir == "" {
		dir = "."
	}
	s := &FileStore{
		dir:         dir,
		state:       stateName,
		journalPath: filepath.Join(dir, stateName+".journal"),
		lockPath:    filepath.Join(dir, stateName+".lock"),
		clock:       time.Now,
		guard:       DefaultGuard,
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

func checkStateName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("journal: invalid state name %q", name)
	case strings.ContainsAny(name, `/\`+"\x00"):
		return fmt.Errorf("journal: state name %q must not contain a path separator", name)
	}
	return nil
}

// JournalPath returns the path of the journal file, for messages.
func (s *FileStore) JournalPath() string { return s.journalPath }

// LockPath returns the path of the lock file, for messages.
func (s *FileStore) LockPath() string { return s.lockPath }

// Append implements Store. The record is written with one write call and
// the file is fsynced before Append returns; the directory is fsynced too
// when this store first opens the journal, so a newly created file survives
// a crash as well as its contents do.
func (s *FileStore) Append(ctx context.Context, r Record) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.readyToAppend(); err != nil {
		return Record{}, err
	}
	rec, payload, err := EncodeRecord(r, s.lastSeq+1, s.clock(), s.guard)
	if err != nil {
		return Record{}, err
	}
	line := appendFrame(make([]byte, 0, len(payload)+24), payload)
	n, err := s.f.Write(line)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		// After a failed write or fsync the file's contents are
		// unknown (a failed fsync may even have dropped dirty pages),
		// so forget what we knew: the next Append re-reads the file
		// and cuts off whatever part of this record reached it.
		s.closeFile()
		return Record{}, fmt.Errorf("journal %s: appending record %d: %w", s.journalPath, rec.Seq, err)
	}
	s.end += int64(n)
	s.lastSeq = rec.Seq
	return rec, nil
}

// readyToAppend opens the journal if need be and makes sure end and
// lastSeq describe the file, re-reading it when this store has not yet done
// so or when its size changed behind our back (another process appended
// without the lock, or a torn record is present).
func (s *FileStore) readyToAppend() error {
	if s.f == nil {
		if err := s.ensureDir(); err != nil {
			return err
		}
		f, err := os.OpenFile(s.journalPath, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("journal: opening %s: %w", s.journalPath, err)
		}
		// Whether this open created the file or a killed process did
		// before it could sync the directory, the entry must be
		// durable before we rely on the records in it.
		if err := syncDir(s.dir); err != nil {
			_ = f.Close()
			return fmt.Errorf("journal: syncing directory %s: %w", s.dir, err)
		}
		s.f = f
		s.loaded = false
	}
	fi, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if s.loaded && fi.Size() == s.end {
		return nil
	}
	res, err := scan(io.NewSectionReader(s.f, 0, fi.Size()), s.journalPath)
	if err != nil {
		return err
	}
	if res.dropped > 0 {
		// Appending after a torn record would turn it into a damaged
		// record in the middle, which replay refuses. Cut it off.
		if err := s.f.Truncate(res.end); err != nil {
			return fmt.Errorf("journal: cutting torn record off %s: %w", s.journalPath, err)
		}
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("journal: syncing %s: %w", s.journalPath, err)
		}
	}
	s.end = res.end
	s.lastSeq = uint64(len(res.records))
	s.loaded = true
	return nil
}

func (s *FileStore) ensureDir() error {
	if _, err := os.Stat(s.dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("journal: creating %s: %w", s.dir, err)
	}
	if err := syncDir(filepath.Dir(filepath.Clean(s.dir))); err != nil {
		return fmt.Errorf("journal: syncing parent of %s: %w", s.dir, err)
	}
	return nil
}

func (s *FileStore) closeFile() {
	if s.f != nil {
		_ = s.f.Close() // the caller already has the error that matters
		s.f = nil
	}
	s.loaded = false
}

// Replay implements Store. It does not modify the journal: a torn record is
// only reported here and is cut off by the next Append.
func (s *FileStore) Replay(ctx context.Context) (Replay, error) {
	if err := ctx.Err(); err != nil {
		return Replay{}, err
	}
	// Holding mu keeps this process's own appends from showing up as a
	// torn record half-way through their write.
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.Open(s.journalPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Replay{}, nil
	}
	if err != nil {
		return Replay{}, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	res, err := scan(f, s.journalPath)
	if err != nil {
		return Replay{}, err
	}
	return Replay{Records: res.records, DroppedBytes: res.dropped}, nil
}

// Close implements Store.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	s.loaded = false
	return err
}

// Lock implements Store. The lock file is written in full and synced under
// a temporary name, then hard-linked to "<state>.lock"; the link fails if
// the lock exists, so taking the lock is atomic and a crash can never leave
// a half-written lock file.
func (s *FileStore) Lock(ctx context.Context, info LockInfo) (LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return LockInfo{}, err
	}
	info, err := PrepareLockInfo(info, s.clock())
	if err != nil {
		return LockInfo{}, err
	}
	if err := s.ensureDir(); err != nil {
		return LockInfo{}, err
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return LockInfo{}, fmt.Errorf("journal: encoding lock info: %w", err)
	}
	tmp, err := writeTemp(s.dir, s.state+".lock.*.tmp", append(b, '\n'))
	if err != nil {
		return LockInfo{}, err
	}
	defer os.Remove(tmp)
	// Someone may unlock between our failed link and our read of their
	// lock; then try again rather than report a lock nobody holds.
	for attempt := 0; ; attempt++ {
		err = os.Link(tmp, s.lockPath)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return LockInfo{}, fmt.Errorf("journal: taking lock %s: %w", s.lockPath, err)
		}
		held, rerr := s.readLock()
		if errors.Is(rerr, fs.ErrNotExist) && attempt < 3 {
			continue
		}
		if rerr != nil {
			return LockInfo{}, rerr
		}
		return LockInfo{}, &LockedError{Held: held, Stale: staleHint(held)}
	}
	if err := syncDir(s.dir); err != nil {
		_ = os.Remove(s.lockPath)
		return LockInfo{}, fmt.Errorf("journal: syncing directory %s: %w", s.dir, err)
	}
	return info, nil
}

// writeTemp writes b to a new file in dir, syncs and closes it, and returns
// its name.
func writeTemp(dir, pattern string, b []byte) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("journal: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("journal: writing %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// readLock returns the lock file's contents; fs.ErrNotExist means unlocked.
func (s *FileStore) readLock() (LockInfo, error) {
	b, err := os.ReadFile(s.lockPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return LockInfo{}, err
		}
		return LockInfo{}, fmt.Errorf("journal: reading lock: %w", err)
	}
	var info LockInfo
	if err := json.Unmarshal(b, &info); err != nil || info.ID == "" {
		return LockInfo{}, fmt.Errorf("journal: lock file %s is unreadable; once no operation runs on this state, remove it by hand", s.lockPath)
	}
	return info, nil
}

// Unlock implements Store. For files it is the same as ForceUnlock.
func (s *FileStore) Unlock(ctx context.Context, id string) error {
	return s.ForceUnlock(ctx, id)
}

// ForceUnlock implements Store. The check of the ID and the removal are two
// steps: two people force-unlocking and re-locking the same state within
// that instant could remove each other's lock, which the file system gives
// no way to rule out and which the ID check makes very unlikely.
func (s *FileStore) ForceUnlock(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	held, err := s.readLock()
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotLocked
	}
	if err != nil {
		return err
	}
	if held.ID != id {
		return &LockMismatchError{ID: id, Held: held}
	}
	if err := os.Remove(s.lockPath); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ErrNotLocked
		}
		return fmt.Errorf("journal: removing lock: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("journal: syncing directory %s: %w", s.dir, err)
	}
	return nil
}

// CurrentLock implements Store.
func (s *FileStore) CurrentLock(ctx context.Context) (*LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	held, err := s.readLock()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &held, nil
}

// staleHint says why the holder of a lock seems gone, if it runs on this
// host and its process does not. It cannot see other hosts, and a reused
// PID hides a dead holder, so an empty hint proves nothing.
func staleHint(held LockInfo) string {
	host, err := os.Hostname()
	if err != nil || held.Host != host || held.PID <= 0 || held.PID == os.Getpid() {
		return ""
	}
	if processGone(held.PID) {
		return fmt.Sprintf("process %d no longer runs on %s, so the lock is probably stale", held.PID, host)
	}
	return ""
}
