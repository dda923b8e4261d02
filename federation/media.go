package federation

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// FetchMedia reads a remote media file (a picture this instance keeps a copy of) with
// an unsigned GET under the same rules as every other outgoing request: allowed hosts
// only, no private, loopback or link-local address unless the host is a company peer,
// redirects checked, a timeout, and at most maxBytes read.
func (f *Federator) FetchMedia(ctx context.Context, rawURL string, maxBytes int64) ([]byte, error) {
	return f.client.GetMedia(ctx, rawURL, maxBytes)
}

// GetMedia fetches a media file. It is not signed: media addresses are capabilities on
// every server Tacit talks to, and a signature would tell the host nothing it needs.
func (c *Client) GetMedia(ctx context.Context, rawURL string, maxBytes int64) ([]byte, error) {
	req, err := c.newRequest(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "image/*")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Method: http.MethodGet, URL: rawURL, Code: resp.StatusCode}
	}
	if resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("GET %s: %d bytes, more than %d", rawURL, resp.ContentLength, maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", rawURL, maxBytes)
	}
	return body, nil
}
