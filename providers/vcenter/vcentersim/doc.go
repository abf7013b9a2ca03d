// Package vcentersim builds and serves a simulated vCenter for tests,
// benchmarks and the CLI's --sim world.
//
// It owns: turning a World description (Go struct or JSON) into a running
// govmomi simulator (vcsim) inventory, quickly at scale (VMs are created 32
// at a time through an in-process client, datastores live in memory where
// possible); the vSphere methods vcsim lacks and cutover needs
// (MigrateVM_Task, MakePrimaryVM_Task with fault-tolerance roles,
// CustomizeGuest_Task through a VirtualMachineGuestCustomizationManager),
// implemented after the vSphere reference pages with the faults they list,
// and the checks vcsim's own CloneVM_Task lacks (host, maintenance mode,
// datastore, pool memory limit, customization adapters), with the faults of
// its page;
// guest tools that run while a VM is powered on (ShutdownGuest refuses a
// guest without them, as vCenter does); and the levers tests pull on the
// unhappy paths: InjectFault (vcsim fault rules), SetTaskDelay (process
// global), WithLatency, TerminateSession, and WithFaultFile: faults kept
// as data in a file (ArmedFault, keyed by VM name and vSphere method) that
// the simulator reads at every call it could fail, so that another process
// (cutover sim fault add) can arm them while this one serves.
//
// Start runs a simulator in process on 127.0.0.1 and returns its URL,
// credentials and certificate thumbprint; Serve runs one until its context
// ends.
//
// It must not: import the vcenter provider (the provider's tests import this
// package), print anything of its own, or listen anywhere but loopback.
// Everything it serves is spoken over SOAP exactly as a real vCenter would,
// so the provider is tested through the code paths it uses in production.
// (vcsim itself logs some requests it refuses through the standard logger.)
package vcentersim
