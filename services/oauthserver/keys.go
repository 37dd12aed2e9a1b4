package oauthserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	jose "github.com/go-jose/go-jose/v4"
)

// SigningAlgorithm signs every access token.
const SigningAlgorithm = "ES256"

// KeySet is the signing key and the previous one, which stays in the JWKS after a rotation so
// that tokens it signed are accepted until they expire.
type KeySet struct {
	Current  jose.JSONWebKey
	Previous *jose.JSONWebKey
}

type keyFile struct {
	Keys []jose.JSONWebKey `json:"keys"` // current first
}

// KeysPath is where generated signing keys are kept under the data dir.
func KeysPath(dataDir string) string { return filepath.Join(dataDir, "keys", "oauth-signing.jwks") }

// LoadKeys reads the signing keys: from the PEM files when current is given (previous may be
// ""), else from the data dir, generating a key there on first use.
func LoadKeys(dataDir, currentPEM, previousPEM string) (*KeySet, error) {
	if currentPEM != "" {
		cur, err := readPEMKey(currentPEM)
		if err != nil {
			return nil, fmt.Errorf("JARVIS_OAUTH_SIGNING_KEY: %w", err)
		}
		ks := &KeySet{Current: cur}
		if previousPEM != "" {
			prev, err := readPEMKey(previousPEM)
			if err != nil {
				return nil, fmt.Errorf("JARVIS_OAUTH_PREVIOUS_SIGNING_KEY: %w", err)
			}
			ks.Previous = &prev
		}
		return ks, nil
	}
	path := KeysPath(dataDir)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return RotateKeys(dataDir)
	}
	if err != nil {
		return nil, err
	}
	return parseKeyFile(path, b)
}

func parseKeyFile(path string, b []byte) (*KeySet, error) {
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil || len(f.Keys) == 0 {
		return nil, fmt.Errorf("%s holds no signing keys", path)
	}
	for _, k := range f.Keys {
		if _, ok := k.Key.(*ecdsa.PrivateKey); !ok || k.KeyID == "" {
			return nil, fmt.Errorf("%s: key %q is not a P-256 private key with a kid", path, k.KeyID)
		}
	}
	ks := &KeySet{Current: f.Keys[0]}
	if len(f.Keys) > 1 {
		ks.Previous = &f.Keys[1]
	}
	return ks, nil
}

// RotateKeys makes a new signing key in the data dir and keeps the one it replaces as the
// previous key; the key before that leaves the JWKS.
func RotateKeys(dataDir string) (*KeySet, error) {
	path := KeysPath(dataDir)
	var prev *jose.JSONWebKey
	if b, err := os.ReadFile(path); err == nil {
		old, err := parseKeyFile(path, b)
		if err != nil {
			return nil, err
		}
		prev = &old.Current
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cur := newJWK(priv)
	f := keyFile{Keys: []jose.JSONWebKey{cur}}
	if prev != nil {
		f.Keys = append(f.Keys, *prev)
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return &KeySet{Current: cur, Previous: prev}, nil
}

func newJWK(priv *ecdsa.PrivateKey) jose.JSONWebKey {
	pub, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	sum := sha256.Sum256(pub)
	return jose.JSONWebKey{Key: priv, KeyID: fmt.Sprintf("%x", sum[:8]), Algorithm: SigningAlgorithm, Use: "sig"}
}

func readPEMKey(path string) (jose.JSONWebKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return jose.JSONWebKey{}, fmt.Errorf("%s holds no PEM block", path)
	}
	var key any
	if key, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if key, err = x509.ParseECPrivateKey(block.Bytes); err != nil {
			return jose.JSONWebKey{}, fmt.Errorf("%s: not a PKCS#8 or SEC 1 private key", path)
		}
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return jose.JSONWebKey{}, fmt.Errorf("%s: want a P-256 (ES256) private key", path)
	}
	return newJWK(ec), nil
}

// Public is the JWKS: the public halves of the current and previous keys.
func (ks *KeySet) Public() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{ks.Current.Public()}}
	if ks.Previous != nil {
		set.Keys = append(set.Keys, ks.Previous.Public())
	}
	return set
}

// PublicKey is the public key with the given kid, for verifying.
func (ks *KeySet) PublicKey(kid string) (crypto.PublicKey, bool) {
	for _, k := range []*jose.JSONWebKey{&ks.Current, ks.Previous} {
		if k != nil && k.KeyID == kid {
			return k.Public().Key, true
		}
	}
	return nil, false
}

// secretFrom derives a key for label from the current signing key, so that every replica that
// shares the signing key shares it too.
func (ks *KeySet) secretFrom(label string) []byte {
	priv := ks.Current.Key.(*ecdsa.PrivateKey)
	der, _ := x509.MarshalECPrivateKey(priv)
	h := sha256.New()
	h.Write([]byte("jarvis-oauth:" + label + ":"))
	h.Write(der)
	return h.Sum(nil)
}
