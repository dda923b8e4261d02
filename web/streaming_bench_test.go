package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/store/storetest"
)

// Streaming benchmarks. Clients and server share the process (and this machine's
// cores), so the figures include the clients' own work. Run with:
//
//	go test ./web -run '^$' -bench Streaming -benchtime 20x
//
// and TACIT_TEST_POSTGRES set to include PostgreSQL. docs/performance.md has figures.

const fanOutClients = 1000

// BenchmarkStreamingFanOut measures the time from posting a status (the API call) until
// the last of 1,000 WebSocket clients has received it (ns/op, fastest-ms, slowest-ms),
// and the process's CPU per post (cpu-ms/post): logged-out clients on the public
// stream (one rendering shared by all), and 1,000 followers, each a different account,
// on their user streams (one rendering per follower, with their own relations and
// filters).
func BenchmarkStreamingFanOut(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, stream := range []string{"public", "user"} {
			b.Run(db+"/"+stream, func(b *testing.B) {
				if db == "postgres" {
					storetest.PostgresURL(b) // skips the benchmark when PostgreSQL is not configured
				}
				benchFanOut(b, db == "postgres", stream)
			})
		}
	}
}

func benchFanOut(b *testing.B, postgres bool, stream string) {
	inst := instancetest.Start(b, instancetest.Options{Postgres: postgres})
	ctx := context.Background()
	author := inst.CreateUser(b, "author", instancetest.UserOptions{})

	tokens := make([]string, fanOutClients)
	if stream == "user" {
		// Accounts cost a bcrypt hash each: make them on every core.
		var wg sync.WaitGroup
		work := make(chan int)
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for i := range work {
					u := inst.CreateUser(b, fmt.Sprintf("follower%d", i), instancetest.UserOptions{})
					if err := inst.Community.Follow(ctx, u.Account, author.Account.ID, community.FollowOptions{}); err != nil {
						b.Error(err)
					}
					tokens[i] = u.Token
				}
			})
		}
		for i := range fanOutClients {
			work <- i
		}
		close(work)
		wg.Wait()
	}

	arrivals := make(chan string, fanOutClients)
	base := "ws" + strings.TrimPrefix(inst.URL, "http") + "/api/v1/streaming?stream="
	for i := range fanOutClients {
		u := base + stream
		if tokens[i] != "" {
			u += "&access_token=" + url.QueryEscape(tokens[i])
		}
		conn, _, err := websocket.Dial(ctx, u, nil)
		if err != nil {
			b.Fatalf("client %d: %v", i, err)
		}
		conn.SetReadLimit(1 << 20)
		b.Cleanup(func() { conn.CloseNow() })
		go func() {
			for {
				_, data, err := conn.Read(ctx)
				if err != nil {
					return
				}
				arrivals <- string(data)
			}
		}()
	}
	for inst.Web.StreamingStats().Connections < fanOutClients {
		time.Sleep(10 * time.Millisecond)
	}

	n := 0
	var fastest, slowest time.Duration
	cpu := instancetest.ProcessCPU(b)
	for b.Loop() {
		n++
		start := time.Now()
		st := inst.PostStatus(b, author.Token, url.Values{"status": {fmt.Sprint("fan-out ", n)}, "visibility": {"public"}, "scope": {"world"}})
		want := `\"id\":\"` + st.ID + `\"`
		for got := 0; got < fanOutClients; {
			select {
			case frame := <-arrivals:
				if strings.Contains(frame, want) {
					got++
				}
			case <-time.After(time.Minute):
				b.Fatalf("only %d of %d clients received status %s", got, fanOutClients, st.ID)
			}
		}
		took := time.Since(start)
		if fastest == 0 || took < fastest {
			fastest = took
		}
		slowest = max(slowest, took)
	}
	// ns/op is the mean time until the last client has the post; the fastest and
	// slowest posts show how much of it the shared machine's noise is. cpu-ms/post is
	// all the process's CPU per post: the post itself, the fan-out, and the 1,000
	// clients reading, which share the process.
	b.ReportMetric(float64(fanOutClients), "clients")
	b.ReportMetric(float64(fastest.Microseconds())/1000, "fastest-ms")
	b.ReportMetric(float64(slowest.Microseconds())/1000, "slowest-ms")
	b.ReportMetric(float64((instancetest.ProcessCPU(b)-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/post")
	if s := inst.Web.StreamingStats(); s.DroppedConns > 0 || s.DroppedEvents > 0 {
		b.Errorf("dropped while benchmarking: %+v", s)
	}
}

// BenchmarkStreamingIdleConnection opens b.N idle streaming connections from minimal
// clients (a socket that sent a handshake and reads nothing more) and reports what each
// costs the process: heap and stacks in bytes, and goroutines. ns/op is the time to
// open one.
func BenchmarkStreamingIdleConnection(b *testing.B) {
	for _, proto := range []string{"websocket", "sse"} {
		b.Run(proto, func(b *testing.B) {
			inst := instancetest.Start(b, instancetest.Options{})
			user := inst.CreateUser(b, "idle", instancetest.UserOptions{})
			var request string
			switch proto {
			case "websocket":
				request = "GET /api/v1/streaming?stream=user HTTP/1.1\r\nHost: " + inst.Host() +
					"\r\nAuthorization: Bearer " + user.Token +
					"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13" +
					"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
			case "sse":
				request = "GET /api/v1/streaming/user HTTP/1.1\r\nHost: " + inst.Host() +
					"\r\nAuthorization: Bearer " + user.Token + "\r\n\r\n"
			}
			// Warm up: the first connection allocates what all share (routes, pools).
			openIdle(b, inst, request)
			for inst.Web.StreamingStats().Connections < 1 {
				time.Sleep(time.Millisecond)
			}

			hb, sb := split()
			before := memory()
			goroutines := runtime.NumGoroutine()
			start := inst.Web.StreamingStats().Connections
			for b.Loop() {
				openIdle(b, inst, request)
			}
			b.StopTimer()
			for inst.Web.StreamingStats().Connections < start+b.N {
				time.Sleep(time.Millisecond)
			}
			after := memory()
			ha, sa := split()
			b.ReportMetric(float64(ha-hb)/float64(b.N), "heapB/conn")
			b.ReportMetric(float64(sa-sb)/float64(b.N), "stackB/conn")
			b.ReportMetric(float64(after-before)/float64(b.N), "B/conn")
			b.ReportMetric(float64(runtime.NumGoroutine()-goroutines)/float64(b.N), "goroutines/conn")
		})
	}
}

// openIdle connects, sends request and reads the answer's headers, then leaves the
// connection open and unread until the benchmark ends.
func openIdle(b *testing.B, inst *instancetest.Instance, request string) {
	conn, err := net.Dial("tcp", inst.Host())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte(request)); err != nil {
		b.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 256), nil)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != http.StatusOK {
		b.Fatalf("handshake: %s", resp.Status)
	}
}

// memory is the heap and stack memory in use after a collection.
func memory() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

func split() (int64, int64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse), int64(m.StackInuse)
}
