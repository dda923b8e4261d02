package web

import "time"

// SetStreamRecheck makes streams check their token every d, so that a test sees a
// revoked login's stream end without waiting minutes.
func SetStreamRecheck(s *Server, d time.Duration) { s.recheck.Store(int64(d)) }
