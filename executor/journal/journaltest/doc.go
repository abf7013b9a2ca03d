// Package journaltest is the conformance suite for journal.Store: the
// behaviour the executor relies on from every backend, local files and
// shared storage alike. A backend's tests call Run with a factory for fresh
// locations; a backend that fails a case here is not one the executor may
// use.
//
// It covers what any backend can be asked through the interface. Failure
// modes particular to one medium (a torn line in a file, a process killed
// mid-write) are tested beside that backend.
//
// The package must not depend on any one backend, and is imported only by
// tests.
package journaltest
