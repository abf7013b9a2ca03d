// Package filelock serialises read-modify-write of a file shared by several
// processes (the simulators' saved worlds and fault files) with an advisory
// lock on a companion "<file>.lock". It owns only that lock; the state
// journal's own lock, which must name its holder, lives in executor/journal.
package filelock
