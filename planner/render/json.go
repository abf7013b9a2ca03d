package render

import (
	"encoding/json"
	"io"

	"cutover/planner"
)

// JSONFormatVersion is the version of the JSON rendering's shape. It moves
// only when a field is removed or changes meaning, so that policy checks
// written against it keep working; new fields may appear without a bump.
const JSONFormatVersion = 1

// The JSON rendering has its own types instead of encoding planner.Plan:
// the plan file format belongs to planfile and may change for the
// executor's sake, while policy checks need a shape that stays put. Every
// field is always present (empty lists as [], empty maps as {}) so a policy
// never has to tell "absent" from "empty".
type jsonPlan struct {
	FormatVersion     int               `json:"format_version"`
	PlanFormatVersion int               `json:"plan_format_version"`
	ToolVersion       string            `json:"tool_version"`
	Runbook           string            `json:"runbook"`
	RunbookHash       string            `json:"runbook_hash"`
	CreatedAt         string            `json:"created_at"`
	ExpiresAt         string            `json:"expires_at"`
	HasChanges        bool              `json:"has_changes"`
	Summary           jsonSummary       `json:"summary"`
	Windows           []jsonWindow      `json:"windows"`
	VMs               []jsonVM          `json:"vms"`
	Steps             []jsonStep        `json:"steps"`
	Undo              jsonUndo          `json:"undo"`
	Timeline          jsonTimeline      `json:"timeline"`
	Variables         map[string]string `json:"variables"`
}

type jsonSummary struct {
	VMs        int `json:"vms"`
	Changed    int `json:"changed"`
	Unchanged  int `json:"unchanged"`
	Steps      int `json:"steps"`
	Replicate  int `json:"replicate"`
	Update     int `json:"update"`
	Test       int `json:"test"`
	Failover   int `json:"failover"`
	Commit     int `json:"commit"`
	Source     int `json:"source"`
	Disruptive int `json:"disruptive"`
	NoReturn   int `json:"no_return"`
}

type jsonWindow struct {
	Name     string `json:"name"`
	Schedule string `json:"schedule"`
	Duration string `json:"duration"`
	Timezone string `json:"timezone"`
}

type jsonVM struct {
	Address    string   `json:"address"`
	Live       string   `json:"live"`
	Desired    string   `json:"desired"`
	TargetName string   `json:"target_name"`
	Size       string   `json:"size"`
	Subnet     string   `json:"subnet"`
	Window     string   `json:"window"`
	Steps      []string `json:"steps"`
	Disruptive int      `json:"disruptive"`
	NoReturn   int      `json:"no_return"`
	// Fingerprint holds the digests only: the summary behind them is live
	// detail a policy has no use for.
	Fingerprint jsonFingerprint `json:"fingerprint"`
	Sensitive   []string        `json:"sensitive"`
	Warnings    []string        `json:"warnings"`
	// AzureVMs is absent when no Azure VM was read for the VM.
	AzureVMs []jsonAzureVM `json:"azure_vms,omitempty"`
}

type jsonAzureVM struct {
	Name            string `json:"name"`
	ResourceGroupID string `json:"resource_group_id"`
	Test            bool   `json:"test"`
	Exists          bool   `json:"exists"`
	PowerState      string `json:"power_state"`
	VMID            string `json:"vm_id"`
	Error           string `json:"error"`
}

type jsonFingerprint struct {
	Source string `json:"source"`
	Item   string `json:"item"`
}

type jsonStep struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	VM         string            `json:"vm"`
	Provider   string            `json:"provider"`
	DependsOn  []string          `json:"depends_on"`
	Disruptive bool              `json:"disruptive"`
	NoReturn   bool              `json:"no_return"`
	Window     string            `json:"window"`
	Gate       string            `json:"gate"`
	Inverse    string            `json:"inverse"`
	Inputs     map[string]string `json:"inputs"`
	Changes    []jsonChange      `json:"changes"`
	Estimate   jsonEstimate      `json:"estimate"`
}

type jsonEstimate struct {
	StartS    int64  `json:"start_s"`
	DurationS int64  `json:"duration_s"`
	Basis     string `json:"basis"`
}

type jsonTimeline struct {
	Parallelism    int                  `json:"parallelism"`
	ThroughputMbps float64              `json:"throughput_mbps"`
	EndS           int64                `json:"end_s"`
	Windows        []jsonWindowTimeline `json:"windows"`
}

type jsonWindowTimeline struct {
	Name             string   `json:"name"`
	CloseS           int64    `json:"close_s"`
	DisruptiveStartS int64    `json:"disruptive_start_s"`
	DisruptiveEndS   int64    `json:"disruptive_end_s"`
	DisruptiveSteps  int      `json:"disruptive_steps"`
	VMs              int      `json:"vms"`
	Fits             bool     `json:"fits"`
	Spill            []string `json:"spill"`
	FitVMs           int      `json:"fit_vms"`
	FitParallelism   int      `json:"fit_parallelism"`
}

type jsonChange struct {
	Attribute string `json:"attribute"`
	Old       string `json:"old"`
	New       string `json:"new"`
	Sensitive bool   `json:"sensitive"`
}

type jsonUndo struct {
	Inverses []jsonInverse `json:"inverses"`
	// NoReturn lists the step IDs that cannot be undone once applied.
	NoReturn []string `json:"no_return"`
}

type jsonInverse struct {
	Kind   string `json:"kind"`
	Undoes string `json:"undoes"`
	Count  int    `json:"count"`
}

// JSON writes the plan in the stable machine form described by
// JSONFormatVersion, indented, with keys in a fixed order.
func JSON(w io.Writer, p *planner.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Gates hold "<=" and inputs may hold "&"; escaping them as \u003c
	// makes the output harder to read and to grep for no benefit here.
	enc.SetEscapeHTML(false)
	return enc.Encode(jsonOf(newView(p)))
}

func jsonOf(v *view) jsonPlan {
	p := v.plan
	out := jsonPlan{
		FormatVersion:     JSONFormatVersion,
		PlanFormatVersion: p.FormatVersion,
		ToolVersion:       p.ToolVersion,
		Runbook:           p.Runbook,
		RunbookHash:       p.RunbookHash,
		CreatedAt:         stamp(p.CreatedAt),
		ExpiresAt:         stamp(p.ExpiresAt),
		HasChanges:        len(v.steps) > 0,
		Windows:           []jsonWindow{},
		VMs:               []jsonVM{},
		Steps:             []jsonStep{},
		Undo:              jsonUndo{Inverses: []jsonInverse{}, NoReturn: []string{}},
		Variables:         map[string]string{},
	}
	for k, val := range p.Variables {
		out.Variables[k] = val
	}
	s := v.sum
	out.Summary = jsonSummary{
		VMs: len(v.allVMs()), Unchanged: s.Unchanged, Steps: len(v.steps),
		Replicate: s.Replicate, Update: s.Update, Test: s.Test, Failover: s.Failover,
		Commit: s.Commit, Source: s.Source, Disruptive: s.Disruptive, NoReturn: s.NoReturn,
	}
	for _, w := range p.Windows {
		out.Windows = append(out.Windows, jsonWindow{Name: w.Name, Schedule: w.Schedule, Duration: w.Duration, Timezone: w.Timezone})
	}
	for _, vm := range v.allVMs() {
		if len(vm.steps) > 0 {
			out.Summary.Changed++
		}
		jv := jsonVM{
			Address: vm.Address, Live: vm.Live.String(), Desired: vm.Desired,
			TargetName: vm.TargetName, Size: vm.Size, Subnet: vm.Subnet, Window: vm.Window,
			Steps: []string{}, Disruptive: vm.disruptive, NoReturn: vm.noReturn,
			Fingerprint: jsonFingerprint{Source: vm.Fingerprint.Source, Item: vm.Fingerprint.Item},
			Sensitive:   append([]string{}, vm.Sensitive...),
			Warnings:    append([]string{}, vm.Warnings...),
		}
		for _, a := range vm.AzureVMs {
			jv.AzureVMs = append(jv.AzureVMs, jsonAzureVM{Name: a.Name, ResourceGroupID: a.ResourceGroupID, Test: a.Test,
				Exists: a.Exists, PowerState: a.PowerState, VMID: a.VMID, Error: a.Error})
		}
		for _, st := range vm.steps {
			jv.Steps = append(jv.Steps, st.ID)
		}
		out.VMs = append(out.VMs, jv)
	}
	for _, st := range v.steps {
		js := jsonStep{
			ID: st.ID, Kind: string(st.Kind), VM: st.VM, Provider: st.Kind.Provider(),
			DependsOn:  append([]string{}, st.DependsOn...),
			Disruptive: st.Disruptive, NoReturn: st.NoReturn, Window: st.Window, Gate: st.Gate,
			Inverse: string(st.Inverse), Inputs: map[string]string{}, Changes: []jsonChange{},
		}
		for k, val := range st.Inputs {
			js.Inputs[k] = val
		}
		if e := st.Estimate; e != nil {
			js.Estimate = jsonEstimate{StartS: e.StartS, DurationS: e.DurationS, Basis: e.Basis}
		}
		for _, c := range st.Changes {
			js.Changes = append(js.Changes, jsonChange{Attribute: c.Attribute, Old: c.Old, New: c.New, Sensitive: c.Sensitive})
		}
		out.Steps = append(out.Steps, js)
	}
	for _, u := range v.undos() {
		out.Undo.Inverses = append(out.Undo.Inverses, jsonInverse{Kind: string(u.Inverse), Undoes: string(u.Of), Count: u.Count})
	}
	for _, st := range v.noReturn() {
		out.Undo.NoReturn = append(out.Undo.NoReturn, st.ID)
	}
	out.Timeline.Windows = []jsonWindowTimeline{}
	if tl := p.Timeline; tl != nil {
		out.Timeline.Parallelism, out.Timeline.ThroughputMbps, out.Timeline.EndS = tl.Parallelism, tl.ThroughputMbps, tl.EndS
		for _, w := range tl.Windows {
			out.Timeline.Windows = append(out.Timeline.Windows, jsonWindowTimeline{
				Name: w.Name, CloseS: w.CloseS, DisruptiveStartS: w.DisruptiveStartS, DisruptiveEndS: w.DisruptiveEndS,
				DisruptiveSteps: w.DisruptiveSteps, VMs: w.VMs, Fits: w.Fits(), Spill: append([]string{}, w.Spill...),
				FitVMs: w.FitVMs, FitParallelism: w.FitParallelism,
			})
		}
	}
	return out
}
