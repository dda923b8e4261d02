package signature

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// KeyBits is the size of the RSA keys GenerateKey makes, the size Mastodon uses, so
// no peer meets an unusual key from Tacit.
const KeyBits = 2048

// Bounds on the RSA keys a Verifier accepts. Smaller keys are forgeable in practice;
// larger ones make each verification expensive for no security a peer needs, and a
// key is chosen by whoever publishes it.
const (
	minKeyBits = 2048
	maxKeyBits = 8192
)

// GenerateKey makes a new KeyBits-bit RSA key for an actor.
func GenerateKey() (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	return key, nil
}

// PublicKeyPEM encodes pub as a PKIX "PUBLIC KEY" PEM block, the form actors publish
// in publicKey.publicKeyPem.
func PublicKeyPEM(pub *rsa.PublicKey) (string, error) {
	if pub == nil {
		return "", errors.New("encode public key: nil key")
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// ParsePublicKeyPEM decodes the first PEM block of s as an RSA public key. It accepts
// PKIX ("PUBLIC KEY", what Mastodon publishes) and PKCS #1 ("RSA PUBLIC KEY", what
// some older servers publish). A block whose label does not match its contents is
// still read, because such keys exist in the wild and the contents are unambiguous.
func ParsePublicKeyPEM(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if block == nil {
		return nil, errors.New("parse public key: no PEM block")
	}
	pkix := func() (*rsa.PublicKey, error) {
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		rsaKey, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: %T is not an RSA key", ErrUnsupportedAlgorithm, k)
		}
		return rsaKey, nil
	}
	var first, second func() (*rsa.PublicKey, error)
	switch block.Type {
	case "PUBLIC KEY":
		first, second = pkix, func() (*rsa.PublicKey, error) { return x509.ParsePKCS1PublicKey(block.Bytes) }
	case "RSA PUBLIC KEY":
		first, second = func() (*rsa.PublicKey, error) { return x509.ParsePKCS1PublicKey(block.Bytes) }, pkix
	default:
		return nil, fmt.Errorf("parse public key: unexpected PEM block %q", block.Type)
	}
	key, err := first()
	if err == nil {
		return key, nil
	}
	if errors.Is(err, ErrUnsupportedAlgorithm) {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	if key, err2 := second(); err2 == nil {
		return key, nil
	}
	return nil, fmt.Errorf("parse public key: %w", err)
}

// parsePublicKey decodes the first PEM block of s as a key Verify can use: RSA, as
// ParsePublicKeyPEM reads it, or Ed25519 in a PKIX "PUBLIC KEY" block (RFC 9421's
// ed25519 algorithm).
func parsePublicKey(s string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if block != nil && block.Type == "PUBLIC KEY" {
		if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
			if ed, ok := k.(ed25519.PublicKey); ok {
				return ed, nil
			}
		}
	}
	return ParsePublicKeyPEM(s)
}

// PrivateKeyPEM encodes key as a PKCS #8 "PRIVATE KEY" PEM block.
func PrivateKeyPEM(key *rsa.PrivateKey) (string, error) {
	if key == nil {
		return "", errors.New("encode private key: nil key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("encode private key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// ParsePrivateKeyPEM decodes an RSA private key from a PKCS #8 "PRIVATE KEY" PEM
// block, or from a PKCS #1 "RSA PRIVATE KEY" block as older tools write them.
func ParsePrivateKeyPEM(s string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if block == nil {
		return nil, errors.New("parse private key: no PEM block")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse private key: %w", err)
		}
		rsaKey, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("parse private key: %T is not an RSA key", k)
		}
		return rsaKey, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse private key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("parse private key: unexpected PEM block %q", block.Type)
	}
}

// KeyHost returns the server a key (or any actor or object) URL belongs to: its host
// and port, lowercased, with the scheme's default port removed, so that
// "https://Example.com:443/users/a#main-key" and "https://example.com/notes/1" compare
// equal. Only absolute http and https URLs without user information are accepted.
func KeyHost(keyID string) (string, error) {
	u, err := url.Parse(keyID)
	if err != nil {
		return "", fmt.Errorf("key host of %q: %w", keyID, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", fmt.Errorf("key host of %q: not an http(s) URL", keyID)
	}
	if u.User != nil {
		return "", fmt.Errorf("key host of %q: URL carries user information", keyID)
	}
	if u.Opaque != "" {
		return "", fmt.Errorf("key host of %q: not a hierarchical URL", keyID)
	}
	name, port := strings.ToLower(u.Hostname()), u.Port()
	if name == "" {
		return "", fmt.Errorf("key host of %q: no host", keyID)
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port == "" {
		if strings.Contains(name, ":") {
			return "[" + name + "]", nil
		}
		return name, nil
	}
	return net.JoinHostPort(name, port), nil
}
