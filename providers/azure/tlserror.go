package azure

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// CertificateError is an endpoint whose TLS certificate cannot be
// verified. It is not retried: azcore's retry policy would otherwise spend
// minutes on transport retries before showing it, and no retry can make
// an unknown CA known.
type CertificateError struct {
	Azure string
	Host  string
	Err   error
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("azure %q: the certificate of %s cannot be verified: %v. For a custom endpoint with a private CA, set ca_file to that CA's PEM file in the azure block; for the public clouds check the machine's trusted roots and any TLS-inspecting proxy",
		e.Azure, e.Host, e.Err)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// NonRetriable marks the error for azcore's retry policy
// (errorinfo.NonRetriable).
func (e *CertificateError) NonRetriable() {}

// certTransport turns certificate verification failures into
// *CertificateError at the transport, below the retry policy.
type certTransport struct {
	next policy.Transporter
	name string
}

func (t certTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.next.Do(req)
	if err != nil && isCertificateError(err) {
		return nil, &CertificateError{Azure: t.name, Host: req.URL.Host, Err: err}
	}
	return resp, err
}

func isCertificateError(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}
