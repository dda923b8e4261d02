package metrics_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// BenchmarkScrape measures one scrape of an instance with five peers, the delivery
// queue read from the database included.
func BenchmarkScrape(b *testing.B) {
	inst := instancetest.Start(b, instancetest.Options{Configure: func(c *config.Config) {
		c.Metrics.OnListen = true
		c.Federation.Peers = []string{"a.example", "b.example", "c.example", "d.example", "e.example"}
	}})
	var size int64
	for b.Loop() {
		resp, err := http.Get(inst.URL + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
		size = n
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}
