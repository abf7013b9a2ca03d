package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

const vaultID = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/migrate-rg/providers/Microsoft.RecoveryServices/vaults/proj-MigrateVault-1"

func TestConfigRedactsSecret(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value-never-shown"
	cfg := Config{Name: "prod", Vault: vaultID, Appliance: "a1", Credential: CredentialClientSecret, TenantID: "t", ClientID: "c", ClientSecret: secret}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("connect", "azure", cfg)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"String":     cfg.String(),
		"%v":         fmt.Sprintf("%v", cfg),
		"%+v":        fmt.Sprintf("%+v", cfg),
		"%#v":        fmt.Sprintf("%#v", cfg),
		"slog":       logged.String(),
		"json":       string(js),
		"error wrap": fmt.Errorf("connect %v: boom", cfg).Error(),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("%s does not show that a secret is set: %s", name, out)
		}
	}
	c, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.String(), secret) {
		t.Error("Client.String leaks the secret")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Vault: vaultID, Appliance: "a1"}
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"no vault", func(c *Config) { c.Vault = "" }, "vault"},
		{"vault not an ID", func(c *Config) { c.Vault = "proj-MigrateVault-1" }, "not an ARM resource ID"},
		{"vault of another type", func(c *Config) {
			c.Vault = strings.Replace(vaultID, "Microsoft.RecoveryServices/vaults", "Microsoft.Storage/storageAccounts", 1)
		}, "not a Microsoft.RecoveryServices/vaults"},
		{"subscription mismatch", func(c *Config) { c.SubscriptionID = "11111111-0000-0000-0000-000000000000" }, "differs"},
		{"unknown cloud", func(c *Config) { c.Cloud = "AzureGermanCloud" }, "AzureGermanCloud"},
		{"plain http endpoint", func(c *Config) { c.Endpoint = "http://127.0.0.1:1" }, "https"},
		{"client secret incomplete", func(c *Config) { c.Credential = CredentialClientSecret; c.ClientID = "x" }, "tenant_id"},
		{"unknown credential", func(c *Config) { c.Credential = "password" }, "password"},
		{"no appliance", func(c *Config) { c.Appliance = "" }, "appliance"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want mention of %q", err, tc.want)
			}
		})
	}
}

func TestCloudSelection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cloud, endpoint   string
		wantARM, wantAuth string
	}{
		{"", "", cloud.AzurePublic.Services[cloud.ResourceManager].Endpoint, cloud.AzurePublic.ActiveDirectoryAuthorityHost},
		{CloudPublic, "", "https://management.azure.com", cloud.AzurePublic.ActiveDirectoryAuthorityHost},
		{CloudChina, "", "https://management.chinacloudapi.cn", cloud.AzureChina.ActiveDirectoryAuthorityHost},
		{CloudGovernment, "", "https://management.usgovcloudapi.net", cloud.AzureGovernment.ActiveDirectoryAuthorityHost},
		{CloudChina, "https://arm.stamp.example/", "https://arm.stamp.example", cloud.AzureChina.ActiveDirectoryAuthorityHost},
	}
	for _, tc := range cases {
		got, err := cloudConfig(Config{Cloud: tc.cloud, Endpoint: tc.endpoint})
		if err != nil {
			t.Fatal(err)
		}
		rm := got.Services[cloud.ResourceManager]
		if strings.TrimRight(rm.Endpoint, "/") != tc.wantARM || got.ActiveDirectoryAuthorityHost != tc.wantAuth {
			t.Errorf("cloud %q endpoint %q: got ARM %q auth %q", tc.cloud, tc.endpoint, rm.Endpoint, got.ActiveDirectoryAuthorityHost)
		}
		if tc.endpoint != "" && rm.Audience != tc.wantARM {
			t.Errorf("custom endpoint audience %q, want %q", rm.Audience, tc.wantARM)
		}
	}
}

func TestCredentialKinds(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{CredentialDefault, CredentialCLI, CredentialClientSecret, CredentialManagedIdentity, CredentialToken} {
		cfg := Config{Name: "k", Vault: vaultID, Appliance: "a", Credential: kind, TenantID: "72f988bf-0000-0000-0000-000000000000", ClientID: "11111111-0000-0000-0000-000000000000", ClientSecret: "x"}
		if _, err := New(cfg, nil); err != nil {
			t.Errorf("credential %s: %v", kind, err)
		}
	}
}

func TestTokenCredential(t *testing.T) {
	t.Parallel()
	env := fmt.Sprintf("CUTOVER_TEST_TOKEN_CRED_%d", envSeq.Add(1))
	cred := envToken{env: env}
	_, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{})
	if err == nil || !strings.Contains(err.Error(), env) {
		t.Fatalf("empty variable: %v", err)
	}
	const tok = "eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.sig" // exp 2100-01-01
	os.Setenv(env, "Bearer "+tok)
	defer os.Unsetenv(env)
	at, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if at.Token != tok || at.ExpiresOn.Year() != 2100 {
		t.Fatalf("token %q expires %v", at.Token, at.ExpiresOn)
	}
	if strings.Contains(fmt.Sprint(cred), tok) {
		t.Fatal("credential prints its token")
	}
}

// TestNoTokenNoRequest: a missing token fails the call with the variable's
// name, and the simulator refuses unauthenticated requests anyway.
func TestMissingToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t, bigSeed(1), azuresimOptions())
	cfg := w.config()
	cfg.TokenEnv = "CUTOVER_TEST_TOKEN_UNSET_VARIABLE"
	c, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Resolve(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "CUTOVER_TEST_TOKEN_UNSET_VARIABLE") {
		t.Fatalf("error %v", err)
	}
}
