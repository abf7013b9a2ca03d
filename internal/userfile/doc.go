// Package userfile reads the files a user names (runbook files, var-files,
// files a runbook's file() reads, plan files, CA bundles) without letting
// the name decide what the read does: only regular files are read, never
// more than a stated size, and opening never waits (a named pipe would
// block an open for reading until some writer came, and /dev/zero would be
// read until memory ran out). It owns only that; what a file means is its
// caller's business.
package userfile
