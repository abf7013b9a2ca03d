//go:build !unix

package journal

// syncDir does nothing where directories cannot be opened for syncing
// (Windows); NTFS journals its metadata itself.
func syncDir(string) error { return nil }

// processGone cannot tell here, so it never claims a holder is gone.
func processGone(int) bool { return false }

// openNonblock: opening a file does not wait here.
const openNonblock = 0
