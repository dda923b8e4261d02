package web

import "time"

// SetStreamRecheck makes streams check their token every d, so that a test sees a
// revoked login's stream end without waiting minutes.
func SetStreamRecheck(s *Server, d time.Duration) { s.recheck.Store(int64(d)) }

// SetStreamHeartbeat makes event streams send their keep-alive comment every d.
func SetStreamHeartbeat(s *Server, d time.Duration) { s.heartbeat.Store(int64(d)) }
