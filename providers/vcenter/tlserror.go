package vcenter

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// CertificateError is a vCenter whose certificate cannot be verified: an
// unknown issuer, a name that does not match, an expired certificate or a
// pinned thumbprint that differs. Retrying cannot help; the person running
// cutover must say what to trust.
type CertificateError struct {
	VCenter string
	Host    string
	Err     error
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("vcenter %q at %s: the server's certificate cannot be verified: %v. Pin it with thumbprint = \"<SHA-256>\" in the vcenter block (govc about.cert -thumbprint -k shows it; compare it with the one the vCenter console shows), or trust its CA; insecure = true turns checks off and is for labs only",
		e.VCenter, e.Host, e.Err)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// asCertificateError returns a *CertificateError when err comes from TLS
// certificate verification, nil otherwise.
func asCertificateError(vcenter, host string, err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	if errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify) || isThumbprintMismatch(err) {
		return &CertificateError{VCenter: vcenter, Host: host, Err: err}
	}
	return nil
}

// isThumbprintMismatch recognises govmomi's refusal of a pinned
// certificate that differs; govmomi reports it as a plain error whose
// text is its only mark (soap.Client.dialTLSContext).
func isThumbprintMismatch(err error) bool {
	return err != nil && strings.Contains(err.Error(), "thumbprint does not match")
}
