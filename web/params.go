package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// maxBodyBytes bounds request bodies on the API; media uploads have their own limit.
const maxBodyBytes = 1 << 20

// params is a request's parameters, however the client sent them: query string,
// form (urlencoded or multipart) or JSON body, as Mastodon accepts all of them.
// Body values win over query values of the same name.
type params struct {
	form url.Values
	json map[string]any
}

// readParams parses the request's parameters once and caches them on the context.
func readParams(c *gin.Context) (*params, error) {
	if p, ok := c.Get("params"); ok {
		return p.(*params), nil
	}
	p := &params{form: url.Values{}}
	for k, v := range c.Request.URL.Query() {
		p.form[k] = v
	}
	if c.Request.Body != nil && c.Request.Method != http.MethodGet {
		limit := int64(maxBodyBytes)
		if n, ok := c.Get(ctxBodyLimit); ok {
			limit = n.(int64)
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
		switch ct {
		case "application/json":
			body, err := io.ReadAll(c.Request.Body)
			if err != nil {
				return nil, fmt.Errorf("%w: reading body: %w", errBadParams, err)
			}
			if len(strings.TrimSpace(string(body))) > 0 {
				if err := json.Unmarshal(body, &p.json); err != nil {
					return nil, fmt.Errorf("%w: body is not a JSON object: %v", errBadParams, err)
				}
			}
		case "application/x-www-form-urlencoded":
			if c.Request.Method == http.MethodDelete {
				// net/http reads form bodies of POST, PUT and PATCH only; Mastodon clients
				// also send them with DELETE (removing list members).
				body, err := io.ReadAll(c.Request.Body)
				if err != nil {
					return nil, fmt.Errorf("%w: reading body: %v", errBadParams, err)
				}
				values, err := url.ParseQuery(string(body))
				if err != nil {
					return nil, fmt.Errorf("%w: %v", errBadParams, err)
				}
				for k, v := range values {
					p.form[k] = v
				}
				break
			}
			if err := c.Request.ParseForm(); err != nil {
				return nil, fmt.Errorf("%w: %w", errBadParams, err)
			}
			for k, v := range c.Request.PostForm {
				p.form[k] = v
			}
		case "multipart/form-data":
			if err := c.Request.ParseMultipartForm(maxBodyBytes); err != nil {
				return nil, fmt.Errorf("%w: %w", errBadParams, err)
			}
			if !validValues(c.Request.MultipartForm.Value) {
				return nil, errInvalidText
			}
			for k, v := range c.Request.MultipartForm.Value {
				p.form[k] = v
			}
		}
	}
	c.Set("params", p)
	return p, nil
}

// mustParams reads the parameters or ends the request: 400 for a body it cannot read,
// 422 for invalid text.
func (s *Server) mustParams(c *gin.Context) (*params, bool) {
	p, err := readParams(c)
	if isUploadTooLarge(err) {
		// The body's size is HTTP's business, not a parameter's: no domain error says it.
		abort(c, http.StatusRequestEntityTooLarge, "The request is too large")
		return nil, false
	}
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return p, true
}

// pathID reads the id in the path parameter name. A malformed id names nothing, so it is
// the same "Record not found" as a missing or hidden record.
func pathID(c *gin.Context, name string) (int64, error) {
	return parseID(c.Param(name), community.ErrNotFound)
}

// parseID reads an id the client sent; a malformed one is the error bad. The caller
// chooses it because Mastodon answers by place: an id in the path that names nothing is
// a 404, a malformed body parameter a 422 that says which one. Where a malformed id is
// not an error at all (pagination cursors, ids that only narrow a listing), handlers
// read it with community.ParseID and ignore the rest.
func parseID(raw string, bad error) (int64, error) {
	id, ok := community.ParseID(raw)
	if !ok {
		return 0, bad
	}
	return id, nil
}

// Has reports whether the parameter was sent at all (even empty).
func (p *params) Has(key string) bool {
	if _, ok := p.json[key]; ok {
		return true
	}
	_, ok := p.form[key]
	return ok
}

// String returns a parameter as text.
func (p *params) String(key string) (string, bool) {
	if v, ok := p.json[key]; ok {
		switch x := v.(type) {
		case string:
			return x, true
		case nil:
			return "", true
		case bool:
			return strconv.FormatBool(x), true
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		default:
			return fmt.Sprint(x), true
		}
	}
	if vs, ok := p.form[key]; ok && len(vs) > 0 {
		return vs[len(vs)-1], true
	}
	return "", false
}

// Get returns a parameter's text, or "" when absent.
func (p *params) Get(key string) string {
	v, _ := p.String(key)
	return v
}

// Strings returns an array parameter: JSON arrays, or repeated form keys "key[]" / "key".
func (p *params) Strings(key string) []string {
	if v, ok := p.json[key]; ok {
		return jsonStrings(v)
	}
	if v, ok := p.json[key+"[]"]; ok {
		return jsonStrings(v)
	}
	if vs, ok := p.form[key+"[]"]; ok {
		return vs
	}
	if vs, ok := p.form[key]; ok {
		return vs
	}
	// Indexed form arrays: key[0]=a&key[1]=b.
	var keys []string
	for k := range p.form {
		if strings.HasPrefix(k, key+"[") && strings.HasSuffix(k, "]") && !strings.Contains(k[len(key)+1:], "[") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, p.form[k]...)
	}
	return out
}

func jsonStrings(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			} else if e != nil {
				out = append(out, fmt.Sprint(e))
			}
		}
		return out
	case string:
		return []string{x}
	}
	return nil
}

// Bool reads a boolean the way Mastodon (Rails) does: true, 1, on, yes / false, 0, off, no.
// set is false when the parameter is absent.
func (p *params) Bool(key string) (value, set bool, err error) {
	if v, ok := p.json[key]; ok {
		if b, ok := v.(bool); ok {
			return b, true, nil
		}
	}
	s, ok := p.String(key)
	if !ok {
		return false, false, nil
	}
	b, err := parseBool(s)
	if err != nil {
		return false, true, community.Invalid("%s must be true or false", key)
	}
	return b, true, nil
}

// parseBool reads a boolean the way Rails does (see params.Bool).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "on", "yes", "t":
		return true, nil
	case "false", "0", "off", "no", "f", "":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// BoolPtr reads an optional boolean for partial updates.
func (p *params) BoolPtr(key string) (*bool, error) {
	v, set, err := p.Bool(key)
	if err != nil || !set {
		return nil, err
	}
	return &v, nil
}

// StringPtr reads an optional string for partial updates.
func (p *params) StringPtr(key string) *string {
	v, ok := p.String(key)
	if !ok {
		return nil
	}
	return &v
}

// Int reads an integer parameter, returning def when absent.
func (p *params) Int(key string, def int) (int, error) {
	s, ok := p.String(key)
	if !ok || s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, community.Invalid("%s must be an integer", key)
	}
	return n, nil
}

// Objects reads an array of objects such as fields_attributes, sent as a JSON array,
// a JSON object keyed by index, or form keys "key[0][name]" / "key[][name]".
func (p *params) Objects(key string) ([]map[string]string, bool) {
	if v, ok := p.json[key]; ok {
		var out []map[string]string
		add := func(e any) {
			if m, ok := e.(map[string]any); ok {
				obj := map[string]string{}
				for k, v := range m {
					switch x := v.(type) {
					case string:
						obj[k] = x
					case bool:
						obj[k] = strconv.FormatBool(x)
					case float64:
						obj[k] = strconv.FormatFloat(x, 'f', -1, 64)
					}
				}
				out = append(out, obj)
			}
		}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				add(e)
			}
		case map[string]any:
			idx := make([]string, 0, len(x))
			for k := range x {
				idx = append(idx, k)
			}
			sort.Slice(idx, func(i, j int) bool { return atoiOr(idx[i]) < atoiOr(idx[j]) })
			for _, k := range idx {
				add(x[k])
			}
		}
		return out, true
	}
	byIndex := map[string]map[string]string{}
	var order []string
	prefix := key + "["
	for k, vs := range p.form {
		if !strings.HasPrefix(k, prefix) || len(vs) == 0 {
			continue
		}
		rest := k[len(prefix):]
		idx, field, ok := strings.Cut(rest, "][")
		if !ok || !strings.HasSuffix(field, "]") {
			continue
		}
		field = strings.TrimSuffix(field, "]")
		if byIndex[idx] == nil {
			byIndex[idx] = map[string]string{}
			order = append(order, idx)
		}
		byIndex[idx][field] = vs[len(vs)-1]
	}
	if len(order) == 0 {
		return nil, false
	}
	sort.Slice(order, func(i, j int) bool { return atoiOr(order[i]) < atoiOr(order[j]) })
	out := make([]map[string]string, 0, len(order))
	for _, idx := range order {
		out = append(out, byIndex[idx])
	}
	return out, true
}

func atoiOr(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 1 << 30
	}
	return n
}
