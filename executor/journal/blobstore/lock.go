package blobstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"cutover/executor/journal"
)

// metaKey is the blob metadata entry holding the lock holder's LockInfo,
// as base64 of its JSON (metadata values are HTTP header values, and
// LockInfo.Info may hold any text).
const metaKey = "cutoverlock"

// maxLockTries bounds Lock's optimistic rounds when other stores keep
// changing the blob between its read and its lease.
const maxLockTries = 20

// Lock implements journal.Store. It creates the journal blob if need be,
// writes info into the blob's metadata on the condition that the blob is
// unchanged since it was seen unleased, and then acquires the lease (ID =
// info.ID) on the condition that the blob is unchanged since that write. So
// whenever the blob is leased, its metadata names the holder; a contender
// that loses either race reads the blob again and reports its holder.
//
// A finite lease is renewed in the background until Unlock, ForceUnlock or
// Close. Unlike the file backend's lock, a finite lease whose holder died
// (and so stopped renewing) expires: the state is free again at most the
// lease duration later, without a ForceUnlock.
func (s *Store) Lock(ctx context.Context, info journal.LockInfo) (journal.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return journal.LockInfo{}, err
	}
	info, err := journal.PrepareLockInfo(info, s.clock())
	if err != nil {
		return journal.LockInfo{}, err
	}
	b, err := json.Marshal(info)
	if err != nil {
		return journal.LockInfo{}, fmt.Errorf("blobstore: encoding lock info: %w", err)
	}
	encoded := base64.StdEncoding.EncodeToString(b)
	seconds := int32(-1)
	if s.lease > 0 {
		seconds = int32(s.lease / time.Second)
	}
	lc, err := s.leaseClient(info.ID)
	if err != nil {
		return journal.LockInfo{}, err
	}
	for try := 0; try < maxLockTries; try++ {
		props, err := s.ab.GetProperties(ctx, nil)
		if notFound(err) {
			if err := s.ensureBlob(ctx); err != nil {
				return journal.LockInfo{}, err
			}
			continue
		}
		if err != nil {
			return journal.LockInfo{}, wrap(fmt.Sprintf("reading the lock on %s", s.location), err)
		}
		if leased(props.LeaseState) {
			held, err := s.holder(props.Metadata)
			if err != nil {
				return journal.LockInfo{}, err
			}
			return journal.LockInfo{}, &journal.LockedError{Held: held}
		}
		set, err := s.ab.SetMetadata(ctx, map[string]*string{metaKey: &encoded}, &blob.SetMetadataOptions{
			AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: props.ETag}},
		})
		if raced(err) {
			continue
		}
		if err != nil {
			return journal.LockInfo{}, wrap(fmt.Sprintf("writing lock info on %s", s.location), err)
		}
		_, err = lc.AcquireLease(ctx, seconds, &lease.BlobAcquireOptions{
			ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: set.ETag},
		})
		if raced(err) {
			continue
		}
		if err != nil {
			return journal.LockInfo{}, wrap(fmt.Sprintf("acquiring the lease on %s", s.location), err)
		}
		s.lmu.Lock()
		s.stopRenewalLocked()
		s.heldID = info.ID
		if s.lease > 0 {
			s.startRenewalLocked(lc)
		}
		s.lmu.Unlock()
		return info, nil
	}
	return journal.LockInfo{}, fmt.Errorf("blobstore: taking the lock on %s: the blob kept changing under %d attempts; try again", s.location, maxLockTries)
}

// raced reports an error that means another store changed the blob
// between our read and our write, so the round must start over.
func raced(err error) bool {
	return bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.LeaseAlreadyPresent, bloberror.LeaseIDMissing)
}

func leased(state *lease.StateType) bool {
	return state != nil && (*state == lease.StateTypeLeased || *state == lease.StateTypeBreaking)
}

// holder decodes the LockInfo in a leased blob's metadata.
func (s *Store) holder(meta map[string]*string) (journal.LockInfo, error) {
	var v *string
	for k, val := range meta {
		// The service may return metadata keys in another case.
		if strings.EqualFold(k, metaKey) {
			v = val
		}
	}
	var info journal.LockInfo
	if v != nil {
		b, err := base64.StdEncoding.DecodeString(*v)
		if err == nil && json.Unmarshal(b, &info) == nil && info.ID != "" {
			return info, nil
		}
	}
	return journal.LockInfo{}, fmt.Errorf("blobstore: %s is leased but carries no readable lock info: it was not leased by cutover; once nothing uses this state, break the lease by hand", s.location)
}

func (s *Store) leaseClient(id string) (*lease.BlobClient, error) {
	lc, err := lease.NewBlobClient(s.ab, &lease.BlobClientOptions{LeaseID: &id})
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return lc, nil
}

// held returns the lease ID of the lock this store holds, "" for none.
func (s *Store) held() string {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	return s.heldID
}

// startRenewalLocked renews lc's lease every third of the lease duration
// until stopped. A lease found lost (released or broken by someone else,
// or expired and taken) ends the renewal; the next Append then fails on
// the lease condition. The caller holds lmu.
func (s *Store) startRenewalLocked(lc *lease.BlobClient) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.stopRenew = cancel
	s.renewDone = done
	every := s.lease / 3
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rctx, rcancel := context.WithTimeout(ctx, every)
			_, err := lc.RenewLease(rctx, nil)
			rcancel()
			if bloberror.HasCode(err, bloberror.LeaseIDMismatchWithLeaseOperation, bloberror.LeaseIsBrokenAndCannotBeRenewed, bloberror.LeaseNotPresentWithLeaseOperation, bloberror.BlobNotFound) {
				return
			}
			// Other errors (a network blip) are retried at the next
			// tick; the lease lasts three ticks.
		}
	}()
}

// stopRenewalLocked stops a running renewal and waits for it to end. The
// caller holds lmu.
func (s *Store) stopRenewalLocked() {
	if s.stopRenew == nil {
		return
	}
	s.stopRenew()
	<-s.renewDone
	s.stopRenew, s.renewDone = nil, nil
}

// Unlock implements journal.Store: it releases the lease whose ID is the
// lock ID. The ID is compared with the stored lock info first, exactly (the
// service compares lease IDs without regard to case); the release itself
// is refused by the service if the lease was taken under another ID since.
func (s *Store) Unlock(ctx context.Context, id string) error {
	return s.release(ctx, id)
}

// ForceUnlock implements journal.Store. A lease can be released by anyone
// who knows its ID, and the lock ID is the lease ID, so this is the same
// release as Unlock, from any process or machine; it does not break the
// lease, which would end any lease without checking the ID.
func (s *Store) ForceUnlock(ctx context.Context, id string) error {
	return s.release(ctx, id)
}

func (s *Store) release(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sent := false // a release of the lease with this ID was sent
	for try := 0; ; try++ {
		held, err := s.CurrentLock(ctx)
		if err != nil {
			return err
		}
		if held == nil && sent {
			// Our release landed but its answer was lost (the
			// SDK's retry then found no lease), or the lease
			// ended on its own meanwhile: either way the lock
			// with this ID is gone.
			break
		}
		if held == nil {
			return journal.ErrNotLocked
		}
		if held.ID != id {
			return &journal.LockMismatchError{ID: id, Held: *held}
		}
		lc, err := s.leaseClient(id)
		if err != nil {
			return err
		}
		sent = true
		_, err = lc.ReleaseLease(ctx, nil)
		if err == nil {
			break
		}
		if bloberror.HasCode(err, bloberror.LeaseIDMismatchWithLeaseOperation, bloberror.LeaseNotPresentWithLeaseOperation) && try < 3 {
			// The lock changed hands since we read it: report
			// what holds it now.
			continue
		}
		return wrap(fmt.Sprintf("releasing the lease on %s", s.location), err)
	}
	s.lmu.Lock()
	if s.heldID == id {
		s.stopRenewalLocked()
		s.heldID = ""
	}
	s.lmu.Unlock()
	return nil
}

// CurrentLock implements journal.Store: the holder named in the metadata of
// a leased journal blob, nil when the blob is absent or its lease is
// available, expired or broken.
func (s *Store) CurrentLock(ctx context.Context) (*journal.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	props, err := s.ab.GetProperties(ctx, nil)
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(fmt.Sprintf("reading the lock on %s", s.location), err)
	}
	if !leased(props.LeaseState) {
		return nil, nil
	}
	held, err := s.holder(props.Metadata)
	if err != nil {
		return nil, err
	}
	return &held, nil
}

// notFound reports that the blob does not exist. A HEAD request's 404 may
// come without an error code.
func notFound(err error) bool {
	var re *azcore.ResponseError
	return bloberror.HasCode(err, bloberror.BlobNotFound) || (errors.As(err, &re) && re.StatusCode == 404)
}
