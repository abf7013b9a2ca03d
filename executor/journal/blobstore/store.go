package blobstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/appendblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"cutover/executor/journal"
)

// DefaultLeaseDuration is the lease a Lock takes when Config.LeaseDuration
// is zero: the longest finite lease Azure grants. The holder renews it in
// the background; a holder that dies stops renewing, and the state is free
// again at most this long after its last renewal.
const DefaultLeaseDuration = 60 * time.Second

// Azure accepts finite leases from 15 to 60 seconds.
const (
	minLease = 15 * time.Second
	maxLease = 60 * time.Second
)

// writeTimeout bounds one append once it is under way: the caller's ctx is
// not allowed to abandon it (see Store.Append), but a service that never
// answers must not hang the apply forever.
const writeTimeout = 2 * time.Minute

// maxAppendTries bounds how often Append re-reads the journal after another
// writer moved its end, so that a runaway writer cannot spin us forever.
const maxAppendTries = 10

// Config says where a state lives and how to reach it. Exactly one of
// Credential, SharedKey and ConnectionString authenticates.
type Config struct {
	// ServiceURL is the account's blob endpoint, e.g.
	// "https://myaccount.blob.core.windows.net/" (or Azurite's
	// "http://127.0.0.1:10000/devstoreaccount1"). Ignored when
	// ConnectionString is set, which names the endpoint itself.
	ServiceURL string
	// Container holds the state's blobs. It must exist unless
	// CreateContainer is set.
	Container string
	// State names the state: its journal and lock live in the blob
	// "<State>.journal". Same rules as the file backend's state name.
	State string

	// Credential is a Microsoft Entra ID credential (say, from
	// azidentity.NewDefaultAzureCredential); the identity needs the
	// "Storage Blob Data Contributor" role on the container.
	Credential azcore.TokenCredential
	// SharedKey is an account name and key (azblob.NewSharedKeyCredential),
	// as Azurite and accounts without Entra ID use.
	SharedKey *azblob.SharedKeyCredential
	// ConnectionString is an Azure Storage connection string (with an
	// account key or a SAS). It is a secret: it never appears in errors.
	ConnectionString string

	// CreateContainer makes Open create Container when it is missing.
	CreateContainer bool
	// LeaseDuration is the lease Lock takes, renewed at a third of it
	// while the lock is held: 0 for DefaultLeaseDuration, 15 to 60
	// seconds, or negative for an infinite lease, which only Unlock or
	// ForceUnlock ends (the file backend's behaviour).
	LeaseDuration time.Duration
	// Clock stamps records and locks; nil for time.Now.
	Clock func() time.Time
	// Guard is the set of substrings Append refuses: nil for
	// journal.DefaultGuard, an empty non-nil Guard to turn the check off.
	Guard journal.Guard
	// ClientOptions tune the SDK's pipeline (retries, transport); nil
	// for its defaults.
	ClientOptions *container.ClientOptions
}

// Store keeps one state's journal and lock in Azure Blob Storage. It is safe
// for concurrent use.
//
// The journal is the append blob "<state>.journal", one framed record per
// AppendBlock. Every block is appended on the condition that the blob
// still ends where this store last saw it end (the append-position
// condition), so two writers can never interleave or number two records
// alike: the one that lost the race re-reads the journal and numbers its
// record after the winner's.
//
// The lock is a lease on the same blob, with the lease ID equal to the lock
// ID and the LockInfo in the blob's metadata. While this store holds the
// lock its appends carry the lease ID, and the service refuses any append
// to a leased blob that does not, so a runner without the lock cannot
// write to the journal at all.
type Store struct {
	ab       *appendblob.Client
	location string // the journal blob's URL without a query, for messages
	lease    time.Duration
	clock    func() time.Time
	guard    journal.Guard

	// mu serialises appends and guards what we know of the journal.
	mu sync.Mutex
	// end and lastSeq describe the journal as this store last read or
	// wrote it; loaded is false when they must be read again.
	end     int64
	lastSeq uint64
	loaded  bool
	// exists is false when the last read found no journal blob, which
	// the next append must then create.
	exists bool

	// lmu guards the lock this store holds.
	lmu sync.Mutex
	// heldID is the lease ID of the lock this store took, "" for none.
	heldID string
	// stopRenew ends the renewal of heldID's lease, nil when none runs.
	stopRenew func()
	// renewDone is closed when the renewal goroutine has returned.
	renewDone chan struct{}
}

var _ journal.Store = (*Store)(nil)

// Open returns the store for cfg.State in cfg.Container. It checks that the
// container exists (creating it if cfg.CreateContainer) so that a wrong
// account, container or credential is reported now rather than at the first
// append, and otherwise writes nothing.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := checkStateName(cfg.State); err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.Container) == "" {
		return nil, errors.New("blobstore: no container given")
	}
	lease := cfg.LeaseDuration
	switch {
	case lease == 0:
		lease = DefaultLeaseDuration
	case lease > 0 && (lease < minLease || lease > maxLease || lease%time.Second != 0):
		return nil, fmt.Errorf("blobstore: lease duration %v: Azure grants whole seconds from %v to %v, or an infinite lease", lease, minLease, maxLease)
	}
	cc, err := newContainerClient(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.CreateContainer {
		_, err := cc.Create(ctx, nil)
		if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			return nil, wrap(fmt.Sprintf("creating container %s", cfg.Container), err)
		}
	} else if _, err := cc.GetProperties(ctx, nil); err != nil {
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return nil, fmt.Errorf("blobstore: container %q does not exist at %s; create it first", cfg.Container, redact(cc.URL()))
		}
		return nil, wrap(fmt.Sprintf("reaching container %s", cfg.Container), err)
	}
	ab := cc.NewAppendBlobClient(cfg.State + ".journal")
	s := &Store{
		ab:       ab,
		location: redact(ab.URL()),
		lease:    lease,
		clock:    cfg.Clock,
		guard:    cfg.Guard,
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.guard == nil {
		s.guard = journal.DefaultGuard
	}
	return s, nil
}

func newContainerClient(cfg Config) (*container.Client, error) {
	n := 0
	for _, set := range []bool{cfg.Credential != nil, cfg.SharedKey != nil, cfg.ConnectionString != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("blobstore: give exactly one of a token credential, a shared key and a connection string")
	}
	if cfg.ConnectionString != "" {
		cc, err := container.NewClientFromConnectionString(cfg.ConnectionString, cfg.Container, cfg.ClientOptions)
		if err != nil {
			// The parser's message may quote the string, which holds
			// a key or a SAS: say only that it is wrong.
			return nil, errors.New("blobstore: the storage connection string is malformed")
		}
		return cc, nil
	}
	u, err := url.Parse(cfg.ServiceURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("blobstore: service URL %q is not an http(s) URL", redact(cfg.ServiceURL))
	}
	if u.RawQuery != "" {
		return nil, errors.New("blobstore: the service URL must not carry a query (a SAS goes in a connection string)")
	}
	containerURL := strings.TrimSuffix(cfg.ServiceURL, "/") + "/" + url.PathEscape(cfg.Container)
	var cc *container.Client
	if cfg.Credential != nil {
		cc, err = container.NewClient(containerURL, cfg.Credential, cfg.ClientOptions)
	} else {
		cc, err = container.NewClientWithSharedKeyCredential(containerURL, cfg.SharedKey, cfg.ClientOptions)
	}
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return cc, nil
}

func checkStateName(name string) error {
	switch {
	case strings.TrimSpace(name) == "", name == ".", name == "..":
		return fmt.Errorf("blobstore: invalid state name %q", name)
	case strings.ContainsAny(name, `/\`+"\x00"):
		return fmt.Errorf("blobstore: state name %q must not contain a path separator", name)
	}
	return nil
}

// redact drops the query (a SAS) from a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery = ""
	u.User = nil
	return u.String()
}

// Location returns the journal blob's URL (without any SAS), for messages.
func (s *Store) Location() string { return s.location }

// Append implements journal.Store. The record is one AppendBlock, sent with
// an MD5 of its contents and appended only where this store last saw the
// journal end; Append returns once the service has acknowledged it. When
// another writer appended since (a resumed run's new store, say), the
// service refuses, Append re-reads the journal and numbers the record after
// what it found. If this store holds the lock, the block carries the lease
// ID; if another store holds it, the service refuses the append and Append
// returns an error wrapping a *journal.LockedError.
//
// ctx is checked before writing; once the block is sent, Append waits for
// the answer (up to a bound) even if ctx ends. An append whose answer was
// lost may have landed: the next Append re-reads the journal rather than
// trusting what it knew.
func (s *Store) Append(ctx context.Context, r journal.Record) (journal.Record, error) {
	if err := ctx.Err(); err != nil {
		return journal.Record{}, err
	}
	// Refuse bad records before any round trip; Seq and Time are
	// stamped again below.
	if _, _, err := journal.EncodeRecord(r, 1, s.clock(), s.guard); err != nil {
		return journal.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for try := 0; try < maxAppendTries; try++ {
		if err := ctx.Err(); err != nil {
			return journal.Record{}, err
		}
		if !s.loaded {
			if _, err := s.load(ctx); err != nil {
				return journal.Record{}, err
			}
		}
		rec, payload, err := journal.EncodeRecord(r, s.lastSeq+1, s.clock(), s.guard)
		if err != nil {
			return journal.Record{}, err
		}
		frame := journal.AppendFrame(nil, payload)
		if !s.exists {
			if err := s.ensureBlob(ctx); err != nil {
				return journal.Record{}, err
			}
			s.exists = true
		}
		err = s.appendBlock(ctx, frame)
		switch {
		case err == nil:
			s.end += int64(len(frame))
			s.lastSeq = rec.Seq
			return rec, nil
		case bloberror.HasCode(err, bloberror.AppendPositionConditionNotMet, bloberror.BlobNotFound):
			// Someone else appended (or the SDK's retry of our
			// own request found its first try had landed).
			oldEnd := s.end
			data, lerr := s.load(ctx)
			if lerr != nil {
				return journal.Record{}, lerr
			}
			if int64(len(data)) >= oldEnd+int64(len(frame)) && bytes.Equal(data[oldEnd:oldEnd+int64(len(frame))], frame) {
				return rec, nil
			}
			// Back off a little, at random, so that two writers
			// take turns instead of colliding again at once.
			if err := sleep(ctx, time.Duration(rand.Int64N(int64(try+1)*int64(20*time.Millisecond)))); err != nil {
				return journal.Record{}, err
			}
			continue
		case bloberror.HasCode(err, bloberror.LeaseIDMissing, bloberror.LeaseIDMismatchWithBlobOperation, bloberror.LeaseNotPresentWithBlobOperation, bloberror.LeaseLost):
			return journal.Record{}, s.notLockHolder(ctx, err)
		default:
			s.loaded = false
			return journal.Record{}, wrap(fmt.Sprintf("appending record %d to %s (it may or may not be in the journal)", rec.Seq, s.location), err)
		}
	}
	return journal.Record{}, fmt.Errorf("blobstore: appending to %s: %w", s.location, ErrContended)
}

// ErrContended is wrapped by the error Append returns when other writers
// kept appending to the journal between this store's reads and writes, so
// that its record could not be placed after theirs; nothing of it was
// written. Only writers that do not take the lock can cause it.
var ErrContended = errors.New("other writers kept moving the journal's end; is an apply running without the lock?")

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// appendBlock appends frame where the journal ended when this store last
// looked, with the lease ID when this store holds the lock.
func (s *Store) appendBlock(ctx context.Context, frame []byte) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	sum := md5.Sum(frame)
	end := s.end
	opts := &appendblob.AppendBlockOptions{
		TransactionalValidation:        blob.TransferValidationTypeMD5(sum[:]),
		AppendPositionAccessConditions: &appendblob.AppendPositionAccessConditions{AppendPosition: &end},
	}
	if id := s.held(); id != "" {
		opts.AccessConditions = &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: &id}}
	}
	_, err := s.ab.AppendBlock(wctx, streaming.NopCloser(bytes.NewReader(frame)), opts)
	return err
}

// ensureBlob creates the empty journal blob unless it exists.
func (s *Store) ensureBlob(ctx context.Context) error {
	star := azcore.ETagAny
	_, err := s.ab.Create(ctx, &appendblob.CreateOptions{
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: &star}},
	})
	if err == nil || bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet) {
		return nil
	}
	if bloberror.HasCode(err, bloberror.LeaseIDMissing) {
		return s.notLockHolder(ctx, err)
	}
	return wrap(fmt.Sprintf("creating %s", s.location), err)
}

// notLockHolder turns the service's refusal of a write without the lease
// into an error naming the lock's holder.
func (s *Store) notLockHolder(ctx context.Context, err error) error {
	held, cerr := s.CurrentLock(ctx)
	if cerr == nil && held != nil {
		return fmt.Errorf("blobstore: appending to %s without holding the lock: %w", s.location, &journal.LockedError{Held: *held})
	}
	return wrap(fmt.Sprintf("appending to %s: this store does not hold the lock's lease", s.location), err)
}

// load reads the whole journal, checks it and sets end and lastSeq from it.
// It returns the journal's bytes. The caller holds mu.
func (s *Store) load(ctx context.Context) ([]byte, error) {
	s.loaded = false
	data, found, err := s.download(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := parseJournal(data, s.location)
	if err != nil {
		return nil, err
	}
	s.exists = found
	s.end = int64(len(data))
	s.lastSeq = uint64(len(recs))
	s.loaded = true
	return data, nil
}

// download returns the journal blob's contents and whether it exists; an
// absent blob reads as empty.
func (s *Store) download(ctx context.Context) ([]byte, bool, error) {
	resp, err := s.ab.DownloadStream(ctx, nil)
	if notFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap(fmt.Sprintf("reading %s", s.location), err)
	}
	body := resp.NewRetryReader(ctx, nil)
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, false, wrap(fmt.Sprintf("reading %s", s.location), err)
	}
	return data, true, nil
}

// Replay implements journal.Store. Appends to a blob are atomic, so
// DroppedBytes is always 0 and any damage is a *journal.CorruptError.
func (s *Store) Replay(ctx context.Context) (journal.Replay, error) {
	if err := ctx.Err(); err != nil {
		return journal.Replay{}, err
	}
	data, _, err := s.download(ctx)
	if err != nil {
		return journal.Replay{}, err
	}
	recs, err := parseJournal(data, s.location)
	if err != nil {
		return journal.Replay{}, err
	}
	return journal.Replay{Records: recs}, nil
}

// Close implements journal.Store. It stops renewing a lease this store
// holds but does not release it (a lock outlives the Store that took it):
// a finite lease then ends by itself within the lease duration, as it
// would had the process died. Close may be called more than once.
func (s *Store) Close() error {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	s.stopRenewalLocked()
	s.heldID = ""
	return nil
}

// wrap describes a service error in one line (status and error code) and
// keeps it for errors.As. The SDK's own message spans many lines and
// echoes the response body.
func wrap(what string, err error) error {
	return &serviceError{what: what, err: err}
}

type serviceError struct {
	what string
	err  error
}

func (e *serviceError) Error() string {
	var re *azcore.ResponseError
	if errors.As(e.err, &re) {
		code := re.ErrorCode
		if code == "" {
			code = "no error code"
		}
		return fmt.Sprintf("blobstore: %s: HTTP %d (%s)", e.what, re.StatusCode, code)
	}
	var ue *url.Error
	if errors.As(e.err, &ue) {
		// A transport error quotes the request URL, whose query may be
		// a SAS.
		return fmt.Sprintf("blobstore: %s: %s %s: %s", e.what, ue.Op, redact(ue.URL), scrubSAS(fmt.Sprint(ue.Err)))
	}
	return fmt.Sprintf("blobstore: %s: %s", e.what, scrubSAS(e.err.Error()))
}

// sasSig matches a SAS signature in any URL an error message quotes.
var sasSig = regexp.MustCompile(`(?i)([?&]sig=)[^&\s"']*`)

func scrubSAS(msg string) string { return sasSig.ReplaceAllString(msg, "${1}REDACTED") }

func (e *serviceError) Unwrap() error { return e.err }
