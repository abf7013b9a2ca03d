package schema

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Microsoft's "migrate at scale with Site Recovery" scripts read a CSV of
// one row per machine. Its template header (the older template lacks the
// two LOGSTORAGE columns):
//
//	VAULT_SUBSCRIPTION_ID, VAULT_NAME, SOURCE_MACHINE_NAME,
//	TARGET_MACHINE_NAME, CONFIGURATION_SERVER, PROCESS_SERVER,
//	TARGET_RESOURCE_GROUP, TARGET_STORAGE_ACCOUNT, TARGET_STORAGE_ACCOUNT_RG,
//	TARGET_LOGSTORAGE_ACCOUNT, TARGET_LOGSTORAGE_ACCOUNT_RG, TARGET_VNET,
//	TARGET_VNET_RG, TARGET_SUBNET, REPLICATION_POLICY, ACCOUNT_NAME,
//	AVAILABILITY_SET, PRIVATE_IP, MACHINE_SIZE, TESTFAILOVER_RESOURCE_GROUP,
//	TESTFAILOVER_VNET, TARGET_NSG_NAME, TARGET_NSG_RESOURCE_GROUP
//
// Resource names there are names within the vault's subscription; the
// runbook wants ARM IDs, which ASRRow.Targets builds.

// ASRMapped are the at-scale columns a runbook row takes over.
var ASRMapped = []string{
	"VAULT_SUBSCRIPTION_ID", "SOURCE_MACHINE_NAME", "TARGET_MACHINE_NAME", "TARGET_RESOURCE_GROUP",
	"TARGET_LOGSTORAGE_ACCOUNT", "TARGET_LOGSTORAGE_ACCOUNT_RG", "TARGET_VNET", "TARGET_VNET_RG", "TARGET_SUBNET",
	"REPLICATION_POLICY", "AVAILABILITY_SET", "MACHINE_SIZE", "TESTFAILOVER_RESOURCE_GROUP", "TESTFAILOVER_VNET",
}

// asrWhyNot says why a known column is not mapped.
var asrWhyNot = map[string]string{
	"VAULT_NAME":                "the vault is the runbook's azure block",
	"CONFIGURATION_SERVER":      "the appliance is the runbook's azure block",
	"PROCESS_SERVER":            "the process server comes from the azure block's appliance",
	"ACCOUNT_NAME":              "the run-as account is the appliance's",
	"TARGET_STORAGE_ACCOUNT":    "InMageRcm replicates to managed disks; there is no target storage account",
	"TARGET_STORAGE_ACCOUNT_RG": "InMageRcm replicates to managed disks; there is no target storage account",
	"PRIVATE_IP":                "a static IP belongs to a NIC: add a nic block with the VM's MAC (the nics column) and static_ip",
	"TARGET_NSG_NAME":           "cutover does not set network security groups",
	"TARGET_NSG_RESOURCE_GROUP": "cutover does not set network security groups",
}

// ASRRow is one row of an at-scale CSV by column name, with the line it
// came from.
type ASRRow struct {
	Line   int
	Values map[string]string
}

// ASRUnmapped is a column of the CSV that no runbook attribute takes, and
// why.
type ASRUnmapped struct {
	Column, Reason string
}

// ReadASRCSV reads an at-scale CSV (either template) and lists the
// columns it has that the runbook does not take. SOURCE_MACHINE_NAME is
// required; header names are matched without case and surrounding space.
func ReadASRCSV(r io.Reader, name string) ([]ASRRow, []ASRUnmapped, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	cols := make([]string, len(header))
	has := map[string]bool{}
	for i, h := range header {
		cols[i] = strings.ToUpper(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		has[cols[i]] = true
	}
	if !has["SOURCE_MACHINE_NAME"] {
		return nil, nil, fmt.Errorf("%s:1: no SOURCE_MACHINE_NAME column: not a Site Recovery at-scale CSV", name)
	}
	var unmapped []ASRUnmapped
	mapped := map[string]bool{}
	for _, c := range ASRMapped {
		mapped[c] = true
	}
	for _, c := range cols {
		if mapped[c] {
			continue
		}
		why := asrWhyNot[c]
		if why == "" {
			why = "not a column of Microsoft's template"
		}
		unmapped = append(unmapped, ASRUnmapped{Column: c, Reason: why})
	}
	var rows []ASRRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		row := ASRRow{Line: line, Values: map[string]string{}}
		empty := true
		for i, v := range rec {
			if i < len(cols) {
				row.Values[cols[i]] = strings.TrimSpace(v)
				if strings.TrimSpace(v) != "" {
					empty = false
				}
			}
		}
		if !empty {
			rows = append(rows, row)
		}
	}
	return rows, unmapped, nil
}

// Source is the row's source machine name.
func (r ASRRow) Source() string { return r.Values["SOURCE_MACHINE_NAME"] }

// Targets fills the target columns of an import row from the CSV row,
// keeping the row's own proposal where the CSV cell is empty. Names
// become ARM IDs in the vault's subscription; without
// VAULT_SUBSCRIPTION_ID the resources that need one are left to the
// runbook's defaults.
func (r ASRRow) Targets(row *ImportRow) {
	v := r.Values
	set := func(dst *string, val string) {
		if val != "" {
			*dst = val
		}
	}
	sub := v["VAULT_SUBSCRIPTION_ID"]
	id := func(rg, provider, name string) string {
		if sub == "" || rg == "" || name == "" {
			return ""
		}
		return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s", sub, rg, provider, name)
	}
	set(&row.TargetName, v["TARGET_MACHINE_NAME"])
	set(&row.ResourceGroup, v["TARGET_RESOURCE_GROUP"])
	set(&row.Size, v["MACHINE_SIZE"])
	set(&row.Subnet, v["TARGET_SUBNET"])
	set(&row.Policy, v["REPLICATION_POLICY"])
	set(&row.Network, id(v["TARGET_VNET_RG"], "Microsoft.Network/virtualNetworks", v["TARGET_VNET"]))
	set(&row.TestNetwork, id(v["TESTFAILOVER_RESOURCE_GROUP"], "Microsoft.Network/virtualNetworks", v["TESTFAILOVER_VNET"]))
	set(&row.LogStorageAccount, id(v["TARGET_LOGSTORAGE_ACCOUNT_RG"], "Microsoft.Storage/storageAccounts", v["TARGET_LOGSTORAGE_ACCOUNT"]))
	set(&row.AvailabilitySet, id(v["TARGET_RESOURCE_GROUP"], "Microsoft.Compute/availabilitySets", v["AVAILABILITY_SET"]))
}
