package planner

import (
	"strings"
	"testing"
)

func TestSizeFor(t *testing.T) {
	for _, tc := range []struct {
		cpus, memMB int
		want        string
	}{
		{1, 1024, "Standard_D2s_v5"},
		{2, 8192, "Standard_D2s_v5"},
		{2, 8193, "Standard_E2s_v5"}, // 8 GiB and a bit rounds up to 9
		{4, 20 * 1024, "Standard_E4s_v5"},
		{6, 4096, "Standard_D8s_v5"},
		{96, 600 * 1024, "Standard_E96s_v5"},
		{128, 1024, ""},
	} {
		if got := SizeFor(DefaultSizes, tc.cpus, tc.memMB); got != tc.want {
			t.Errorf("SizeFor(%d CPUs, %d MB) = %q, want %q", tc.cpus, tc.memMB, got, tc.want)
		}
	}
	custom := []SizeRule{{"Standard_F4s_v2", 4, 8}, {"Standard_F8s_v2", 8, 16}}
	if got := SizeFor(custom, 3, 8192); got != "Standard_F4s_v2" {
		t.Errorf("custom table: %q", got)
	}
}

func TestAzureVMName(t *testing.T) {
	for in, want := range map[string]string{
		"web01":                 "web01",
		"SQL Server (prod)":     "SQL-Server--prod",
		"_tmp.":                 "tmp",
		"app.corp.example.com.": "app.corp.example.com",
		"über-db":               "ber-db",
		"***":                   "vm",
		strings.Repeat("a", 70): strings.Repeat("a", 64),
	} {
		if got := AzureVMName(in); got != want {
			t.Errorf("AzureVMName(%q) = %q, want %q", in, got, want)
		}
	}
}
