//go:build !unix

package azuresim

// lockState is a no-op where flock is unavailable: processes sharing a
// state file there may lose concurrent updates.
func lockState(string) (func(), error) { return func() {}, nil }
