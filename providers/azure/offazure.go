package azure

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// OffAzureAPIVersion is the Microsoft.OffAzure api-version the client speaks.
const OffAzureAPIVersion = "2023-06-06"

// OffAzureClient reads Azure Migrate discovery (Microsoft.OffAzure VMware
// sites). No generated SDK exists for it, so this is a small typed client
// on the same azcore ARM pipeline (auth, retry, logging) as the ASR SDK.
type OffAzureClient struct {
	internal *arm.Client
}

// NewOffAzureClient builds the client; it sends no request.
func NewOffAzureClient(cred azcore.TokenCredential, opts *arm.ClientOptions) (*OffAzureClient, error) {
	cl, err := arm.NewClient("cutover/providers/azure.OffAzureClient", "v0.1.0", cred, opts)
	if err != nil {
		return nil, err
	}
	return &OffAzureClient{internal: cl}, nil
}

// OffAzureMachine is a discovered VMware machine as the service returns it.
type OffAzureMachine struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Properties struct {
		DisplayName           string  `json:"displayName"`
		InstanceUUID          string  `json:"instanceUuid"`
		Firmware              string  `json:"firmware"`
		NumberOfProcessorCore int     `json:"numberOfProcessorCore"`
		AllocatedMemoryInMB   float64 `json:"allocatedMemoryInMB"`
		PowerStatus           string  `json:"powerStatus"`
		IsDeleted             bool    `json:"isDeleted"`
		Disks                 []struct {
			UUID           string `json:"uuid"`
			DiskID         string `json:"diskId"`
			Name           string `json:"name"`
			Label          string `json:"label"`
			MaxSizeInBytes int64  `json:"maxSizeInBytes"`
			Lun            int    `json:"lun"`
		} `json:"disks"`
		NetworkAdapters []struct {
			NicID         string   `json:"nicId"`
			MacAddress    string   `json:"macAddress"`
			IPAddressList []string `json:"ipAddressList"`
			NetworkName   string   `json:"networkName"`
		} `json:"networkAdapters"`
		OperatingSystemDetails struct {
			OSType         string `json:"osType"`
			OSName         string `json:"osName"`
			OSVersion      string `json:"osVersion"`
			OSArchitecture string `json:"osArchitecture"`
		} `json:"operatingSystemDetails"`
	} `json:"properties"`
}

// OffAzureRunAsAccount is a credential registered on an appliance.
type OffAzureRunAsAccount struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		DisplayName    string `json:"displayName"`
		CredentialType string `json:"credentialType"`
		ApplianceName  string `json:"applianceName"`
	} `json:"properties"`
}

// OffAzureMachinesPage is one page of machines.
type OffAzureMachinesPage struct {
	Value    []OffAzureMachine `json:"value"`
	NextLink *string           `json:"nextLink"`
}

// OffAzureRunAsAccountsPage is one page of run-as accounts.
type OffAzureRunAsAccountsPage struct {
	Value    []OffAzureRunAsAccount `json:"value"`
	NextLink *string                `json:"nextLink"`
}

// NewMachinesPager lists the machines of a VMware site (ARM ID), following
// nextLink until the service stops returning one.
func (c *OffAzureClient) NewMachinesPager(siteID string) *runtime.Pager[OffAzureMachinesPage] {
	return newOffAzurePager[OffAzureMachinesPage](c, siteID, "machines", func(p OffAzureMachinesPage) *string { return p.NextLink })
}

// NewRunAsAccountsPager lists the run-as accounts of a VMware site.
func (c *OffAzureClient) NewRunAsAccountsPager(siteID string) *runtime.Pager[OffAzureRunAsAccountsPage] {
	return newOffAzurePager[OffAzureRunAsAccountsPage](c, siteID, "runasaccounts", func(p OffAzureRunAsAccountsPage) *string { return p.NextLink })
}

func newOffAzurePager[T any](c *OffAzureClient, siteID, collection string, next func(T) *string) *runtime.Pager[T] {
	return runtime.NewPager(runtime.PagingHandler[T]{
		More: func(p T) bool {
			n := next(p)
			return n != nil && *n != ""
		},
		Fetcher: func(ctx context.Context, p *T) (T, error) {
			var zero T
			nextLink := ""
			if p != nil {
				nextLink = *next(*p)
			}
			resp, err := runtime.FetcherForNextLink(ctx, c.internal.Pipeline(), nextLink, func(ctx context.Context) (*policy.Request, error) {
				return c.listRequest(ctx, siteID, collection)
			}, nil)
			if err != nil {
				return zero, err
			}
			var out T
			if err := runtime.UnmarshalAsJSON(resp, &out); err != nil {
				return zero, err
			}
			return out, nil
		},
	})
}

func (c *OffAzureClient) listRequest(ctx context.Context, siteID, collection string) (*policy.Request, error) {
	id, err := arm.ParseResourceID(siteID)
	if err != nil {
		return nil, fmt.Errorf("site %q is not an ARM resource ID: %w", siteID, err)
	}
	if !strings.EqualFold(id.ResourceType.String(), "Microsoft.OffAzure/VMwareSites") {
		return nil, fmt.Errorf("site %q is not a Microsoft.OffAzure/VMwareSites resource", siteID)
	}
	p := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OffAzure/VMwareSites/%s/%s", id.SubscriptionID, id.ResourceGroupName, id.Name, collection)
	req, err := runtime.NewRequest(ctx, http.MethodGet, runtime.JoinPaths(c.internal.Endpoint(), p))
	if err != nil {
		return nil, err
	}
	q := req.Raw().URL.Query()
	q.Set("api-version", OffAzureAPIVersion)
	req.Raw().URL.RawQuery = q.Encode()
	req.Raw().Header["Accept"] = []string{"application/json"}
	return req, nil
}
