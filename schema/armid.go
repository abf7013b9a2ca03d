package schema

import (
	"strings"
	"time"
)

// armID is the part of an Azure Resource Manager ID that validation needs.
type armID struct {
	Subscription  string
	ResourceGroup string
	// Type is the provider namespace and type chain, such as
	// Microsoft.Network/virtualNetworks or
	// Microsoft.Network/virtualNetworks/subnets.
	Type string
	Name string
}

// parseARMID parses /subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}...].
// It returns a reason when s is malformed.
func parseARMID(s string) (armID, string) {
	const shape = "is not an Azure resource ID of the form /subscriptions/{id}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}."
	parts := strings.Split(strings.TrimPrefix(s, "/"), "/")
	if !strings.HasPrefix(s, "/") || len(parts) < 4 || !strings.EqualFold(parts[0], "subscriptions") ||
		!strings.EqualFold(parts[2], "resourceGroups") {
		return armID{}, shape
	}
	for _, p := range parts {
		if p == "" {
			return armID{}, "has an empty segment; " + shape
		}
	}
	id := armID{Subscription: parts[1], ResourceGroup: parts[3]}
	if !guidPattern.MatchString(id.Subscription) {
		return armID{}, "has a subscription segment that is not a GUID."
	}
	if len(parts) == 4 {
		id.Type = "resourceGroups"
		id.Name = parts[3]
		return id, ""
	}
	rest := parts[4:]
	if !strings.EqualFold(rest[0], "providers") || len(rest) < 4 || (len(rest)-2)%2 != 0 {
		return armID{}, shape
	}
	types := []string{rest[1]}
	for i := 2; i < len(rest); i += 2 {
		types = append(types, rest[i])
		id.Name = rest[i+1]
	}
	id.Type = strings.Join(types, "/")
	return id, ""
}

// checkResource returns a check for an attribute that takes either a plain
// resource name or a full ARM ID of the given type.
func checkResource(wantType string) func(string) string {
	return func(s string) string {
		if !strings.HasPrefix(s, "/") {
			if strings.ContainsAny(s, " /\\") {
				return "is neither a resource name nor an Azure resource ID of type " + wantType + "."
			}
			return ""
		}
		id, why := parseARMID(s)
		if why != "" {
			return why
		}
		if !strings.EqualFold(id.Type, wantType) {
			return "is a " + id.Type + " ID; expected a " + wantType + " ID."
		}
		return ""
	}
}

func checkWindowDuration(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil {
		return "is not a duration such as \"6h\" or \"90m\"."
	}
	if d <= 0 || d > 7*24*time.Hour {
		return "must be longer than zero and at most 168h (one week)."
	}
	return ""
}

func checkTimezone(s string) string {
	// time.LoadLocation takes "Local" (this machine's zone) and "" (UTC);
	// neither is an IANA name, and Local would make the runbook mean
	// different things on different machines.
	if s == "Local" || strings.TrimSpace(s) == "" || strings.TrimSpace(s) != s {
		return "is not an IANA time zone name such as \"Europe/Berlin\" or \"Asia/Shanghai\"; Local depends on the machine."
	}
	if _, err := time.LoadLocation(s); err != nil {
		return "is not an IANA time zone name such as \"Europe/Berlin\" or \"Asia/Shanghai\"."
	}
	return ""
}

func checkGoDuration(s string) string {
	if d, err := time.ParseDuration(s); err != nil || d <= 0 {
		return "is not a positive duration such as \"15m\" or \"1h\"."
	}
	return ""
}
