package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "jarvis test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile = writeFile(t, dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeTLSFromFilesNegotiatesHTTP2(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	cfg, err := LoadConfig(lookupFrom(map[string]string{"JARVIS_TLS_CERT": certFile, "JARVIS_TLS_KEY": keyFile}))
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.1:4000", cfg.PublicURL, "the default public URL is https")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveUntil(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.Proto)
		}), cfg, func() {})
	}()

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, err := client.Get("https://" + ln.Addr().String() + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, 2, resp.ProtoMajor)
	assert.Equal(t, "h2", resp.TLS.NegotiatedProtocol)
	assert.Equal(t, "HTTP/2.0", string(body), "the server saw HTTP/2")

	// A plain HTTP/1.1 client is still served.
	h1 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
	resp, err = h1.Get("https://" + ln.Addr().String() + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 1, resp.ProtoMajor)

	cancel()
	require.NoError(t, <-done)
}

func TestTLSSettingsAreReportedWithTheOthers(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir)
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"cert without key", map[string]string{"JARVIS_TLS_CERT": certFile},
			[]string{"JARVIS_TLS_CERT is set without JARVIS_TLS_KEY"}},
		{"key without cert", map[string]string{"JARVIS_TLS_KEY": keyFile},
			[]string{"JARVIS_TLS_KEY is set without JARVIS_TLS_CERT"}},
		{"both modes", map[string]string{"JARVIS_TLS_CERT": certFile, "JARVIS_TLS_KEY": keyFile, "JARVIS_TLS_DOMAIN": "jarvis.example.com"},
			[]string{"JARVIS_TLS_DOMAIN is set with JARVIS_TLS_CERT"}},
		{"unreadable pair", map[string]string{"JARVIS_TLS_CERT": keyFile, "JARVIS_TLS_KEY": filepath.Join(dir, "none.pem")},
			[]string{`JARVIS_TLS_CERT="` + keyFile + `" and JARVIS_TLS_KEY=`}},
		{"not a host name", map[string]string{"JARVIS_TLS_DOMAIN": "https://jarvis.example.com,127.0.0.1"},
			[]string{`"https://jarvis.example.com" is not a public host name`, `"127.0.0.1" is not a public host name`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.env["JARVIS_LOG_LEVEL"] = "loud"
			_, err := LoadConfig(lookupFrom(c.env))
			require.Error(t, err)
			for _, w := range append(c.want, `JARVIS_LOG_LEVEL="loud"`) {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestACMEDomainServesHTTPSWithHTTP2(t *testing.T) {
	dir := t.TempDir()
	cfg, err := LoadConfig(lookupFrom(map[string]string{"JARVIS_TLS_DOMAIN": "jarvis.example.com, api.example.com", "JARVIS_DATA_DIR": dir}))
	require.NoError(t, err)
	assert.Equal(t, "https://jarvis.example.com", cfg.PublicURL)
	assert.True(t, cfg.TLS())
	tc, err := cfg.tlsConfig()
	require.NoError(t, err)
	assert.Contains(t, tc.NextProtos, "h2")
	assert.Contains(t, tc.NextProtos, "acme-tls/1", "TLS-ALPN-01 challenges are answered on the listener")
	// A name outside the list gets no certificate, and nothing is asked of the ACME server.
	_, err = tc.GetCertificate(&tls.ClientHelloInfo{ServerName: "other.example.com"})
	assert.Error(t, err)
}
