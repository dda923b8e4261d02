package community

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The constant hash compared with on unknown logins must cost what a real one does,
// or an unknown name would answer faster than a wrong password.
func TestDummyHashCost(t *testing.T) {
	cost, err := bcrypt.Cost(dummyHash)
	if err != nil {
		t.Fatalf("dummyHash is not a bcrypt hash: %v", err)
	}
	if cost != bcryptCost {
		t.Fatalf("dummyHash has cost %d, want bcryptCost %d", cost, bcryptCost)
	}
	if err := bcrypt.CompareHashAndPassword(dummyHash, []byte("not a real password")); err != nil {
		t.Fatalf("dummyHash: %v", err)
	}
}
