package azure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// envToken is credential "token": a bearer token someone else obtained
// (az account get-access-token, a CI federation step), read from an
// environment variable at every request so a refreshed value is picked up.
type envToken struct {
	env string
}

var _ azcore.TokenCredential = envToken{}

// GetToken returns the token in the environment variable. Errors name the
// variable, never its value.
func (t envToken) GetToken(_ context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	v := strings.TrimSpace(os.Getenv(t.env))
	v = strings.TrimPrefix(v, "Bearer ")
	if v == "" {
		return azcore.AccessToken{}, fmt.Errorf("azure: credential token: environment variable %s is empty", t.env)
	}
	return azcore.AccessToken{Token: v, ExpiresOn: jwtExpiry(v)}, nil
}

// String never shows the token.
func (t envToken) String() string { return "envToken(" + t.env + ")" }

// jwtExpiry reads the exp claim of a JWT so azcore refreshes in time; an
// opaque token is treated as valid for ten minutes, after which it is read
// from the environment again.
func jwtExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) == 3 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var claims struct {
				Exp int64 `json:"exp"`
			}
			if json.Unmarshal(b, &claims) == nil && claims.Exp > 0 {
				return time.Unix(claims.Exp, 0)
			}
		}
	}
	return time.Now().Add(10 * time.Minute)
}

// newCredential builds the credential named by the config.
func newCredential(c Config, opts azcore.ClientOptions) (azcore.TokenCredential, error) {
	var (
		cred azcore.TokenCredential
		err  error
	)
	switch c.Credential {
	case "", CredentialDefault:
		cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: opts, TenantID: c.TenantID})
	case CredentialCLI:
		cred, err = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: c.TenantID})
	case CredentialClientSecret:
		cred, err = azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.ClientSecret, &azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	case CredentialManagedIdentity:
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if c.ClientID != "" {
			mo.ID = azidentity.ClientID(c.ClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(mo)
	case CredentialToken:
		cred = envToken{env: c.tokenEnv()}
	default:
		return nil, fmt.Errorf("azure %q: unknown credential %q", c.Name, c.Credential)
	}
	if err != nil {
		// azidentity's construction errors describe missing settings, not
		// secrets; still, never include the config itself.
		return nil, fmt.Errorf("azure %q: credential %s: %w", c.Name, c.Credential, err)
	}
	return cred, nil
}
