package community

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// AccountKeys returns a local account's RSA key pair (PEM), creating it on first use.
// Keys are made lazily because generating one takes tens of milliseconds and only
// accounts that federate need one. Two callers racing both generate a key, but only
// the first write sticks and both return it.
func (s *Service) AccountKeys(ctx context.Context, accountID int64) (privatePEM, publicPEM string, err error) {
	acct, err := s.accountByID(ctx, accountID)
	if err != nil {
		return "", "", err
	}
	if !acct.IsLocal() {
		return "", "", Invalid("Only local accounts have private keys")
	}
	if acct.PrivateKeyPEM != "" {
		return acct.PrivateKeyPEM, acct.PublicKeyPEM, nil
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", fmt.Errorf("generate account key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("encode account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", fmt.Errorf("encode account public key: %w", err)
	}
	privatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	publicPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	if err := s.db.WithContext(ctx).Model(&Account{}).Where("id = ? AND private_key_pem = ''", accountID).
		Updates(map[string]any{"private_key_pem": privatePEM, "public_key_pem": publicPEM}).Error; err != nil {
		return "", "", fmt.Errorf("store account key: %w", err)
	}
	acct, err = s.accountByID(ctx, accountID)
	if err != nil {
		return "", "", err
	}
	return acct.PrivateKeyPEM, acct.PublicKeyPEM, nil
}
