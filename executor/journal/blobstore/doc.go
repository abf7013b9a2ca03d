// Package blobstore is the shared backend for the executor's journal and
// state lock: a journal.Store kept in Azure Blob Storage, so that teams and
// CI runners applying the same runbook see one journal and one lock.
//
// A state named S lives in one append blob, "S.journal", in the configured
// container:
//
//   - The journal is the blob's content, one record per AppendBlock, framed
//     as the file backend frames its lines and encoded with
//     journal.EncodeRecord, so both backends refuse the same records
//     (invalid ones, and those the secret Guard flags) and write the same
//     JSON. Every block is appended on the append-position condition (the
//     blob must still end where this store last saw it end), so a writer
//     that lost a race fails its write and re-reads instead of
//     interleaving or reusing a sequence number. Append returns once the
//     service has acknowledged the block.
//   - The lock is a lease on the same blob. The lease ID is the lock ID
//     (journal.NewLockID makes UUIDs, which is what leases need), and the
//     journal.LockInfo of the holder is kept in the blob's metadata,
//     written just before the lease is taken under ETag conditions so that
//     a leased blob always names its holder. While a store holds the lock,
//     its appends carry the lease ID, and the service refuses appends from
//     anyone who does not hold it.
//   - Leases are finite (60 s by default) and renewed in the background
//     while held. A holder that crashes stops renewing, and its lease
//     expires: unlike the file backend's lock, a dead holder's lock frees
//     itself within the lease duration. ForceUnlock releases the lease
//     with its ID from any machine, after checking that ID against the
//     stored lock info. Config.LeaseDuration < 0 takes infinite leases,
//     which only Unlock or ForceUnlock end.
//
// The package owns the blob layout and the mapping of service errors to the
// journal package's errors (journal.LockedError, journal.LockMismatchError,
// journal.ErrNotLocked, journal.CorruptError). It must not decide what a
// record means (the executor's job), read runbooks or flags (the command
// builds a Config), print or log, or put a credential in an error: errors
// name the blob by URL without any query, and service errors are reduced to
// their status and error code. It creates nothing but the container (when
// asked) and the state's blob.
//
// The command builds a Config from the runbook's state block or its flags:
// ServiceURL from the storage account name
// ("https://<account>.blob.core.windows.net/", or an explicit endpoint for
// other clouds and Azurite), Container, and State (by default the name the
// file backend would use, journal.DefaultLocation). Credentials never come
// from the runbook, which is committed: Credential from azidentity by
// default, or a SharedKey or ConnectionString read from the environment.
//
// An append blob takes at most 50,000 blocks, so a state's journal holds at
// most 50,000 records; a runbook that needs more should use another state
// name.
package blobstore
