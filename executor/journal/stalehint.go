package journal

// StaleHint explains why the holder of a lock seems to be gone (its
// process no longer runs on this host), or returns "" when nothing
// suggests so: what LockedError.Stale says, for callers that read the lock
// with CurrentLock before trying to take it.
func StaleHint(held LockInfo) string { return staleHint(held) }
