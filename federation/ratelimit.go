package federation

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// PeerGate is how the HTTP server's rate limiter learns the outcome of a signature
// check: host is the verified signer's host, or "" when the request is not verified
// (or comes from a server that is not admitted). It counts the request and reports
// whether it is within its limit. The server leaves one in the request's context
// under PeerGateKey for signed requests, which it does not count before the check.
type PeerGate func(c *gin.Context, host string) bool

// PeerGateKey is the gin context key of the request's PeerGate.
const PeerGateKey = "tacit.peer_gate"

// admit reports a signature check's outcome to the request's PeerGate, if any. When
// the limit is exceeded it answers 429 and returns false: the handler must stop.
func admit(c *gin.Context, host string) bool {
	v, ok := c.Get(PeerGateKey)
	if !ok {
		return true
	}
	gate, ok := v.(PeerGate)
	if !ok || gate(c, host) {
		return true
	}
	c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "Too many requests"})
	return false
}
