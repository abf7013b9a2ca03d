package simworld

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"cutover/providers/azure"
	"cutover/providers/vcenter"
)

// servedFile is where a world served by `cutover sim serve` announces its
// endpoints, in the world's directory.
const servedFile = "served.json"

// Served is how other processes reach a served world's simulators.
type Served struct {
	PID            int
	Started        time.Time
	VCenterConfigs map[string]vcenter.Config
	AzureConfigs   map[string]azure.Config
	poll           time.Duration
}

// AzureOptions are the client options for the served vaults.
func (s *Served) AzureOptions() *azure.Options {
	return &azure.Options{Credential: simToken{}, PollInterval: s.poll}
}

// servedDoc is the file's form. The providers' configs refuse to
// serialize passwords, so the simulators' endpoints are spelled out; the
// vCenter password is the simulator's own, made up when the world was
// created, and the file is readable by its owner only.
type servedDoc struct {
	PID      int                      `json:"pid"`
	Started  time.Time                `json:"started"`
	Poll     time.Duration            `json:"poll"`
	VCenters map[string]servedVCenter `json:"vcenters"`
	Azures   map[string]servedAzure   `json:"azures"`
}

type servedVCenter struct {
	URL      string `json:"url"`
	Username string `json:"username"`
	Password string `json:"password"`
}

type servedAzure struct {
	Endpoint       string `json:"endpoint"`
	CAFile         string `json:"caFile"`
	SubscriptionID string `json:"subscriptionId"`
	Vault          string `json:"vault"`
	Appliance      string `json:"appliance"`
}

// Announce writes the world's endpoints into its directory so that other
// processes attach to it (see Attach) instead of starting a world of
// their own from the saved state. The returned function withdraws them.
func (w *World) Announce() (withdraw func(), err error) {
	doc := servedDoc{PID: os.Getpid(), Started: time.Now().UTC(), Poll: w.poll,
		VCenters: map[string]servedVCenter{}, Azures: map[string]servedAzure{}}
	for name, c := range w.VCenterConfigs {
		doc.VCenters[name] = servedVCenter{URL: c.URL, Username: c.Username, Password: c.Password}
	}
	for name, c := range w.AzureConfigs {
		doc.Azures[name] = servedAzure{Endpoint: c.Endpoint, CAFile: c.CAFile, SubscriptionID: c.SubscriptionID, Vault: c.Vault, Appliance: c.Appliance}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(w.Dir, servedFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return func() { _ = os.Remove(path) }, nil
}

// Attach returns the endpoints of the world another process serves from
// dir, or nil when none is served there. A file left by a process that
// died is recognised by its vCenter no longer answering, and ignored.
func Attach(dir string) (*Served, error) {
	b, err := os.ReadFile(filepath.Join(dir, servedFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc servedDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, servedFile), err)
	}
	s := &Served{PID: doc.PID, Started: doc.Started, poll: doc.Poll,
		VCenterConfigs: map[string]vcenter.Config{}, AzureConfigs: map[string]azure.Config{}}
	for name, c := range doc.VCenters {
		u, err := url.Parse(c.URL)
		if err != nil {
			return nil, nil
		}
		conn, err := net.DialTimeout("tcp", u.Host, time.Second)
		if err != nil {
			return nil, nil // stale: the serving process is gone
		}
		_ = conn.Close()
		s.VCenterConfigs[name] = vcenter.Config{Name: name, URL: c.URL, Username: c.Username, Password: c.Password, Insecure: true}
	}
	for name, c := range doc.Azures {
		s.AzureConfigs[name] = azure.Config{Name: name, Endpoint: c.Endpoint, CAFile: c.CAFile, SubscriptionID: c.SubscriptionID,
			Vault: c.Vault, Appliance: c.Appliance, Credential: azure.CredentialToken}
	}
	return s, nil
}
