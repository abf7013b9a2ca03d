package azure

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
)

// Cloud names accepted in Config.Cloud.
const (
	CloudPublic     = "AzureCloud"
	CloudChina      = "AzureChinaCloud"
	CloudGovernment = "AzureUSGovernment"
)

// Credential kinds accepted in Config.Credential.
const (
	CredentialDefault         = "default"
	CredentialCLI             = "cli"
	CredentialClientSecret    = "client_secret"
	CredentialManagedIdentity = "managed_identity"
	CredentialToken           = "token"
)

// DefaultTokenEnv is the environment variable read by credential "token"
// when Config.TokenEnv is empty.
const DefaultTokenEnv = "CUTOVER_AZURE_TOKEN"

const redacted = "REDACTED"

// Config is how a runbook's azure block reaches this package. It is plain
// data with no dependency on the runbook schema.
type Config struct {
	// Name is the runbook's label for this connection (used in messages).
	Name string
	// Cloud is AzureCloud (default), AzureChinaCloud or AzureUSGovernment.
	Cloud string
	// Endpoint is a custom Resource Manager endpoint (sovereign stamps,
	// Azure Stack, the simulator); it wins over Cloud for ARM calls.
	Endpoint string
	// CAFile is a PEM bundle trusted in addition to the system roots, for
	// a custom Endpoint with a private CA.
	CAFile string
	// SubscriptionID defaults to the vault's subscription.
	SubscriptionID string
	TenantID       string
	// Vault is the ARM ID of the Recovery Services vault.
	Vault string
	// Appliance is the replication appliance (process server) name.
	Appliance string
	// Credential is default, cli, client_secret, managed_identity or token.
	Credential   string
	ClientID     string
	ClientSecret string
	// TokenEnv names the environment variable holding a bearer token for
	// credential "token" (default CUTOVER_AZURE_TOKEN).
	TokenEnv string
	// WriteBurst and WritesPerSecond size the subscription's write budget
	// all clients of the process share (zero: ARM's 200 and 10 per s).
	WriteBurst      int
	WritesPerSecond float64
}

// String shows the configuration with the client secret redacted, so a
// Config can be printed or wrapped into errors safely.
func (c Config) String() string {
	return fmt.Sprintf("azure.Config{Name:%q Cloud:%q Endpoint:%q CAFile:%q SubscriptionID:%q TenantID:%q Vault:%q Appliance:%q Credential:%q ClientID:%q ClientSecret:%s TokenEnv:%q}",
		c.Name, c.Cloud, c.Endpoint, c.CAFile, c.SubscriptionID, c.TenantID, c.Vault, c.Appliance, c.Credential, c.ClientID, c.secretMark(), c.TokenEnv)
}

// GoString keeps %#v from printing the secret.
func (c Config) GoString() string { return c.String() }

// LogValue keeps slog from printing the secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name), slog.String("cloud", c.Cloud), slog.String("endpoint", c.Endpoint),
		slog.String("subscription_id", c.SubscriptionID), slog.String("tenant_id", c.TenantID),
		slog.String("vault", c.Vault), slog.String("appliance", c.Appliance),
		slog.String("credential", c.Credential), slog.String("client_id", c.ClientID),
		slog.String("client_secret", c.secretMark()), slog.String("token_env", c.TokenEnv),
	)
}

// MarshalJSON serializes the configuration without the secret.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	p := plain(c)
	p.ClientSecret = c.secretMark()
	return json.Marshal(p)
}

func (c Config) secretMark() string {
	if c.ClientSecret == "" {
		return ""
	}
	return redacted
}

func (c Config) tokenEnv() string {
	if c.TokenEnv == "" {
		return DefaultTokenEnv
	}
	return c.TokenEnv
}

// vaultRef is the parsed vault ID.
type vaultRef struct {
	ID             string
	SubscriptionID string
	ResourceGroup  string
	Name           string
}

// Validate checks the configuration without touching the network.
func (c Config) Validate() error {
	_, err := c.vault()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	switch c.Cloud {
	case "", CloudPublic, CloudChina, CloudGovernment:
	default:
		errs = append(errs, fmt.Errorf("cloud %q is not one of %s, %s, %s", c.Cloud, CloudPublic, CloudChina, CloudGovernment))
	}
	if c.Endpoint != "" && !strings.HasPrefix(strings.ToLower(c.Endpoint), "https://") {
		errs = append(errs, fmt.Errorf("endpoint %q must be an https URL", c.Endpoint))
	}
	if c.Appliance == "" {
		errs = append(errs, errors.New("appliance is required"))
	}
	switch c.Credential {
	case "", CredentialDefault, CredentialCLI, CredentialManagedIdentity, CredentialToken:
	case CredentialClientSecret:
		if c.TenantID == "" || c.ClientID == "" || c.ClientSecret == "" {
			errs = append(errs, errors.New("credential client_secret needs tenant_id, client_id and client_secret"))
		}
	default:
		errs = append(errs, fmt.Errorf("credential %q is not one of default, cli, client_secret, managed_identity, token", c.Credential))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("azure %q: %w", c.Name, err)
	}
	return nil
}

func (c Config) vault() (vaultRef, error) {
	if c.Vault == "" {
		return vaultRef{}, errors.New("vault (the Recovery Services vault's ARM ID) is required")
	}
	id, err := arm.ParseResourceID(c.Vault)
	if err != nil {
		return vaultRef{}, fmt.Errorf("vault %q is not an ARM resource ID: %w", c.Vault, err)
	}
	if !strings.EqualFold(id.ResourceType.String(), "Microsoft.RecoveryServices/vaults") {
		return vaultRef{}, fmt.Errorf("vault %q is a %s, not a Microsoft.RecoveryServices/vaults", c.Vault, id.ResourceType)
	}
	if c.SubscriptionID != "" && !strings.EqualFold(c.SubscriptionID, id.SubscriptionID) {
		return vaultRef{}, fmt.Errorf("subscription_id %q differs from the vault's subscription %q", c.SubscriptionID, id.SubscriptionID)
	}
	return vaultRef{ID: c.Vault, SubscriptionID: id.SubscriptionID, ResourceGroup: id.ResourceGroupName, Name: id.Name}, nil
}
