//go:build !unix

package vcentersim

// lockFaultFile is a no-op where flock is unavailable: processes sharing a
// fault file there may lose concurrent updates.
func lockFaultFile(string) (func(), error) { return func() {}, nil }
