// Command cutover plans and applies migrations of VMware vCenter VMs to
// Azure with Azure Site Recovery, from HCL runbooks.
//
// This package is the command line only: it parses arguments, wires the
// engine packages together and renders what they report (human text, JSON,
// Markdown). It holds no planning or execution logic of its own.
package main
