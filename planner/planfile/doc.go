// Package planfile reads and writes saved plans and decides whether a saved
// plan may still be applied.
//
// A plan file is versioned JSON. Reading refuses another format version and
// fields it does not know; Check refuses a plan that expired, that was made
// from another runbook, or whose live inputs moved since it was made,
// naming each drifted VM and what changed.
//
// The package holds no plan logic (that is package planner) and does not
// read live state itself: callers refresh and pass the result in.
package planfile
