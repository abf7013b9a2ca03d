// Package simworld is the simulated world behind --sim: a simulated vCenter
// (vcentersim, on govmomi's vcsim) holding the runbook's source VMs and one
// simulated ASR vault (azuresim, over HTTPS) per azure block, each seeded
// from the runbook the first time and kept under a directory (by default
// .cutover/sim next to the runbook) so that later commands see the same
// world.
//
// It hands back the connection settings the real providers need, so the
// same client code runs against the simulators as against vCenter and
// Azure. It must not plan, apply or print.
package simworld
