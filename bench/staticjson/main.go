// Command staticjson serves one JSON file from memory on every path: the ceiling that
// bench/compare.sh measures Tacit against. Whatever a server does to answer a request,
// it cannot beat handing out the same bytes without looking at anything, through the
// same HTTP stack, on the same machine, in the same run.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
)

func main() {
	file := flag.String("file", "", "the JSON document to serve")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback only)")
	flag.Parse()
	if err := run(*file, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "staticjson:", err)
		os.Exit(1)
	}
}

func run(file, listen string) error {
	if file == "" {
		return errors.New("-file is required")
	}
	body, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	length := strconv.Itoa(len(body))
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Content-Length", length)
		_, _ = w.Write(body)
	})
	log.Printf("serving %d bytes of %s on %s", len(body), file, listen)
	return http.ListenAndServe(listen, handler)
}
