package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"cutover/planner"
	"cutover/providers/azure"
	"cutover/providers/azure/azuresim"
	"cutover/providers/simworld"
	"cutover/providers/vcenter"
	"cutover/schema"
)

// session holds the live connections of one command.
type session struct {
	sources  planner.Sources
	vcenters map[string]*vcenter.Client
	azures   map[string]*azure.Client
	world    *simworld.World
	// served is set when --sim attached to a world `cutover sim serve`
	// runs; that process owns the world and saves it.
	served  *simworld.Served
	closers []func()
}

func (s *session) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// simDir is where --sim keeps the simulated world of a runbook.
func simDir(rb *schema.Runbook) string { return filepath.Join(rb.Dir, ".cutover", "sim") }

// connect opens every vcenter and azure connection of the runbook, or the
// simulated world's when sim is set. The same provider code runs in both
// cases; only the endpoints and credentials differ.
func connect(ctx context.Context, rb *schema.Runbook, sim bool) (*session, error) {
	s := &session{
		sources:  planner.Sources{VCenters: map[string]planner.VCenterReader{}, Azures: map[string]planner.AzureReader{}},
		vcenters: map[string]*vcenter.Client{}, azures: map[string]*azure.Client{},
	}
	vcs := map[string]vcenter.Config{}
	azs := map[string]azure.Config{}
	var azOpts *azure.Options
	if sim {
		served, err := simworld.Attach(simDir(rb))
		if err != nil {
			return nil, fmt.Errorf("simulated world: %w", err)
		}
		if served != nil {
			s.served = served
			vcs, azs, azOpts = served.VCenterConfigs, served.AzureConfigs, served.AzureOptions()
		} else {
			w, err := simworld.Open(ctx, rb, simDir(rb), simworld.Options{TimeScale: simTimeScale(), Throttle: simThrottle()})
			if err != nil {
				return nil, fmt.Errorf("simulated world: %w", err)
			}
			s.world = w
			s.closers = append(s.closers, w.Close)
			vcs, azs, azOpts = w.VCenterConfigs, w.AzureConfigs, w.AzureOptions()
		}
	} else {
		if err := checkCredentials(rb); err != nil {
			return nil, err
		}
		for _, vc := range rb.VCenters {
			vcs[vc.Name] = vcenter.Config{
				Name: vc.Name, URL: vc.URL, Username: vc.Username, Password: vc.Password.Reveal(),
				Insecure: vc.Insecure, Thumbprint: vc.Thumbprint, Datacenter: vc.Datacenter,
			}
		}
		for _, az := range rb.Azures {
			azs[az.Name] = azure.Config{
				Name: az.Name, Cloud: az.Cloud, Endpoint: az.Endpoint, CAFile: caPath(rb, az.CAFile),
				SubscriptionID: az.SubscriptionID, TenantID: az.TenantID, Vault: az.Vault, Appliance: az.Appliance,
				Credential: az.Credential, ClientID: az.ClientID, ClientSecret: az.ClientSecret.Reveal(), TokenEnv: az.TokenEnv,
			}
		}
	}
	// The write budget is the runbook's (or apply's flags') in the
	// simulated world too: the simulator throttles like ARM only when
	// told to, and the budget is what keeps a wave under it.
	for _, az := range rb.Azures {
		if cfg, ok := azs[az.Name]; ok {
			cfg.WriteBurst, cfg.WritesPerSecond = az.WriteBurst, az.WritesPerSecond
			azs[az.Name] = cfg
		}
	}
	for name, cfg := range vcs {
		c, err := vcenter.Connect(ctx, cfg)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("vcenter %q: %w", name, err)
		}
		s.closers = append(s.closers, func() { _ = c.Close(context.Background()) })
		s.sources.VCenters[name] = c
		s.vcenters[name] = c
	}
	for name, cfg := range azs {
		c, err := azure.New(cfg, azOpts)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("azure %q: %w", name, err)
		}
		s.sources.Azures[name] = c
		s.azures[name] = c
	}
	return s, nil
}

// SimTimeScaleEnv scales the simulated vault's job durations: 1 is
// seconds-long jobs, the default 0.2 runs the quickstart in seconds.
const SimTimeScaleEnv = "CUTOVER_SIM_TIMESCALE"

func simTimeScale() float64 {
	if v, err := strconv.ParseFloat(os.Getenv(SimTimeScaleEnv), 64); err == nil && v > 0 {
		return v
	}
	return 0.2
}

// SimThrottleEnv switches on ARM's write throttle in the simulated vaults:
// "BURST/PER_SECOND" (such as "200/10", ARM's own) or "arm".
const SimThrottleEnv = "CUTOVER_SIM_ARM_THROTTLE"

func simThrottle() azuresim.Throttle {
	v := strings.TrimSpace(os.Getenv(SimThrottleEnv))
	if v == "arm" {
		return azuresim.ARMWriteThrottle
	}
	b, r, ok := strings.Cut(v, "/")
	burst, err1 := strconv.Atoi(b)
	rate, err2 := strconv.ParseFloat(r, 64)
	if !ok || err1 != nil || err2 != nil || burst <= 0 || rate <= 0 {
		return azuresim.Throttle{}
	}
	return azuresim.Throttle{Burst: burst, WritesPerSecond: rate}
}

func caPath(rb *schema.Runbook, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(rb.Dir, p)
}
