//go:build !unix

package journal

// osLock is not available here: locks fall back to the lock file alone,
// which a killed holder leaves behind for force-unlock.
type osLock struct{}

func tryOSLock(string) (*osLock, bool, error) { return nil, false, nil }

func (*osLock) release() error { return nil }

const haveOSLock = false
