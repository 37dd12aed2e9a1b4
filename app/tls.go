package app

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/acme/autocert"
)

// TLS reports whether the server answers HTTPS itself.
func (c Config) TLS() bool { return c.TLSCert != "" || len(c.TLSDomains) > 0 }

// checkTLS reports the TLS settings that do not go together or cannot be used.
func (c Config) checkTLS() []error {
	var errs []error
	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		errs = append(errs, fmt.Errorf("JARVIS_TLS_CERT is set without JARVIS_TLS_KEY: give the certificate's private key file too"))
	case c.TLSKey != "" && c.TLSCert == "":
		errs = append(errs, fmt.Errorf("JARVIS_TLS_KEY is set without JARVIS_TLS_CERT: give the certificate file too"))
	case c.TLSCert != "":
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			errs = append(errs, fmt.Errorf("JARVIS_TLS_CERT=%q and JARVIS_TLS_KEY=%q: %v", c.TLSCert, c.TLSKey, err))
		}
	}
	if len(c.TLSDomains) > 0 && (c.TLSCert != "" || c.TLSKey != "") {
		errs = append(errs, fmt.Errorf("JARVIS_TLS_DOMAIN is set with JARVIS_TLS_CERT or JARVIS_TLS_KEY: choose certificate files or ACME certificates for the domain, not both"))
	}
	for _, d := range c.TLSDomains {
		if strings.ContainsAny(d, ":/ ") || !strings.Contains(d, ".") || net.ParseIP(d) != nil {
			errs = append(errs, fmt.Errorf("JARVIS_TLS_DOMAIN: %q is not a public host name such as jarvis.example.com", d))
		}
	}
	return errs
}

// defaultPublicURL is where callers reach the server when JARVIS_PUBLIC_URL is unset.
func (c Config) defaultPublicURL() string {
	switch {
	case len(c.TLSDomains) > 0:
		return "https://" + c.TLSDomains[0]
	case c.TLSCert != "":
		return "https://" + c.Addr
	}
	return "http://" + c.Addr
}

// tlsConfig is the server's TLS configuration, nil for plain HTTP. http.Server.ServeTLS adds
// HTTP/2 to its protocols.
func (c Config) tlsConfig() (*tls.Config, error) {
	switch {
	case len(c.TLSDomains) > 0:
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(filepath.Join(c.DataDir, "acme")),
			HostPolicy: autocert.HostWhitelist(c.TLSDomains...),
		}
		return m.TLSConfig(), nil
	case c.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load the TLS certificate: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	}
	return nil, nil
}
