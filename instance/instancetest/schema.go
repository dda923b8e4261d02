package instancetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/web/mastoschema"
)

// Every response a test client receives is checked against the Mastodon OpenAPI schema,
// so each test that talks to the API also proves the shapes it sees.

// route maps a request to the schema entity its JSON answer must match.
type route struct {
	method  *regexp.Regexp
	pattern *regexp.Regexp
	entity  string
	list    bool
}

func r(method, pattern, entity string, list bool) route {
	return route{regexp.MustCompile("^(" + method + ")$"), regexp.MustCompile("^" + pattern + "$"), entity, list}
}

const id = `[0-9]+`

var routes = []route{
	r("POST", "/api/v1/apps", "CredentialApplication", false),
	r("GET", "/api/v1/apps/verify_credentials", "Application", false),
	r("POST", "/oauth/token", "Token", false),
	r("GET", "/api/v1/accounts/verify_credentials", "CredentialAccount", false),
	r("PATCH", "/api/v1/accounts/update_credentials", "CredentialAccount", false),
	r("GET", "/api/v1/accounts/relationships", "Relationship", true),
	r("POST", "/api/v1/accounts/"+id+"/(follow|unfollow|block|unblock|mute|unmute|pin|unpin)", "Relationship", false),
	r("GET", "/api/v1/endorsements", "Account", true),
	r("GET", "/api/v2/suggestions", "Suggestion", true),
	r("GET", "/api/v1/trends(/tags)?", "Tag", true),
	r("GET", "/api/v1/trends/statuses", "Status", true),
	r("GET", "/api/v1/trends/links", "TrendsLink", true),
	r("GET", "/api/v1/suggestions", "Account", true),
	r("GET", "/api/v1/accounts/"+id+"/endorsements", "Account", true),
	r("POST", "/api/v1/follow_requests/"+id+"/(authorize|reject)", "Relationship", false),
	r("GET", "/api/v1/accounts/lookup", "Account", false),
	r("GET", "/api/v1/accounts/search", "Account", true),
	r("GET", "/api/v2/search", "Search", false),
	r("GET", "/api/v1/directory", "Account", true),
	r("GET", "/api/v1/accounts/"+id, "Account", false),
	r("GET", "/api/v1/accounts/"+id+"/statuses", "Status", true),
	r("GET", "/api/v1/accounts/"+id+"/(followers|following)", "Account", true),
	r("GET", "/api/v1/(blocks|mutes|follow_requests)", "Account", true),
	r("GET", "/api/v1/accounts/"+id+"/featured_tags", "FeaturedTag", true),
	r("GET", "/api/v1/featured_tags", "FeaturedTag", true),
	r("POST", "/api/v1/featured_tags", "FeaturedTag", false),
	r("GET", "/api/v1/statuses/"+id+"/(favourited_by|reblogged_by)", "Account", true),
	r("GET", "/api/v1/statuses/"+id+"/context", "Context", false),
	r("GET", "/api/v1/statuses/"+id+"/history", "StatusEdit", true),
	r("GET", "/api/v1/statuses/"+id+"/source", "StatusSource", false),
	r("POST", "/api/v1/statuses", "Status", false),
	r("GET", "/api/v1/statuses/"+id, "Status", false),
	r("PUT", "/api/v1/statuses/"+id, "Status", false),
	r("DELETE", "/api/v1/statuses/"+id, "Status", false),
	r("POST", "/api/v1/statuses/"+id+"/(favourite|unfavourite|reblog|unreblog|bookmark|unbookmark|pin|unpin)", "Status", false),
	r("GET", "/api/v1/timelines/(home|public|tag/[^/]+)", "Status", true),
	r("GET", "/api/v1/(bookmarks|favourites)", "Status", true),
	r("GET", "/api/v1/notifications", "Notification", true),
	r("GET", "/api/v1/notifications/"+id, "Notification", false),
	r("GET", "/api/v1/instance", "V1Instance", false),
	r("GET", "/api/v2/instance", "Instance", false),
	r("GET", "/api/v1/preferences", "Preferences", false),
	r("GET", "/api/v1/custom_emojis", "CustomEmoji", true),
	r("GET", "/api/v1/announcements", "Announcement", true),
	r("POST", "/api/v(1|2)/media", "MediaAttachment", false),
	r("GET", "/api/v1/media/"+id, "MediaAttachment", false),
	r("PUT", "/api/v1/media/"+id, "MediaAttachment", false),
	r("GET", "/api/v1/polls/"+id, "Poll", false),
	r("POST", "/api/v1/polls/"+id+"/votes", "Poll", false),
	r("GET", "/api/v1/lists", "List", true),
	r("POST", "/api/v1/lists", "List", false),
	r("(GET|PUT)", "/api/v1/lists/"+id, "List", false),
	r("GET", "/api/v1/lists/"+id+"/accounts", "Account", true),
	r("GET", "/api/v1/accounts/"+id+"/lists", "List", true),
	r("GET", "/api/v1/timelines/list/"+id, "Status", true),
	r("GET", "/api/v2/filters", "Filter", true),
	r("POST", "/api/v2/filters", "Filter", false),
	r("(GET|PUT)", "/api/v2/filters/keywords/"+id, "FilterKeyword", false),
	r("GET", "/api/v2/filters/statuses/"+id, "FilterStatus", false),
	r("(GET|PUT)", "/api/v2/filters/"+id, "Filter", false),
	r("GET", "/api/v2/filters/"+id+"/keywords", "FilterKeyword", true),
	r("POST", "/api/v2/filters/"+id+"/keywords", "FilterKeyword", false),
	r("GET", "/api/v2/filters/"+id+"/statuses", "FilterStatus", true),
	r("POST", "/api/v2/filters/"+id+"/statuses", "FilterStatus", false),
	r("GET", "/api/v1/filters", "V1Filter", true),
	r("POST", "/api/v1/filters", "V1Filter", false),
	r("(GET|PUT)", "/api/v1/filters/"+id, "V1Filter", false),
	r("GET", "/api/v1/conversations", "Conversation", true),
	r("POST", "/api/v1/conversations/"+id+"/read", "Conversation", false),
	r("POST", "/api/v1/reports", "Report", false),
	r("GET", "/api/v[12]/admin/accounts", "AdminAccount", true),
	r("GET", "/api/v1/admin/accounts/"+id, "AdminAccount", false),
	r("POST", "/api/v1/admin/accounts/"+id+"/(unsilence|unsuspend|enable)", "AdminAccount", false),
	r("GET", "/api/v1/admin/reports", "AdminReport", true),
	r("GET", "/api/v1/admin/reports/"+id, "AdminReport", false),
	r("POST", "/api/v1/admin/reports/"+id+"/(assign_to_self|unassign|resolve|reopen)", "AdminReport", false),
	r("GET", "/api/v1/admin/domain_blocks", "AdminDomainBlock", true),
	r("GET", "/api/v1/admin/domain_blocks/"+id, "AdminDomainBlock", false),
	r("POST", "/api/v1/admin/domain_blocks", "AdminDomainBlock", false),
	r("PUT", "/api/v1/admin/domain_blocks/"+id, "AdminDomainBlock", false),
	r("GET", "/api/v1/admin/domain_allows", "AdminDomainAllow", true),
	r("GET", "/api/v1/admin/domain_allows/"+id, "AdminDomainAllow", false),
	r("POST", "/api/v1/admin/domain_allows", "AdminDomainAllow", false),
	r("GET", "/api/v1/tags/[^/]+", "Tag", false),
	r("POST", "/api/v1/tags/[^/]+/(follow|unfollow)", "Tag", false),
	r("GET", "/api/v1/followed_tags", "Tag", true),
	r("GET", "/api/v1/scheduled_statuses", "ScheduledStatus", true),
	r("(GET|PUT)", "/api/v1/scheduled_statuses/"+id, "ScheduledStatus", false),
}

// entityFor returns the entity a response must match, or "" when the schema has none
// for this request.
func entityFor(method, path string) (entity string, list bool) {
	for _, rt := range routes {
		if rt.method.MatchString(method) && rt.pattern.MatchString(path) {
			return rt.entity, rt.list
		}
	}
	return "", false
}

// schemaChecker is an http.RoundTripper that validates JSON answers and reports
// mismatches as test failures.
type schemaChecker struct {
	t    testing.TB
	next http.RoundTripper
}

func (sc schemaChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := sc.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if resp.StatusCode >= 400 {
		if verr := mastoschema.Validate("Error", body); verr != nil {
			sc.t.Errorf("%s %s answered %d with a body that is not Mastodon's error shape: %v\n%s",
				req.Method, req.URL.Path, resp.StatusCode, verr, body)
		}
		return resp, nil
	}
	entity, list := entityFor(req.Method, req.URL.Path)
	if entity == "Status" && req.Method == http.MethodPost && req.URL.Path == "/api/v1/statuses" && isScheduled(body) {
		entity = "ScheduledStatus" // a post with scheduled_at answers the schedule
	}
	if entity == "" {
		return resp, nil
	}
	var verr error
	if list {
		verr = mastoschema.ValidateList(entity, body)
	} else {
		verr = mastoschema.Validate(entity, body)
	}
	if verr != nil {
		sc.t.Errorf("%s %s: answer does not match the Mastodon schema: %v", req.Method, req.URL.Path, verr)
	}
	return resp, nil
}

// isScheduled reports whether an answer to POST /api/v1/statuses is a ScheduledStatus
// (it has params and no content) rather than a Status.
func isScheduled(body []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	_, params := top["params"]
	_, content := top["content"]
	return params && !content
}
