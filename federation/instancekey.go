package federation

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// InstanceKeyFile is the instance actor's private key inside the keys directory.
const InstanceKeyFile = "instance.pem"

// LoadOrCreateInstanceKey returns the instance actor's RSA key, creating it on first
// start. The instance actor signs requests made on nobody's behalf (fetching a peer's
// keys, directory sync), so the key must survive restarts.
func LoadOrCreateInstanceKey(dir string) (*rsa.PrivateKey, error) {
	path := filepath.Join(dir, InstanceKeyFile)
	data, err := os.ReadFile(path)
	if err == nil {
		return parseKey(path, data)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read instance key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create keys dir: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate instance key: %w", err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(key)})
	// Write to a temporary file and rename, so a crash never leaves half a key behind
	// and two processes starting at once agree on one key.
	tmp, err := os.CreateTemp(dir, ".instance-*.pem")
	if err != nil {
		return nil, fmt.Errorf("write instance key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(pemBytes); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write instance key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write instance key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateInstanceKey(dir)
		}
		return nil, fmt.Errorf("install instance key: %w", err)
	}
	return key, nil
}

func mustPKCS8(key *rsa.PrivateKey) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(fmt.Sprintf("marshal freshly generated RSA key: %v", err))
	}
	return b
}

func parseKey(path string, data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("instance key %s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("instance key %s: %w", path, err)
	}
	rsaKey, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("instance key %s: not an RSA key", path)
	}
	return rsaKey, nil
}
