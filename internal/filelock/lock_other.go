//go:build !unix

package filelock

// Lock is a no-op where flock is unavailable: processes sharing a file
// there may lose each other's concurrent updates.
func Lock(string) (func(), error) { return func() {}, nil }
