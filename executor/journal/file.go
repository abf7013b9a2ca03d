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
	"sync/atomic"
	"time"

	"cutover/internal/userfile"
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
//
// Concurrent appends share a write and an fsync (group commit): the first
// caller to find no write under way becomes the leader, takes every record
// queued by then, writes them in one write call and fsyncs once; each of
// those appends returns after that fsync with its own sequence number.
// Records that arrive while a batch is being written queue for the next
// one, whose leader is the first of them. A single caller therefore pays
// one fsync per append as before, while N parallel callers pay about one
// fsync per N appends.
type FileStore struct {
	dir         string
	journalPath string
	lockPath    string
	osLockPath  string
	state       string
	clock       func() time.Time
	guard       Guard
	// sync makes the journal's written data durable; tests replace it
	// to fail.
	sync func(*os.File) error
	// madeDir says this store created dir: Unlock removes it again when
	// nothing was written in it.
	madeDir atomic.Bool

	// qmu guards queue and leading. It is held only briefly, never
	// across I/O, so that appends can queue while a batch is written.
	// When both are held, mu is taken first.
	qmu sync.Mutex
	// queue holds the appends waiting for the next batch.
	queue []*pendingAppend
	// leading is true while some Append is (or has been chosen to be)
	// the leader that will write the queue.
	leading bool

	// mu guards the journal file and what we know of it. The leader
	// holds it while it writes and syncs a batch; Replay and Close hold
	// it so that they never see or cut a batch half-way.
	mu sync.Mutex
	// f is the journal opened for appending, nil until the first Append.
	f *os.File
	// end and lastSeq describe the journal as this store last verified
	// it; loaded is false when they must be re-read from disk.
	end     int64
	lastSeq uint64
	loaded  bool
	// failed is set once a write or sync of the journal failed: what
	// reached the disk is then unknown, so this store appends nothing
	// more (see Append).
	failed error
	// buf is reused for the bytes of each batch.
	buf []byte

	// lmu guards held and heldID: the OS lock this store took with
	// the lock of that ID, kept until Unlock or the process's end
	// (Close leaves it, as it leaves the lock file).
	lmu    sync.Mutex
	held   *osLock
	heldID string
}

// pendingAppend is one Append waiting in the queue.
type pendingAppend struct {
	ctx context.Context
	in  Record
	// wake receives exactly one value: either the batch holding this
	// append was written (done is then set) or this append is to lead
	// the next batch.
	wake chan struct{}
	done bool
	out  Record
	err  error
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
		osLockPath:  filepath.Join(dir, stateName+".oslock"),
		clock:       time.Now,
		guard:       DefaultGuard,
		sync:        (*os.File).Sync,
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

// Append implements Store. The record is written and the file fsynced
// before Append returns; the directory is fsynced too when this store first
// opens the journal, so a newly created file survives a crash as well as its
// contents do. Appends made at the same time are written together with one
// write call and one fsync (see FileStore); sequence numbers follow the
// order in which they are written, so they stay gapless.
//
// ctx is checked when Append is called and again when its batch is formed:
// an append whose ctx ended while it waited is refused and nothing of it is
// written. Once its batch is being written, Append waits for the outcome.
//
// If writing or syncing a batch fails, every append in it fails, and so
// does every later Append on this FileStore: after a failed write or fsync
// the file's contents are unknown (a failed fsync may even have dropped
// dirty pages that a re-read would still show), so carrying on could put
// durable records after lost ones. A new store from OpenFile (a resumed
// apply) re-reads the journal and cuts off a torn record.
func (s *FileStore) Append(ctx context.Context, r Record) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	p := &pendingAppend{ctx: ctx, in: r, wake: make(chan struct{}, 1)}
	s.qmu.Lock()
	s.queue = append(s.queue, p)
	lead := !s.leading
	s.leading = true
	s.qmu.Unlock()
	if !lead {
		<-p.wake
		if p.done {
			return p.out, p.err
		}
		// The previous leader handed the next batch to us.
	}

	s.mu.Lock()
	s.qmu.Lock()
	// Everything queued while we waited for mu joins this batch.
	batch := s.queue
	s.queue = nil
	s.qmu.Unlock()
	s.commit(batch)
	s.mu.Unlock()

	s.qmu.Lock()
	var next *pendingAppend
	if len(s.queue) > 0 {
		next = s.queue[0]
	} else {
		s.leading = false
	}
	s.qmu.Unlock()
	if next != nil {
		next.wake <- struct{}{}
	}
	for _, q := range batch {
		if q != p {
			q.wake <- struct{}{}
		}
	}
	return p.out, p.err
}

// commit writes batch as one write followed by one fsync and sets each
// append's outcome. The caller holds mu.
//
// A crash during the write leaves some prefix of the batch, perhaps ending
// in a torn record, which replay drops; none of the batch's appends had
// returned, so nothing acknowledged is lost. A file system that made a
// later page of the write durable but not an earlier one would leave a
// damaged record before intact ones; replay refuses that as corrupt rather
// than guess, as it would for damage anywhere else.
func (s *FileStore) commit(batch []*pendingAppend) {
	for _, q := range batch {
		q.done = true
	}
	if s.failed != nil {
		for _, q := range batch {
			q.err = fmt.Errorf("journal %s: not appending after an earlier write failed (%w): what reached the disk is unknown; open the journal again to resume from it", s.journalPath, s.failed)
		}
		return
	}
	if err := s.readyToAppend(); err != nil {
		for _, q := range batch {
			q.err = err
		}
		return
	}
	buf := s.buf[:0]
	seq := s.lastSeq
	written := batch[:0:0]
	for _, q := range batch {
		if err := q.ctx.Err(); err != nil {
			q.err = err
			continue
		}
		// A refused record takes no sequence number, so the next
		// one in the batch gets it.
		rec, payload, err := EncodeRecord(q.in, seq+1, s.clock(), s.guard)
		if err != nil {
			q.err = err
			continue
		}
		seq++
		buf = AppendFrame(buf, payload)
		q.out = rec
		written = append(written, q)
	}
	if cap(buf) <= 1<<20 {
		s.buf = buf
	}
	if len(written) == 0 {
		return
	}
	n, err := s.f.Write(buf)
	if err == nil {
		err = s.sync(s.f)
	}
	if err != nil {
		s.fail(err)
		for _, q := range written {
			q.err = fmt.Errorf("journal %s: appending record %d: %w", s.journalPath, q.out.Seq, err)
			q.out = Record{}
		}
		return
	}
	s.end += int64(n)
	s.lastSeq = seq
}

// fail records that writing the journal failed and closes it: from now
// on, Append refuses. The caller holds mu.
func (s *FileStore) fail(err error) {
	s.failed = err
	s.closeFile()
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
		f, err := openJournal(s.journalPath, os.O_RDWR|os.O_CREATE|os.O_APPEND)
		if err != nil {
			return err
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
			err = fmt.Errorf("journal: cutting torn record off %s: %w", s.journalPath, err)
			s.fail(err)
			return err
		}
		if err := s.sync(s.f); err != nil {
			err = fmt.Errorf("journal: syncing %s: %w", s.journalPath, err)
			s.fail(err)
			return err
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
	s.madeDir.Store(true)
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

// openJournal opens the journal file and refuses anything but a regular
// file: opening a named pipe put there would wait for a writer for ever,
// and a device (/dev/zero) would be read without end. It never waits to
// open (O_NONBLOCK, which changes nothing for a regular file).
func openJournal(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|openNonblock, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("journal: opening %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("journal: %s is not a regular file (%s); once no operation runs on this state, move it away", path, fi.Mode().Type())
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
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
	f, err := openJournal(s.journalPath, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return Replay{}, nil
	}
	if err != nil {
		return Replay{}, err
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
//
// Where the OS offers it (unix), Lock first takes an exclusive flock on
// "<state>.oslock" and keeps it until Unlock or the process's end, and the
// lock file records that (LockInfo.OSLock). A lock file left by a holder
// that recorded OSLock and whose flock is free was left by a process that
// no longer runs, however it ended: Lock replaces it instead of refusing,
// so a killed apply never blocks the next one. A lock file without OSLock
// (another tool, or one taken while a force-unlocked holder still ran) is
// never broken.
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
	ol, busy, err := tryOSLock(s.osLockPath)
	for retry := 0; errors.Is(err, fs.ErrNotExist) && retry < 3; retry++ {
		// Another store removed the directory it had made, empty, as it
		// let go (Unlock): make it again.
		if err := s.ensureDir(); err != nil {
			return LockInfo{}, err
		}
		ol, busy, err = tryOSLock(s.osLockPath)
	}
	if err != nil {
		return LockInfo{}, fmt.Errorf("journal: taking OS lock %s: %w", s.osLockPath, err)
	}
	info.OSLock = ol != nil
	keep := false
	defer func() {
		if !keep {
			_ = ol.release()
		}
	}()
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
	// lock; then try again rather than report a lock nobody holds. While
	// another process holds the OS lock but has not yet linked its lock
	// file, wait for it a little.
	for attempt := 0; ; attempt++ {
		err = os.Link(tmp, s.lockPath)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return LockInfo{}, fmt.Errorf("journal: taking lock %s: %w", s.lockPath, err)
		}
		held, rerr := s.readLock()
		if errors.Is(rerr, fs.ErrNotExist) && attempt < 10 {
			if busy {
				time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
			}
			continue
		}
		if rerr != nil {
			return LockInfo{}, rerr
		}
		if ol != nil && held.OSLock {
			// Its holder took the OS lock, and we hold it now: the
			// holder is gone. Replace its lock file in one rename.
			if err := os.Rename(tmp, s.lockPath); err != nil {
				return LockInfo{}, fmt.Errorf("journal: replacing the lock file %s of a holder that no longer runs: %w", s.lockPath, err)
			}
			break
		}
		return LockInfo{}, &LockedError{Held: held, Stale: staleHint(held)}
	}
	if err := syncDir(s.dir); err != nil {
		_ = os.Remove(s.lockPath)
		return LockInfo{}, fmt.Errorf("journal: syncing directory %s: %w", s.dir, err)
	}
	if ol != nil {
		s.lmu.Lock()
		if s.held != nil {
			_ = s.held.release()
		}
		s.held, s.heldID = ol, info.ID
		s.lmu.Unlock()
		keep = true
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
	// Bounded and regular only: a named pipe in its place would block a
	// plain read for ever.
	b, err := userfile.Read(s.lockPath, 1<<20)
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

// HasOSLockFile reports, creating nothing, whether the OS lock file
// exists. Every holder that takes the OS lock creates it first, so without
// it no running process holds the OS lock, and a caller that only wants
// to judge the lock can read the lock file (CurrentLock) instead of taking
// the lock, and leave no file behind.
func (s *FileStore) HasOSLockFile() bool {
	_, err := os.Lstat(s.osLockPath)
	return !errors.Is(err, fs.ErrNotExist)
}

// Unlock implements Store. It removes the lock file as ForceUnlock does,
// then releases the OS lock this store took with it.
func (s *FileStore) Unlock(ctx context.Context, id string) error {
	err := s.ForceUnlock(ctx, id)
	if ctx.Err() != nil {
		return err
	}
	// Even when someone force-unlocked (and perhaps re-locked) the state
	// meanwhile, this store's operation is over: its OS lock goes.
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if s.held != nil && s.heldID == id {
		if rerr := s.held.release(); rerr != nil && err == nil {
			err = fmt.Errorf("journal: releasing OS lock %s: %w", s.osLockPath, rerr)
		}
		s.held, s.heldID = nil, ""
	}
	if err == nil {
		s.removeDirIfUnused()
	}
	return err
}

// removeDirIfUnused removes the state directory when this store made it
// and nothing is left in it: an apply refused after it took the lock
// (an edited plan found as its VMs were read) leaves no trace. Removing a
// directory fails unless it is empty, so a file another process put there
// meanwhile keeps it.
func (s *FileStore) removeDirIfUnused() {
	if !s.madeDir.Load() {
		return
	}
	if err := os.Remove(s.dir); err == nil {
		s.madeDir.Store(false)
		_ = syncDir(filepath.Dir(filepath.Clean(s.dir)))
	}
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
