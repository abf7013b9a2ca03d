package schema

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones resolve on machines without system tzdata

	"github.com/hashicorp/hcl/v2"
)

var vcenterSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "url"}, {Name: "username"}, {Name: "password"},
		{Name: "insecure"}, {Name: "thumbprint"}, {Name: "datacenter"},
	},
}

// thumbprintPattern matches a SHA-1 or SHA-256 certificate thumbprint in
// govc's colon-separated hex form.
var thumbprintPattern = regexp.MustCompile(`^([0-9A-Fa-f]{2}:){19}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$`)

func (d *decoder) decodeVCenters() {
	for _, b := range d.blocks["vcenter"] {
		content, diags := b.Body.Content(vcenterSchema)
		d.add(diags)
		vc := &VCenter{Name: b.Labels[0], DeclRange: b.DefRange}
		a := newAttrs(d.ctx, content.Attributes, "", &vc.Sensitive)
		a.str("url", &vc.URL)
		a.str("username", &vc.Username)
		a.secret("password", &vc.Password)
		a.boolean("insecure", &vc.Insecure)
		a.str("thumbprint", &vc.Thumbprint)
		a.str("datacenter", &vc.Datacenter)
		a.check("url", vc.URL, "Invalid vCenter URL", func(s string) string {
			u, err := url.Parse(s)
			if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
				return "is not an https URL with a host, such as https://vc01.example.com/sdk."
			}
			if u.Scheme != "https" {
				// The login would go out in clear text.
				return "is not https: vCenter is reached over TLS only, such as https://" + u.Host + "/sdk."
			}
			return ""
		})
		if u, err := url.Parse(vc.URL); err == nil && u.User != nil {
			if _, hasPass := u.User.Password(); hasPass {
				// The value is not repeated: it holds a password.
				a.errorf("url", "Invalid vCenter URL",
					"The URL embeds a password; use the password attribute with env() or a sensitive variable instead.")
			}
		}
		a.check("thumbprint", vc.Thumbprint, "Invalid thumbprint", func(s string) string {
			if !thumbprintPattern.MatchString(s) {
				return "is not a SHA-1 or SHA-256 thumbprint in the form AA:BB:...; govc about.cert -thumbprint prints it."
			}
			return ""
		})
		if vc.Insecure {
			// Every command that loads the runbook shows this, so no one
			// connects without certificate checks unawares.
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagWarning,
				Summary:  "TLS certificate checks are off",
				Detail:   fmt.Sprintf("insecure = true: cutover will not verify vcenter %q's certificate, so anyone on the network path can read and change what it sends, the password included. Pin the certificate with thumbprint instead.", vc.Name),
				Subject:  a.rng("insecure"),
			}})
		}
		if vc.Insecure && vc.Thumbprint != "" {
			a.errorf("thumbprint", "Conflicting attributes",
				"insecure = true turns certificate checks off, so a thumbprint would be ignored; set one or the other.")
		}
		d.add(a.diags)
		d.rb.VCenters = append(d.rb.VCenters, vc)
	}
}

var azureSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "cloud"}, {Name: "endpoint"}, {Name: "ca_file"},
		{Name: "subscription_id"}, {Name: "tenant_id"},
		{Name: "vault", Required: true}, {Name: "appliance", Required: true},
		{Name: "credential"}, {Name: "client_id"}, {Name: "client_secret"}, {Name: "token_env"},
		{Name: "write_burst"}, {Name: "writes_per_second"},
	},
}

// Clouds are the Azure clouds a runbook may name.
var Clouds = []string{"AzureCloud", "AzureChinaCloud", "AzureUSGovernment"}

// Credentials are the ways cutover can authenticate to Azure.
var Credentials = []string{"default", "cli", "client_secret", "managed_identity", "token"}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (d *decoder) decodeAzures() {
	for _, b := range d.blocks["azure"] {
		content, diags := b.Body.Content(azureSchema)
		d.add(diags)
		az := &Azure{Name: b.Labels[0], Cloud: "AzureCloud", Credential: "default", TokenEnv: "CUTOVER_AZURE_TOKEN", DeclRange: b.DefRange}
		a := newAttrs(d.ctx, content.Attributes, "", &az.Sensitive)
		a.exclusive(b.DefRange, "cloud", "endpoint")
		a.enum("cloud", &az.Cloud, Clouds...)
		a.str("endpoint", &az.Endpoint)
		a.str("ca_file", &az.CAFile)
		a.str("subscription_id", &az.SubscriptionID)
		a.str("tenant_id", &az.TenantID)
		a.str("vault", &az.Vault)
		a.nonEmpty("appliance", &az.Appliance)
		a.enum("credential", &az.Credential, Credentials...)
		a.str("client_id", &az.ClientID)
		a.secret("client_secret", &az.ClientSecret)
		a.nonEmpty("token_env", &az.TokenEnv)
		var burst float64
		a.positive("write_burst", &burst)
		if burst != float64(int(burst)) {
			a.errorf("write_burst", "Invalid value", "write_burst counts requests: it must be a whole number, not %g.", burst)
		}
		az.WriteBurst = int(burst)
		a.positive("writes_per_second", &az.WritesPerSecond)

		if az.Endpoint != "" {
			az.Cloud = ""
			a.check("endpoint", az.Endpoint, "Invalid endpoint", func(s string) string {
				u, err := url.Parse(s)
				if err != nil || u.Scheme != "https" || u.Host == "" {
					return "is not an https URL with a host; Azure Resource Manager is served over HTTPS only."
				}
				return ""
			})
		} else if a.has("ca_file") {
			a.errorf("ca_file", "ca_file without endpoint", "ca_file adds a trusted CA for a custom endpoint; the public clouds need none.")
		}
		for _, name := range []string{"subscription_id", "tenant_id", "client_id"} {
			var v string
			switch name {
			case "subscription_id":
				v = az.SubscriptionID
			case "tenant_id":
				v = az.TenantID
			case "client_id":
				v = az.ClientID
			}
			a.check(name, v, "Invalid "+name, func(s string) string {
				if !guidPattern.MatchString(s) {
					return "is not a GUID such as 00000000-0000-0000-0000-000000000000."
				}
				return ""
			})
		}
		a.check("vault", az.Vault, "Malformed vault ID", func(s string) string {
			id, why := parseARMID(s)
			if why != "" {
				return why
			}
			if !strings.EqualFold(id.Type, "Microsoft.RecoveryServices/vaults") {
				return "is not a Recovery Services vault: expected /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{name}, got a " + id.Type + "."
			}
			if guidPattern.MatchString(az.SubscriptionID) && !strings.EqualFold(id.Subscription, az.SubscriptionID) {
				return "lives in subscription " + id.Subscription + ", not in subscription_id " + az.SubscriptionID + "."
			}
			return ""
		})
		if az.SubscriptionID == "" {
			if id, why := parseARMID(az.Vault); why == "" {
				az.SubscriptionID = id.Subscription
			}
		}
		if az.Credential == "client_secret" {
			for _, need := range []string{"client_id", "client_secret", "tenant_id"} {
				if !a.has(need) {
					d.errorf(a.rng("credential"), "Missing "+need,
						"credential = \"client_secret\" needs client_id, client_secret and tenant_id; %s is not set.", need)
				}
			}
		} else if a.has("client_secret") {
			a.errorf("client_secret", "Unused client_secret",
				"client_secret is used only with credential = \"client_secret\"; this block uses %q.", az.Credential)
		}
		d.add(a.diags)
		d.rb.Azures = append(d.rb.Azures, az)
	}
}

var stateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "backend", Required: true}, {Name: "storage_account_name"}, {Name: "container_name"},
		{Name: "key"}, {Name: "endpoint"},
	},
}

func (d *decoder) decodeState() {
	for _, b := range d.blocks["state"] {
		content, diags := b.Body.Content(stateSchema)
		d.add(diags)
		st := &StateBackend{DeclRange: b.DefRange}
		a := newAttrs(d.ctx, content.Attributes, "", nil)
		a.enum("backend", &st.Backend, "local", "azurerm")
		a.nonEmpty("storage_account_name", &st.StorageAccount)
		a.nonEmpty("container_name", &st.Container)
		a.nonEmpty("key", &st.Key)
		a.nonEmpty("endpoint", &st.Endpoint)
		a.check("endpoint", st.Endpoint, "Invalid endpoint", func(s string) string {
			if u, err := url.Parse(s); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
				return "is not a blob endpoint URL such as https://acct.blob.core.windows.net/."
			}
			return ""
		})
		a.check("key", st.Key, "Invalid state key", func(s string) string {
			if strings.ContainsAny(s, "/\\") {
				return "must be a plain name, without slashes."
			}
			return ""
		})
		switch st.Backend {
		case "azurerm":
			if st.Container == "" || st.StorageAccount == "" && st.Endpoint == "" {
				d.errorf(&b.DefRange, "Incomplete azurerm state",
					"The azurerm backend needs container_name and storage_account_name (or endpoint).")
			}
		case "local":
			for _, n := range []string{"storage_account_name", "container_name", "endpoint"} {
				if a.has(n) {
					a.errorf(n, "Unused attribute", "%s applies to the azurerm backend; the local backend keeps state in .cutover/ next to the runbook.", n)
				}
			}
		}
		d.add(a.diags)
		d.rb.State = st
	}
}

var windowSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "schedule", Required: true}, {Name: "duration", Required: true}, {Name: "timezone"},
		{Name: "estimates"},
	},
}

// EstimatedKinds are the disruptive step kinds a window's estimates may
// name.
var EstimatedKinds = []string{"shutdown", "unplanned_failover", "failover_commit", "failover_cancel", "relocate", "deallocate_azure_vm"}

func (d *decoder) decodeWindows() {
	for _, b := range d.blocks["window"] {
		content, diags := b.Body.Content(windowSchema)
		d.add(diags)
		w := &Window{Name: b.Labels[0], DeclRange: b.DefRange}
		a := newAttrs(d.ctx, content.Attributes, "", nil)
		a.nonEmpty("schedule", &w.Schedule)
		a.nonEmpty("duration", &w.Duration)
		a.str("timezone", &w.Timezone)
		a.check("schedule", w.Schedule, "Invalid schedule", func(s string) string {
			if d.opts.CheckSchedule == nil {
				return ""
			}
			if err := d.opts.CheckSchedule(s); err != nil {
				return "is not a cron schedule: " + err.Error() + "."
			}
			return ""
		})
		a.check("duration", w.Duration, "Invalid duration", checkWindowDuration)
		a.check("timezone", w.Timezone, "Unknown time zone", checkTimezone)
		a.strMap("estimates", &w.Estimates)
		for _, k := range sortedKeys(w.Estimates) {
			if !slices.Contains(EstimatedKinds, k) {
				a.errorf("estimates", "Unknown step kind in estimates",
					"%q is not a disruptive step kind; estimates may name %s.", k, strings.Join(EstimatedKinds, ", "))
				continue
			}
			a.check("estimates", w.Estimates[k], "Invalid estimate", checkGoDuration)
			// A step estimated to take longer than the window lasts can
			// never start inside it: apply would wait for ever.
			est, err1 := time.ParseDuration(w.Estimates[k])
			dur, err2 := time.ParseDuration(w.Duration)
			if err1 == nil && err2 == nil && est > dur {
				a.errorf("estimates", "Estimate does not fit the window",
					"%s is estimated at %s, longer than window %q lasts (%s): it could never start inside the window. Lengthen the window or lower the estimate.", k, w.Estimates[k], w.Name, w.Duration)
			}
		}
		d.add(a.diags)
		d.rb.Windows = append(d.rb.Windows, w)
	}
}
