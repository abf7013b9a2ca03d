package azuresim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// StatusClientClosedRequest is the status the request log gives a request
// whose client went away before its body arrived: it was never received,
// so nothing acted on it.
const StatusClientClosedRequest = 499

// statusRecorder keeps the status for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

var _ http.ResponseWriter = (*statusRecorder)(nil)

// WriteHeader records the first status written.
func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// fieldsKey carries a request's loggable body fields (see Request.Fields).
type fieldsKey struct{}

// logField records one body field of the request in the request log. Only
// lifecycle choices go there, never settings that could hold secrets.
func logField(r *http.Request, name, value string) {
	if m, ok := r.Context().Value(fieldsKey{}).(map[string]string); ok {
		m[name] = value
	}
}

// apiError is ARM's error body: {"error":{"code","message"}}.
type apiError struct {
	Status  int
	Code    string
	Message string
}

// Error renders code and message.
func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServeHTTP implements the ARM surface described in the package comment.
// The world lock covers only the decision: the request body is read
// before it is taken, and the response is encoded and written after it
// is released, so one slow client or large response does not hold up the
// others.
func (s *Sim) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: rw}
	start := time.Now()
	fields := map[string]string{}
	r = r.WithContext(context.WithValue(r.Context(), fieldsKey{}, fields))
	defer func() {
		s.logMu.Lock()
		req := Request{Time: start, Method: r.Method, Path: r.URL.Path, Status: rec.status}
		if len(fields) > 0 {
			req.Fields = fields
		}
		s.requests = append(s.requests, req)
		s.logMu.Unlock()
	}()
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			// The client went away before its request arrived whole (a
			// killed process): there is nothing to act on and nobody to
			// answer. The log shows it as proxies do, 499.
			rec.status = StatusClientClosedRequest
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp := &response{header: http.Header{}}
	if err := s.serve(resp, r); err != nil {
		resp = &response{header: resp.header}
		writeError(resp, err)
	}
	resp.send(rec)
}

// response holds what a handler answers until the world lock is
// released. A value given to writeJSON is encoded only then, so handlers
// must hand it freshly rendered values that share no memory with the
// world (the render functions build new ones).
type response struct {
	header http.Header
	status int
	body   bytes.Buffer
	value  any
	isJSON bool
}

var _ http.ResponseWriter = (*response)(nil)

func (r *response) Header() http.Header { return r.header }

func (r *response) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *response) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// send encodes a deferred JSON value and writes the response.
func (r *response) send(w http.ResponseWriter) {
	if r.isJSON {
		b, err := json.Marshal(r.value)
		if err != nil {
			r.header = http.Header{}
			r.status = 0
			r.body.Reset()
			writeError(r, errorf(http.StatusInternalServerError, "InternalServerError", "encoding response: %v", err))
		} else {
			r.body.Write(b)
		}
	}
	for k, v := range r.header {
		w.Header()[k] = v
	}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-ms-failure-cause", "service")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) *apiError {
	if r, ok := w.(*response); ok {
		r.header.Set("Content-Type", "application/json; charset=utf-8")
		r.WriteHeader(status)
		r.value, r.isJSON = v, true
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return errorf(http.StatusInternalServerError, "InternalServerError", "encoding response: %v", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// reqCtx carries what a handler needs about one request.
type reqCtx struct {
	w    http.ResponseWriter
	r    *http.Request
	now  time.Time
	base string // scheme://host of this endpoint, for nextLink and LRO URLs
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) *apiError {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") || strings.TrimSpace(strings.TrimPrefix(auth, "Bearer ")) == "" {
		return errorf(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing or is not a bearer token.")
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if isComputePath(segs) {
		return s.serveCompute(w, r, segs)
	}
	if len(segs) < 6 || !strings.EqualFold(segs[0], "subscriptions") || !strings.EqualFold(segs[2], "resourceGroups") || !strings.EqualFold(segs[4], "providers") {
		return errorf(http.StatusNotFound, "InvalidResourceType", "The resource path '%s' is not served here.", r.URL.Path)
	}
	ns := segs[5]
	want := SiteRecoveryAPIVersion
	switch {
	case strings.EqualFold(ns, "Microsoft.RecoveryServices"):
	case strings.EqualFold(ns, "Microsoft.OffAzure"):
		want = OffAzureAPIVersion
	default:
		return errorf(http.StatusNotFound, "NoRegisteredProviderFound", "No registered resource provider found for namespace '%s'.", ns)
	}
	if got := r.URL.Query().Get("api-version"); got != want {
		return errorf(http.StatusBadRequest, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The supported versions are '%s'.", got, want)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c, write, unlock, aerr := s.enter(w, r, segs)
	if aerr != nil {
		return aerr
	}
	defer unlock()
	if !strings.EqualFold(segs[1], s.w.Seed.SubscriptionID) {
		return errorf(http.StatusNotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", segs[1])
	}
	if !strings.EqualFold(segs[3], s.w.Seed.ResourceGroup) {
		return errorf(http.StatusNotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", segs[3])
	}
	changed := s.w.advance(c.now, s.opts.TimeScale)
	var err *apiError
	if want == OffAzureAPIVersion {
		err = s.serveOffAzure(c, segs[6:])
	} else {
		err = s.serveRecoveryServices(c, segs[6:])
	}
	if changed || (write && err == nil) || s.rulesDirty {
		s.rulesDirty = false
		if perr := s.persistLocked(); perr != nil && err == nil {
			return errorf(http.StatusInternalServerError, "InternalServerError", "simulator state: %v", perr)
		}
	}
	return err
}

// setRetryAfter writes Retry-After in whole seconds and, for sub-second
// delays, retry-after-ms as well.
func setRetryAfter(h http.Header, d time.Duration) {
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	if d%time.Second != 0 {
		h.Set("retry-after-ms", strconv.FormatInt(d.Milliseconds(), 10))
	}
}

// page cuts a list according to $skipToken and the page size and returns
// the nextLink for the rest ("" on the last page).
func (s *Sim) page(c *reqCtx, total int) (from, to int, next string) {
	if tok := c.r.URL.Query().Get("$skipToken"); tok != "" {
		from, _ = strconv.Atoi(tok)
	}
	from = max(0, min(from, total))
	to = min(total, from+s.opts.PageSize)
	if to < total {
		q := url.Values{}
		q.Set("api-version", c.r.URL.Query().Get("api-version"))
		q.Set("$skipToken", strconv.Itoa(to))
		next = c.base + c.r.URL.Path + "?" + q.Encode()
	}
	return from, to, next
}

type listPage struct {
	Value    []any   `json:"value"`
	NextLink *string `json:"nextLink"`
}

func (s *Sim) writePage(c *reqCtx, all []any) *apiError {
	from, to, next := s.page(c, len(all))
	p := listPage{Value: all[from:to]}
	if p.Value == nil {
		p.Value = []any{}
	}
	if next != "" {
		p.NextLink = &next
	}
	return writeJSON(c.w, http.StatusOK, p)
}

func methodNotAllowed(c *reqCtx) *apiError {
	return errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The method '%s' is not supported for '%s'.", c.r.Method, c.r.URL.Path)
}

func decodeBody(r *http.Request, v any) *apiError {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized: %v", err)
	}
	return nil
}

// enter starts serving a request with s.mu held: it takes the state file's
// lock, reads what other processes wrote, and spends a write of the
// subscription's budget when the request writes. The caller releases the
// file lock with unlock once it has persisted.
func (s *Sim) enter(w http.ResponseWriter, r *http.Request, segs []string) (c *reqCtx, write bool, unlock func(), aerr *apiError) {
	unlock, lerr := s.lockFile()
	if lerr != nil {
		return nil, false, nil, errorf(http.StatusInternalServerError, "InternalServerError", "simulator state lock: %v", lerr)
	}
	if err := s.syncLocked(); err != nil {
		unlock()
		return nil, false, nil, errorf(http.StatusInternalServerError, "InternalServerError", "simulator state: %v", err)
	}
	c = &reqCtx{w: w, r: r, now: s.opts.Now(), base: "https://" + r.Host}
	write = r.Method != http.MethodGet && r.Method != http.MethodHead
	if write {
		if err := s.meterWrite(w, r.Method, segs[1], c.now); err != nil {
			unlock()
			return nil, false, nil, err
		}
	}
	return c, write, unlock, nil
}
