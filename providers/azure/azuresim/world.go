package azuresim

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// world is everything the simulator knows. It is plain data so that it
// round-trips through the JSON state file unchanged.
type world struct {
	Seed  Seed             `json:"seed"`
	Items map[string]*item `json:"items"`
	Jobs  map[string]*job  `json:"jobs"`
	Ops   map[string]*op   `json:"operations"`
	Seq   int              `json:"seq"`
	// Compute holds the Azure VMs failovers created (compute.go).
	Compute *computeWorld `json:"compute,omitempty"`
	// Rules are fault rules armed through the admin surface (AddRule),
	// kept with the world so that every process serving it applies them.
	Rules []*Fault `json:"faultRules,omitempty"`

	byName map[string]int // machine index, rebuilt on demand
	// scale is the simulator's TimeScale, set on every load (not stored).
	scale float64
	// due is the earliest time advance has anything to do (a job's end,
	// an initial replication's end); zero means not known, so advance
	// scans. It keeps the per-request cost of a large world flat.
	due time.Time
}

// item is one replication protected item.
type item struct {
	Name      string `json:"name"`
	Container string `json:"container"`
	Machine   string `json:"machine"`
	Policy    string `json:"policy"`
	RunAs     string `json:"runAsAccountId,omitempty"`

	State             string    `json:"state"`
	TestFailoverState string    `json:"testFailoverState"`
	PrevState         string    `json:"prevState,omitempty"`
	PrevTFO           string    `json:"prevTestFailoverState,omitempty"`
	TestFailoverDone  bool      `json:"testFailoverDone"`
	LastTestFailover  time.Time `json:"lastTestFailover"`
	LastFailover      time.Time `json:"lastFailover"`
	Unhealthy         string    `json:"unhealthy,omitempty"`

	IRStart           time.Time `json:"irStart"`
	IREnd             time.Time `json:"irEnd"`
	RecoveryPoints    int       `json:"recoveryPoints"`
	LastRecoveryPoint time.Time `json:"lastRecoveryPoint"`

	JobID         string    `json:"jobId,omitempty"`
	PrevJobID     string    `json:"prevJobId,omitempty"`
	Scenario      string    `json:"scenario,omitempty"`
	ScenarioStart time.Time `json:"scenarioStart"`
	Revision      int       `json:"revision"`

	TargetVMName          string            `json:"targetVmName"`
	TargetVMSize          string            `json:"targetVmSize"`
	TargetResourceGroupID string            `json:"targetResourceGroupId"`
	TargetNetworkID       string            `json:"targetNetworkId"`
	TestNetworkID         string            `json:"testNetworkId"`
	TargetZone            string            `json:"targetZone"`
	TargetAvailabilitySet string            `json:"targetAvailabilitySetId"`
	TargetPPG             string            `json:"targetPpgId"`
	BootDiagnostics       string            `json:"bootDiagnosticsId"`
	LicenseType           string            `json:"licenseType"`
	SQLLicenseType        string            `json:"sqlLicenseType"`
	LinuxLicenseType      string            `json:"linuxLicenseType"`
	SecurityType          string            `json:"securityType"`
	SecureBoot            string            `json:"secureBoot,omitempty"`
	TPM                   string            `json:"tpm,omitempty"`
	MultiVMGroup          string            `json:"multiVmGroup,omitempty"`
	Tags                  map[string]string `json:"tags,omitempty"`
	NICTags               map[string]string `json:"nicTags,omitempty"`
	DiskTags              map[string]string `json:"diskTags,omitempty"`
	Disks                 []itemDisk        `json:"disks"`
	NICs                  []itemNIC         `json:"nics"`
}

type itemDisk struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	LogStorage string `json:"logStorage"`
	SizeGB     int    `json:"sizeGB"`
	IsOS       bool   `json:"isOS"`
}

type itemNIC struct {
	ID           string `json:"id"`
	Primary      bool   `json:"primary"`
	Selected     bool   `json:"selected"`
	SourceIP     string `json:"sourceIp"`
	TargetSubnet string `json:"targetSubnet"`
	TargetIP     string `json:"targetIp"`
	TestSubnet   string `json:"testSubnet"`
	TestIP       string `json:"testIp"`
	TargetName   string `json:"targetName,omitempty"`
}

func (it *item) key() string { return strings.ToLower(it.Name) }

// job is a replication job (vaults/replicationJobs).
type job struct {
	ID          string    `json:"id"`
	Scenario    string    `json:"scenario"`
	Item        string    `json:"item"`
	ItemName    string    `json:"itemName"`
	Target      string    `json:"target"`
	State       string    `json:"state"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	FailCode    string    `json:"failCode,omitempty"`
	FailMessage string    `json:"failMessage,omitempty"`
}

// op is one long-running operation as ARM exposes it: an async status URL
// that follows a job, and what the final result GET returns.
type op struct {
	ID        string `json:"id"`
	JobID     string `json:"jobId"`
	Item      string `json:"item"`
	Container string `json:"container"`
	Deletes   bool   `json:"deletes"`
}

func newJobName(seq int) string {
	return fmt.Sprintf("%08x-5157-4a00-9000-%012d", seq*2654435761%0xffffffff, seq)
}

func newWorld(seed Seed) *world {
	return &world{Seed: seed, Items: map[string]*item{}, Jobs: map[string]*job{}, Ops: map[string]*op{}}
}

func (w *world) machine(name string) *Machine {
	if w.byName == nil || len(w.byName) != len(w.Seed.Machines) {
		w.byName = make(map[string]int, len(w.Seed.Machines))
		for i, m := range w.Seed.Machines {
			w.byName[strings.ToLower(m.Name)] = i
		}
	}
	if i, ok := w.byName[strings.ToLower(name)]; ok {
		return &w.Seed.Machines[i]
	}
	for i := range w.Seed.Machines {
		if strings.EqualFold(w.Seed.Machines[i].Name, name) {
			return &w.Seed.Machines[i]
		}
	}
	return nil
}

func (w *world) container(name string) bool {
	for _, c := range w.Seed.Containers {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

func (w *world) policy(name string) string {
	for _, p := range w.Seed.Policies {
		if strings.EqualFold(p, name) {
			return p
		}
	}
	return ""
}

// seedItems turns Seed.Items into protected items as if their enable and
// initial replication had finished long ago.
func (w *world) seedItems(now time.Time) error {
	for _, s := range w.Seed.Items {
		m := w.machine(s.Machine)
		if m == nil {
			return fmt.Errorf("azuresim: seed item %q: no discovered machine %q", s.Name, s.Machine)
		}
		c := s.Container
		if c == "" && len(w.Seed.Containers) > 0 {
			c = w.Seed.Containers[0]
		}
		pol := s.Policy
		if pol == "" && len(w.Seed.Policies) > 0 {
			pol = w.Seed.Policies[0]
		}
		state := s.State
		if state == "" {
			state = StateProtected
		}
		it := &item{
			Name: s.Name, Container: c, Machine: m.Name, Policy: pol,
			State: state, TestFailoverState: TestFailoverNone,
			IRStart: now.Add(-2 * time.Hour), IREnd: now.Add(-time.Hour),
			RecoveryPoints: 1, LastRecoveryPoint: now.Add(-5 * time.Minute),
			TargetVMName: s.TargetVMName, TargetVMSize: s.TargetVMSize,
			TargetResourceGroupID: s.TargetResourceGroupID, TargetNetworkID: s.TargetNetworkID,
			TestNetworkID: s.TargetNetworkID, LicenseType: "NoLicenseType", SQLLicenseType: "NotSpecified",
			LinuxLicenseType: "NotSpecified", SecurityType: "None",
		}
		for _, d := range m.Disks {
			it.Disks = append(it.Disks, itemDisk{ID: d.ID, Type: "Standard_LRS", SizeGB: d.SizeGB, IsOS: d.IsOS})
		}
		for i, n := range m.NICs {
			it.NICs = append(it.NICs, itemNIC{ID: n.itemNICID(), Primary: i == 0, Selected: true, SourceIP: n.IP, TargetSubnet: "default"})
		}
		w.Items[it.key()] = it
	}
	return nil
}

// save writes the world atomically so another process never reads half a
// file, and returns the hash of what it wrote.
func (w *world) save(path string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	b, err := json.Marshal(w)
	if err != nil {
		return sum, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".azuresim-*")
	if err != nil {
		return sum, err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return sum, err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return sum, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return sum, err
	}
	return sha256.Sum256(b), nil
}

func loadWorld(path string) (*world, [sha256.Size]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, [sha256.Size]byte{}, err
	}
	w, err := decodeWorld(b)
	if err != nil {
		return nil, [sha256.Size]byte{}, fmt.Errorf("azuresim: state file %s: %w", filepath.Base(path), err)
	}
	return w, sha256.Sum256(b), nil
}

func decodeWorld(b []byte) (*world, error) {
	w := newWorld(Seed{})
	if err := json.Unmarshal(b, w); err != nil {
		return nil, err
	}
	if w.Items == nil {
		w.Items = map[string]*item{}
	}
	if w.Jobs == nil {
		w.Jobs = map[string]*job{}
	}
	if w.Ops == nil {
		w.Ops = map[string]*op{}
	}
	return w, nil
}
