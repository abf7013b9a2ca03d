package azuresim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
)

func eq(a, b string) bool { return strings.EqualFold(a, b) }

// serveRecoveryServices routes .../providers/Microsoft.RecoveryServices/{rest}.
func (s *Sim) serveRecoveryServices(c *reqCtx, rest []string) *apiError {
	if len(rest) < 2 || !eq(rest[0], "vaults") {
		return errorf(http.StatusNotFound, "InvalidResourceType", "The resource type could not be found in the namespace 'Microsoft.RecoveryServices'.")
	}
	if !eq(rest[1], s.w.Seed.Vault) {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The Resource 'Microsoft.RecoveryServices/vaults/%s' under resource group '%s' was not found.", rest[1], s.w.Seed.ResourceGroup)
	}
	r := rest[2:]
	if len(r) == 0 {
		return errorf(http.StatusNotFound, "ResourceNotFound", "Vault resources are not simulated.")
	}
	get := c.r.Method == http.MethodGet
	switch {
	case eq(r[0], "replicationFabrics"):
		return s.serveFabrics(c, r[1:])
	case eq(r[0], "replicationPolicies") && get:
		if len(r) == 1 {
			var all []any
			for _, p := range s.w.Seed.Policies {
				all = append(all, s.w.renderPolicy(p))
			}
			return s.writePage(c, all)
		}
		if len(r) == 2 {
			if p := s.w.policy(r[1]); p != "" {
				return writeJSON(c.w, http.StatusOK, s.w.renderPolicy(p))
			}
			return errorf(http.StatusNotFound, "ResourceNotFound", "The replication policy '%s' was not found in vault '%s'.", r[1], s.w.Seed.Vault)
		}
	case eq(r[0], "replicationProtectedItems") && get && len(r) == 1:
		return s.listItems(c, "")
	case eq(r[0], "replicationJobs") && get:
		if len(r) == 1 {
			ids := make([]string, 0, len(s.w.Jobs))
			for id := range s.w.Jobs {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			// Only the page served is rendered: rendering every job for
			// each page made a paged read of the list quadratic.
			from, to, next := s.page(c, len(ids))
			p := marshalerPage{next: next}
			for _, id := range ids[from:to] {
				p.entries = append(p.entries, s.w.renderJob(s.w.Jobs[id]))
			}
			return writeJSON(c.w, http.StatusOK, p)
		}
		if len(r) == 2 {
			if j := s.w.Jobs[r[1]]; j != nil {
				return writeJSON(c.w, http.StatusOK, s.w.renderJob(j))
			}
			return errorf(http.StatusNotFound, "ResourceNotFound", "The replication job '%s' was not found.", r[1])
		}
	case eq(r[0], "replicationOperationStatus") && get && len(r) == 2:
		return s.operationStatus(c, r[1])
	case eq(r[0], "replicationOperationResults") && get && len(r) == 2:
		return s.operationResult(c, r[1])
	}
	return errorf(http.StatusNotFound, "ResourceNotFound", "The resource '%s' was not found.", c.r.URL.Path)
}

func (s *Sim) serveFabrics(c *reqCtx, r []string) *apiError {
	get := c.r.Method == http.MethodGet
	fabrics := append([]string{s.w.Seed.Fabric}, s.w.Seed.OtherFabrics...)
	if len(r) == 0 {
		if !get {
			return methodNotAllowed(c)
		}
		var all []any
		for _, f := range fabrics {
			all = append(all, s.w.renderFabric(f))
		}
		return s.writePage(c, all)
	}
	var fabric string
	for _, f := range fabrics {
		if eq(f, r[0]) {
			fabric = f
		}
	}
	if fabric == "" {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The replication fabric '%s' was not found in vault '%s'.", r[0], s.w.Seed.Vault)
	}
	if len(r) == 1 {
		if !get {
			return methodNotAllowed(c)
		}
		return writeJSON(c.w, http.StatusOK, s.w.renderFabric(fabric))
	}
	if !eq(r[1], "replicationProtectionContainers") {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The resource '%s' was not found.", c.r.URL.Path)
	}
	containers := s.w.Seed.Containers
	if fabric != s.w.Seed.Fabric {
		containers = nil
	}
	if len(r) == 2 {
		if !get {
			return methodNotAllowed(c)
		}
		var all []any
		for _, ct := range containers {
			all = append(all, s.w.renderContainer(ct))
		}
		return s.writePage(c, all)
	}
	container := ""
	for _, ct := range containers {
		if eq(ct, r[2]) {
			container = ct
		}
	}
	if container == "" {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The protection container '%s' was not found in fabric '%s'.", r[2], fabric)
	}
	if len(r) == 3 {
		if !get {
			return methodNotAllowed(c)
		}
		return writeJSON(c.w, http.StatusOK, s.w.renderContainer(container))
	}
	if !eq(r[3], "replicationProtectedItems") {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The resource '%s' was not found.", c.r.URL.Path)
	}
	if len(r) == 4 {
		if !get {
			return methodNotAllowed(c)
		}
		return s.listItems(c, container)
	}
	name := r[4]
	it := s.w.Items[strings.ToLower(name)]
	if it != nil && !eq(it.Container, container) {
		it = nil
	}
	if len(r) == 5 {
		switch c.r.Method {
		case http.MethodGet:
			if f := s.fault("get", it, name); f != nil && !f.Async {
				return faultError(f)
			}
			if it == nil {
				return notFoundItem(name)
			}
			return writeJSON(c.w, http.StatusOK, s.w.renderItem(it, c.now))
		case http.MethodPut:
			return s.create(c, container, name, it)
		case http.MethodPatch:
			if it == nil {
				return notFoundItem(name)
			}
			return s.update(c, it)
		case http.MethodDelete:
			if it == nil {
				return notFoundItem(name)
			}
			return s.action(c, it, "purge")
		}
		return methodNotAllowed(c)
	}
	if len(r) == 6 && c.r.Method == http.MethodPost {
		if it == nil {
			return notFoundItem(name)
		}
		return s.action(c, it, r[5])
	}
	return errorf(http.StatusNotFound, "ResourceNotFound", "The resource '%s' was not found.", c.r.URL.Path)
}

func notFoundItem(name string) *apiError {
	return errorf(http.StatusNotFound, "ResourceNotFound", "The replication protected item '%s' was not found.", name)
}

func faultError(f *Fault) *apiError {
	st := f.Status
	if st == 0 {
		st = http.StatusBadRequest
	}
	code := f.Code
	if code == "" {
		code = "InternalError"
	}
	return &apiError{Status: st, Code: code, Message: f.Message}
}

func (s *Sim) listItems(c *reqCtx, container string) *apiError {
	if f := s.fault("list", nil); f != nil {
		return faultError(f)
	}
	names := make([]string, 0, len(s.w.Items))
	for k, it := range s.w.Items {
		if container == "" || eq(it.Container, container) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	from, to, next := s.page(c, len(names))
	p := marshalerPage{next: next}
	for _, k := range names[from:to] {
		p.entries = append(p.entries, s.w.renderItem(s.w.Items[k], c.now))
	}
	return writeJSON(c.w, http.StatusOK, p)
}

// marshalerPage is one list page of freshly rendered entries, encoded
// (outside the world lock, see writeJSON) each on its own and assembled by
// hand: encoding/json re-validates every nested Marshaler's output at each
// level, which dominated the cost of large pages.
type marshalerPage struct {
	entries []json.Marshaler
	next    string
}

func (p marshalerPage) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"value":[`)
	for i, e := range p.entries {
		b, err := e.MarshalJSON()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteString(`],"nextLink":`)
	if p.next == "" {
		buf.WriteString("null")
	} else {
		nl, err := json.Marshal(p.next)
		if err != nil {
			return nil, err
		}
		buf.Write(nl)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// accept answers a long-running operation ARM's way: 202 with
// Azure-AsyncOperation, Location and Retry-After, body the given resource.
func (s *Sim) accept(c *reqCtx, it *item, j *job, deletes bool, body any) *apiError {
	s.w.Seq++
	o := &op{ID: newJobName(s.w.Seq) + "-op", JobID: j.ID, Item: it.key(), Container: it.Container, Deletes: deletes}
	s.w.Ops[o.ID] = o
	q := url.Values{"api-version": {SiteRecoveryAPIVersion}}.Encode()
	vault := c.base + "/subscriptions/" + s.w.Seed.SubscriptionID + "/resourceGroups/" + s.w.Seed.ResourceGroup + "/providers/Microsoft.RecoveryServices/vaults/" + s.w.Seed.Vault
	h := c.w.Header()
	h.Set("Azure-AsyncOperation", vault+"/replicationOperationStatus/"+o.ID+"?"+q)
	h.Set("Location", vault+"/replicationOperationResults/"+o.ID+"?"+q)
	setRetryAfter(h, s.opts.PollAfter)
	return writeJSON(c.w, http.StatusAccepted, body)
}

func (s *Sim) operationStatus(c *reqCtx, id string) *apiError {
	o := s.w.Ops[id]
	if o == nil {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The operation '%s' was not found.", id)
	}
	j := s.w.Jobs[o.JobID]
	status := j.State
	if status == JobSuspended {
		// The test failover is done; its job waits for the cleanup. The
		// operation has succeeded (GUESS: no source shows this status).
		status = "Succeeded"
	}
	body := map[string]any{
		"id":        strings.TrimPrefix(c.r.URL.Path, ""),
		"name":      o.ID,
		"status":    status,
		"startTime": j.Start.UTC(),
		"properties": map[string]any{
			"jobId": s.w.jobID(j.ID),
		},
	}
	switch j.State {
	case "InProgress":
		setRetryAfter(c.w.Header(), s.opts.PollAfter)
	case "Failed":
		body["endTime"] = j.End.UTC()
		body["error"] = map[string]string{"code": j.FailCode, "message": j.FailMessage}
	default:
		body["endTime"] = j.End.UTC()
	}
	return writeJSON(c.w, http.StatusOK, body)
}

func (s *Sim) operationResult(c *reqCtx, id string) *apiError {
	o := s.w.Ops[id]
	if o == nil {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The operation '%s' was not found.", id)
	}
	j := s.w.Jobs[o.JobID]
	switch j.State {
	case "InProgress":
		c.w.Header().Set("Location", c.base+c.r.URL.RequestURI())
		setRetryAfter(c.w.Header(), s.opts.PollAfter)
		c.w.WriteHeader(http.StatusAccepted)
		return nil
	case "Failed":
		return &apiError{Status: http.StatusBadRequest, Code: j.FailCode, Message: j.FailMessage}
	}
	it := s.w.Items[o.Item]
	if o.Deletes || it == nil {
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return writeJSON(c.w, http.StatusOK, s.w.renderItem(it, c.now))
}

// lastSegment returns the name at the end of an ARM ID.
func lastSegment(id string) string { return path.Base(strings.TrimRight(id, "/")) }
