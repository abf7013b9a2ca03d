// Package vcentersim builds and serves a simulated vCenter for tests,
// benchmarks and the CLI's --sim world.
//
// It owns: turning a World description (Go struct or JSON) into a running
// govmomi simulator (vcsim) inventory, quickly at scale; the vSphere methods
// vcsim lacks and cutover needs (MigrateVM_Task, MakePrimaryVM_Task with
// fault-tolerance roles, CustomizeGuest_Task), implemented after the vSphere
// reference pages with the faults they list; and the levers tests pull on the
// unhappy paths (fault rules, task delays, API latency, session termination).
//
// It must not: import the vcenter provider (the provider's tests import this
// package), print anything, or listen anywhere but loopback. Everything it
// serves is spoken over SOAP exactly as a real vCenter would, so the provider
// is tested through the same code paths it uses in production.
package vcentersim
