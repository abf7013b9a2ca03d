package azure

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// Kind classifies a failure so that callers (the executor) know whether to
// retry, wait for a gate or stop.
type Kind int

// Kinds of failure.
const (
	KindOther Kind = iota
	KindInvalidParameter
	KindNotFound
	KindReplicationNotHealthy
	KindRecoveryPointNotFound
	// KindNotAllowed: the item's state does not allow the operation (a
	// closed gate, refused locally or by the service).
	KindNotAllowed
	KindConflict
	KindThrottled
	KindTransient
	KindAuth
)

var kindNames = map[Kind]string{
	KindOther: "other", KindInvalidParameter: "invalid parameter", KindNotFound: "not found",
	KindReplicationNotHealthy: "replication not healthy", KindRecoveryPointNotFound: "recovery point not found",
	KindNotAllowed: "operation not allowed", KindConflict: "conflict", KindThrottled: "throttled",
	KindTransient: "transient", KindAuth: "authentication",
}

// String names the kind.
func (k Kind) String() string { return kindNames[k] }

// Error is a classified failure of one operation on one VM. Its message
// carries the service's own code and message, never request headers.
type Error struct {
	VM        string
	Operation string
	Kind      Kind
	// Status is the HTTP status (0 when refused locally).
	Status  int
	Code    string
	Message string
	// State and Allowed describe the item when the operation was refused.
	State   string
	Allowed []string
	Err     error
}

var _ error = (*Error)(nil)

// Error renders "azure: <operation> of VM <vm>: <service message> (<code>, HTTP <status>)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("azure: ")
	b.WriteString(e.Operation)
	if e.VM != "" {
		b.WriteString(" of VM ")
		b.WriteString(e.VM)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	switch {
	case e.Code != "" && e.Status >= 400:
		fmt.Fprintf(&b, " (%s, HTTP %d)", e.Code, e.Status)
	case e.Code != "":
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	return b.String()
}

// Unwrap exposes the underlying *azcore.ResponseError (or transport error).
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again later may succeed.
func (e *Error) Retryable() bool { return e.Kind == KindThrottled || e.Kind == KindTransient }

// KindOf returns the Kind of a classified error (KindOther otherwise).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// classify wraps err for (vm, operation). Errors already classified pass
// through unchanged.
func classify(vm, operation string, err error) error {
	if err == nil {
		return nil
	}
	var done *Error
	if errors.As(err, &done) {
		return err
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return &Error{VM: vm, Operation: operation, Kind: KindOther, Message: err.Error(), Err: err}
	}
	code, msg := serviceError(re)
	e := &Error{VM: vm, Operation: operation, Status: re.StatusCode, Code: code, Message: msg, Err: err}
	switch {
	case strings.EqualFold(code, "InvalidParameter") || strings.EqualFold(code, "InvalidRequestContent"):
		e.Kind = KindInvalidParameter
	case strings.EqualFold(code, "ReplicationNotHealthy"):
		e.Kind = KindReplicationNotHealthy
	case strings.EqualFold(code, "RecoveryPointNotFound"):
		e.Kind = KindRecoveryPointNotFound
	case strings.EqualFold(code, "OperationNotAllowed"):
		e.Kind = KindNotAllowed
	case strings.EqualFold(code, "ResourceNotFound") || re.StatusCode == http.StatusNotFound:
		e.Kind = KindNotFound
	case re.StatusCode == http.StatusTooManyRequests:
		e.Kind = KindThrottled
	case re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden:
		e.Kind = KindAuth
	case re.StatusCode == http.StatusConflict:
		e.Kind = KindConflict
	case re.StatusCode >= 500 || re.StatusCode == http.StatusRequestTimeout:
		e.Kind = KindTransient
	case re.StatusCode == http.StatusBadRequest:
		e.Kind = KindInvalidParameter
	}
	return e
}

// serviceError extracts ARM's {"error":{"code","message"}} (or an LRO
// status body's error) from the response.
func serviceError(re *azcore.ResponseError) (code, message string) {
	code = re.ErrorCode
	if re.RawResponse != nil {
		if body, err := runtime.Payload(re.RawResponse); err == nil && len(body) > 0 {
			var v struct {
				Error *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if json.Unmarshal(body, &v) == nil && v.Error != nil {
				if code == "" {
					code = v.Error.Code
				}
				message = v.Error.Message
			}
		}
	}
	if message == "" {
		message = http.StatusText(re.StatusCode)
		if message == "" {
			message = "the operation failed"
		}
	}
	return code, message
}

// refused builds the error for an operation the item's gate does not allow.
func refused(item *ProtectedItem, operation, gate string) *Error {
	allowed := "none"
	if len(item.AllowedOperations) > 0 {
		allowed = strings.Join(item.AllowedOperations, ", ")
	}
	state := item.ProtectionState
	if item.TestFailoverState != "" && item.TestFailoverState != "None" {
		state += ", test failover " + item.TestFailoverState
	}
	return &Error{
		VM: item.VM, Operation: operation, Kind: KindNotAllowed, Code: "OperationNotAllowed",
		State: item.ProtectionState, Allowed: slicesClone(item.AllowedOperations),
		Message: fmt.Sprintf("refused before sending: %s is not allowed in protection state %s (allowed operations: %s)", gate, state, allowed),
	}
}

func slicesClone(in []string) []string { return append([]string(nil), in...) }
