// Package providers groups the adapters to the live systems a cutover touches:
// vcenter (govmomi, the source side) and azure (Azure Site Recovery InMageRcm
// and Microsoft.OffAzure, the target side). Each provider has a simulated
// counterpart served over the real wire protocol for tests and --sim.
package providers
