package azure

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	asr "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservicessiterecovery/v2"

	"cutover/internal/userfile"
)

// Options adjust how a Client is built; the zero value suits production.
type Options struct {
	// Credential replaces the one named by Config.Credential.
	Credential azcore.TokenCredential
	// Transport replaces the HTTP client (its TLS settings then win over
	// Config.CAFile).
	Transport policy.Transporter
	// Retry replaces the default retry policy (see DefaultRetry).
	Retry *policy.RetryOptions
	// PollInterval is the wait between polls of a long-running operation
	// when the service sends no Retry-After. Zero means 15 s.
	PollInterval time.Duration
	// Budgets is the registry of subscription write budgets this client
	// draws from; nil means DefaultBudgets, shared by the whole process.
	Budgets *Budgets
}

// DefaultRetry retries throttling (429) and server errors (500, 502, 503,
// 504) and request timeouts, honouring Retry-After up to MaxRetryDelay: ARM
// asks for waits of seconds to a minute when a subscription is throttled, and
// a longer demand is better surfaced than silently slept through.
func DefaultRetry() policy.RetryOptions {
	return policy.RetryOptions{
		MaxRetries:    6,
		RetryDelay:    time.Second,
		MaxRetryDelay: 2 * time.Minute,
		StatusCodes:   []int{http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
	}
}

// Client is a connection to one vault: the generated ASR clients, the
// OffAzure client and, once Resolve ran, the resolved fabric, process
// server, site and container.
type Client struct {
	cfg   Config
	vault vaultRef
	poll  time.Duration
	retry policy.RetryOptions

	fabrics    *asr.ReplicationFabricsClient
	containers *asr.ReplicationProtectionContainersClient
	policies   *asr.ReplicationPoliciesClient
	items      *asr.ReplicationProtectedItemsClient
	jobs       *asr.ReplicationJobsClient
	off        *OffAzureClient

	// cred and armOpts build the compute clients, one per subscription a
	// target resource group names (see compute.go).
	cred    azcore.TokenCredential
	armOpts *arm.ClientOptions
	vms     computeClients

	// target is what Resolve found; resolving (one slot) lets one caller
	// at a time resolve and read it, so that the workers of an apply that
	// start together send one resolve, not one each.
	target    *Target
	resolving chan struct{}
	// endpoint is the Resource Manager endpoint requests go to; resumed
	// pollers are pointed at it (see rebaseToken).
	endpoint *url.URL
	// jobPoll follows the ASR jobs of every running operation of the
	// vault, itemPoll the items waited for, each with one poller.
	jobPoll  *sharedPoll[*Job]
	itemPoll *sharedPoll[*ProtectedItem]
}

// New builds a Client. It validates the configuration and prepares the
// pipeline; it sends no request.
func New(cfg Config, opts *Options) (*Client, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v, _ := cfg.vault()
	cl, err := cloudConfig(cfg)
	if err != nil {
		return nil, err
	}
	transport := opts.Transport
	if transport == nil {
		transport, err = httpClient(cfg)
		if err != nil {
			return nil, err
		}
	}
	transport = certTransport{next: transport, name: cfg.Name}
	retry := DefaultRetry()
	if opts.Retry != nil {
		retry = *opts.Retry
	}
	budgets := opts.Budgets
	if budgets == nil {
		budgets = DefaultBudgets
	}
	co := azcore.ClientOptions{Cloud: cl, Transport: transport, Retry: retry,
		PerRetryPolicies: []policy.Policy{&budgetPolicy{budgets: budgets, settings: BudgetSettings{Burst: cfg.WriteBurst, PerSecond: cfg.WritesPerSecond}}}}
	cred := opts.Credential
	if cred == nil {
		if cred, err = newCredential(cfg, azcore.ClientOptions{Cloud: cl, Transport: transport}); err != nil {
			return nil, err
		}
	}
	ao := &arm.ClientOptions{ClientOptions: co, DisableRPRegistration: true}
	c := &Client{cfg: cfg, vault: v, poll: opts.PollInterval, retry: retry, cred: cred, armOpts: ao, resolving: make(chan struct{}, 1)}
	if rm, ok := cl.Services[cloud.ResourceManager]; ok {
		c.endpoint, _ = url.Parse(rm.Endpoint)
	}
	c.jobPoll, c.itemPoll = newJobPoll(c), newItemPoll(c)
	if c.poll <= 0 {
		c.poll = 15 * time.Second
	}
	factory, err := asr.NewClientFactory(v.SubscriptionID, cred, ao)
	if err != nil {
		return nil, fmt.Errorf("azure %q: %w", cfg.Name, err)
	}
	c.fabrics = factory.NewReplicationFabricsClient()
	c.containers = factory.NewReplicationProtectionContainersClient()
	c.policies = factory.NewReplicationPoliciesClient()
	c.items = factory.NewReplicationProtectedItemsClient()
	c.jobs = factory.NewReplicationJobsClient()
	if c.off, err = NewOffAzureClient(cred, ao); err != nil {
		return nil, fmt.Errorf("azure %q: %w", cfg.Name, err)
	}
	return c, nil
}

// String describes the client without secrets.
func (c *Client) String() string { return "azure.Client(" + c.cfg.String() + ")" }

// Config returns the configuration the client was built from.
func (c *Client) Config() Config { return c.cfg }

// cloudConfig maps Config.Cloud and Config.Endpoint to azcore's cloud
// configuration. A custom endpoint keeps the named cloud's Entra ID
// authority and points Resource Manager (endpoint and token audience) at
// the endpoint.
func cloudConfig(c Config) (cloud.Configuration, error) {
	var base cloud.Configuration
	switch c.Cloud {
	case "", CloudPublic:
		base = cloud.AzurePublic
	case CloudChina:
		base = cloud.AzureChina
	case CloudGovernment:
		base = cloud.AzureGovernment
	default:
		return cloud.Configuration{}, fmt.Errorf("azure %q: unknown cloud %q", c.Name, c.Cloud)
	}
	if c.Endpoint == "" {
		return base, nil
	}
	ep := strings.TrimRight(c.Endpoint, "/")
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: base.ActiveDirectoryAuthorityHost,
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: ep, Audience: ep},
		},
	}, nil
}

// httpClient builds the transport; CAFile adds trusted roots for a custom
// endpoint on top of the system pool.
func httpClient(c Config) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := userfile.Read(c.CAFile, userfile.MaxSource)
		if err != nil {
			return nil, fmt.Errorf("azure %q: ca_file: %w", c.Name, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("azure %q: ca_file %s holds no PEM certificate", c.Name, c.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr}, nil
}
