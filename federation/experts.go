package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/markup"
	"github.com/tacit-social/tacit/search"
)

// Company-wide search between Tacit instances.
//
// An instance answers "who knows X?" and people searches from its peers at
// /ap/search/experts and /ap/search/accounts: signed GETs from peers only (in open
// federation mode too), answered with this instance's own people. The asking user's
// identity travels in the signature: the asking instance signs with that user's key, so
// this instance applies the audience rules to that user (their follows here decide
// followers-only evidence), and a department-scope post is never part of an answer.
// People come as ActivityPub actor documents (their profile, expertise and featured
// hashtags), so that the asking instance can store those it does not know yet; the
// evidence posts carry their ids and addresses.
//
// The Federator implements search.Peers to ask the peers the same way.

// Paths of the search endpoints.
const (
	expertsPath        = "/ap/search/experts"
	accountsSearchPath = "/ap/search/accounts"
)

// Bounds on what a peer's answer may hold; more is cut.
const (
	maxAnswerContentBytes = 16 << 10
	maxAnswerScore        = 1000
	maxAnswerCount        = 1 << 20
)

// wireAnswer is the JSON of an answer to a search.
type wireAnswer struct {
	Experts  []wireExpert      `json:"experts,omitempty"`
	Accounts []json.RawMessage `json:"accounts,omitempty"`
}

type wireExpert struct {
	Actor    json.RawMessage `json:"actor"`
	Score    float64         `json:"score"`
	Evidence wireEvidence    `json:"evidence"`
}

type wireEvidence struct {
	Expertise       []string     `json:"expertise"`
	FeaturedTags    []string     `json:"featuredTags"`
	Fields          []wireField  `json:"fields"`
	Statuses        []wireStatus `json:"statuses"`
	StatusesCount   int          `json:"statusesCount"`
	HashtagCount    int          `json:"hashtagCount"`
	FavouritesCount int64        `json:"favouritesCount"`
}

type wireField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type wireStatus struct {
	ID         string    `json:"id"`
	URL        string    `json:"url,omitempty"`
	Content    string    `json:"content"`
	Summary    string    `json:"summary,omitempty"`
	Published  time.Time `json:"published"`
	Visibility string    `json:"visibility"`
	Scope      string    `json:"scope"`
	Reply      bool      `json:"reply,omitempty"`
	Favourites int64     `json:"favourites"`
	Replies    int64     `json:"replies"`
	Tags       []string  `json:"tags,omitempty"`
}

// SetSearcher gives the Federator the local search it answers peers with. Without it
// the search endpoints answer 503.
func (f *Federator) SetSearcher(s *search.Searcher) { f.search = s }

// searchRoutes mounts the peer search endpoints.
func (f *Federator) searchRoutes(e *gin.Engine) {
	e.GET(expertsPath, f.answerExperts)
	e.GET(accountsSearchPath, f.answerAccounts)
	e.GET(directoryPath, f.directory)
}

// authorizePeer admits signed requests from the company's peers only, whatever the
// federation mode: company search and directories are for the company.
func (f *Federator) authorizePeer(c *gin.Context) (requester, bool) {
	hasSig := c.GetHeader("Signature") != "" || c.GetHeader("Signature-Input") != "" ||
		strings.HasPrefix(c.GetHeader("Authorization"), "Signature ")
	if !hasSig {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "Unauthorized"})
		return requester{}, false
	}
	r, ok := f.authorize(c)
	if !ok {
		return r, false
	}
	if r.host == "" || !f.cfg.IsPeer(r.host) || r.host == strings.ToLower(f.cfg.Host) {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "Unauthorized"})
		return r, false
	}
	if f.search == nil {
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "Search is not available"})
		return r, false
	}
	return r, true
}

// searchParams reads q and limit.
func searchParams(c *gin.Context) (string, int, bool) {
	q := strings.TrimSpace(c.Query("q"))
	if q == "" || utf8.RuneCountInString(q) > 500 {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "q must be 1 to 500 characters"})
		return "", 0, false
	}
	limit := 20
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "limit must be a positive integer"})
			return "", 0, false
		}
		limit = min(n, search.MaxExperts)
	}
	return q, limit, true
}

// answerExperts answers a peer's "who knows X?" with this instance's own people and the
// evidence the asking user may see.
func (f *Federator) answerExperts(c *gin.Context) {
	r, ok := f.authorizePeer(c)
	if !ok {
		return
	}
	q, limit, ok := searchParams(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	experts, err := f.search.LocalExperts(ctx, r.viewer, q, limit, true)
	if err != nil {
		f.log.ErrorContext(ctx, "answer experts search", "peer", r.host, "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "Internal server error"})
		return
	}
	out := wireAnswer{Experts: []wireExpert{}}
	accounts := make([]*community.Account, 0, len(experts))
	for _, e := range experts {
		accounts = append(accounts, e.Account)
	}
	profiles, err := f.profilesJSON(ctx, accounts)
	if err != nil {
		f.log.ErrorContext(ctx, "render profiles", "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "Internal server error"})
		return
	}
	for i, e := range experts {
		if profiles[i] == nil || !e.Account.IsLocal() {
			continue
		}
		out.Experts = append(out.Experts, wireExpert{Actor: profiles[i], Score: e.Score, Evidence: wireEvidenceOf(e.Evidence)})
	}
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, out)
}

func wireEvidenceOf(ev search.Evidence) wireEvidence {
	w := wireEvidence{
		Expertise: ev.Expertise, FeaturedTags: ev.FeaturedTags, Fields: []wireField{}, Statuses: []wireStatus{},
		StatusesCount: ev.StatusesCount, HashtagCount: ev.HashtagCount, FavouritesCount: ev.FavouritesCount,
	}
	for _, fl := range ev.Fields {
		w.Fields = append(w.Fields, wireField{Name: fl.Name, Value: fl.Value})
	}
	for _, st := range ev.Statuses {
		// Department posts never leave their instance; LocalExperts already checked the
		// asking user's audience, this is the last gate.
		if st.Scope == community.ScopeDepartment || st.Visibility == community.VisibilityDirect {
			continue
		}
		w.Statuses = append(w.Statuses, wireStatus{
			ID: st.URI, URL: st.URL, Content: st.Content, Summary: st.SpoilerText, Published: st.CreatedAt.UTC(),
			Visibility: string(st.Visibility), Scope: string(st.Scope), Reply: st.Reply,
			Favourites: st.FavouritesCount, Replies: st.RepliesCount, Tags: st.Tags,
		})
	}
	return w
}

// answerAccounts answers a peer's people search with this instance's own people.
func (f *Federator) answerAccounts(c *gin.Context) {
	r, ok := f.authorizePeer(c)
	if !ok {
		return
	}
	q, limit, ok := searchParams(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	accounts, err := f.search.PeerAccounts(ctx, r.viewer, q, limit)
	if err != nil {
		f.log.ErrorContext(ctx, "answer accounts search", "peer", r.host, "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "Internal server error"})
		return
	}
	profiles, err := f.profilesJSON(ctx, accounts)
	if err != nil {
		f.log.ErrorContext(ctx, "render profiles", "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "Internal server error"})
		return
	}
	out := wireAnswer{Accounts: []json.RawMessage{}}
	for _, p := range profiles {
		if p != nil {
			out.Accounts = append(out.Accounts, p)
		}
	}
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, out)
}

// profilesJSON renders local accounts as profiles for peers: their actor documents
// with their featured hashtags, and their keys when they have one (keys are made when
// an account first federates; listing people must not make thousands of them). An
// account that cannot be rendered is logged and left nil.
func (f *Federator) profilesJSON(ctx context.Context, accounts []*community.Account) ([]json.RawMessage, error) {
	ids := make([]int64, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	featured, err := f.c.FeaturedTagNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(accounts))
	for i, acct := range accounts {
		if !acct.IsLocal() {
			continue
		}
		b, err := activitystreams.ActorJSON(activitystreams.Actor{
			Account: acct, KeyOptional: true,
			Following: acct.URI + "/following", Outbox: acct.URI + "/outbox", Featured: acct.URI + "/collections/featured",
			FeaturedTags: featured[acct.ID], TagURL: f.c.TagURL,
		})
		if err != nil {
			f.log.ErrorContext(ctx, "render profile", "account_id", acct.ID, "err", err)
			continue
		}
		out[i] = b
	}
	return out, nil
}

// PeerHosts lists the company's other instances (search.Peers).
func (f *Federator) PeerHosts() []string {
	out := make([]string, 0, len(f.cfg.Federation.Peers))
	for _, p := range f.cfg.Federation.Peers {
		if !strings.EqualFold(p, f.cfg.Host) {
			out = append(out, strings.ToLower(p))
		}
	}
	return out
}

// askPeer sends a signed search to a peer, as viewer when there is one.
func (f *Federator) askPeer(ctx context.Context, host, path string, viewer *community.Account, text string, limit int) ([]byte, error) {
	if !f.cfg.IsPeer(host) || strings.EqualFold(host, f.cfg.Host) {
		return nil, fmt.Errorf("search %s: %w", host, ErrNotAllowed)
	}
	signer := f.instanceSigner()
	if viewer != nil && viewer.IsLocal() {
		var err error
		if signer, err = f.accountSigner(ctx, viewer.ID); err != nil {
			return nil, err
		}
	}
	q := url.Values{"q": {text}, "limit": {strconv.Itoa(limit)}}
	return f.client.Get(ctx, f.cfg.Protocol+"://"+host+path+"?"+q.Encode(), signer)
}

// PeerExperts asks a peer who of its people knows about text (search.Peers).
func (f *Federator) PeerExperts(ctx context.Context, host string, viewer *community.Account, text string, limit int) ([]search.Expert, error) {
	body, err := f.askPeer(ctx, host, expertsPath, viewer, text, limit)
	if err != nil {
		return nil, err
	}
	answers, err := decodeExperts(body, host)
	if err != nil {
		return nil, fmt.Errorf("experts answer of %s: %w", host, err)
	}
	profiles := make([]peerProfile, len(answers))
	for i, a := range answers {
		profiles[i] = a.profile
	}
	accounts, err := f.storeProfiles(ctx, host, profiles, false)
	if err != nil {
		return nil, err
	}
	out := make([]search.Expert, 0, len(answers))
	for _, a := range answers {
		acct := accounts[a.profile.id]
		if acct == nil {
			continue
		}
		out = append(out, search.Expert{Account: acct, Score: a.score, Instance: host, Evidence: a.evidence})
	}
	return out, nil
}

// PeerAccounts asks a peer for its people matching text (search.Peers).
func (f *Federator) PeerAccounts(ctx context.Context, host string, viewer *community.Account, text string, limit int) ([]*community.Account, error) {
	body, err := f.askPeer(ctx, host, accountsSearchPath, viewer, text, limit)
	if err != nil {
		return nil, err
	}
	profiles, err := decodeAccounts(body, host)
	if err != nil {
		return nil, fmt.Errorf("accounts answer of %s: %w", host, err)
	}
	accounts, err := f.storeProfiles(ctx, host, profiles, false)
	if err != nil {
		return nil, err
	}
	out := make([]*community.Account, 0, len(profiles))
	for _, p := range profiles {
		if a := accounts[p.id]; a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// peerProfile is a profile a peer sent: its actor id, read and checked, and the
// document, parsed only when it has to be stored.
type peerProfile struct {
	id  string
	raw json.RawMessage
}

// profileOf reads the id of a profile a peer sent, which must be one of that peer's.
func profileOf(raw json.RawMessage, host string) (peerProfile, bool) {
	var head struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &head) != nil || !httpURL(head.ID) || strings.Contains(head.ID, "#") || hostOf(head.ID) != host {
		return peerProfile{}, false
	}
	return peerProfile{id: head.ID, raw: raw}, true
}

// storeProfiles returns the stored accounts of profiles a peer sent, by actor id:
// unknown ones are stored; with refresh, known ones are updated too (a directory pull),
// otherwise the stored copy stands (profile edits arrive as Update activities). Only
// the profiles stored are parsed: a search answer is mostly people already known.
func (f *Federator) storeProfiles(ctx context.Context, host string, profiles []peerProfile, refresh bool) (map[string]*community.Account, error) {
	ids := make([]string, 0, len(profiles))
	for _, p := range profiles {
		ids = append(ids, p.id)
	}
	known, err := f.c.Unchecked().AccountsByURI(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, pp := range profiles {
		if hostOf(pp.id) != host {
			continue
		}
		if a := known[pp.id]; a != nil && (!refresh || a.IsLocal()) {
			continue
		}
		p, err := activitystreams.ParseProfile(pp.raw)
		if err != nil || p.ID != pp.id {
			f.log.InfoContext(ctx, "refused a peer's profile", "peer", host, "actor", pp.id, "err", err)
			continue
		}
		a, err := f.c.UpsertRemoteAccount(ctx, remoteAccountOf(p))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			f.log.InfoContext(ctx, "refused a peer's profile", "peer", host, "actor", pp.id, "err", err)
			continue
		}
		known[pp.id] = a
	}
	return known, nil
}

// remoteAccountOf is the domain's view of a parsed actor.
func remoteAccountOf(pa *activitystreams.ParsedActor) community.RemoteAccount {
	return community.RemoteAccount{
		URI:            pa.ID,
		Username:       pa.PreferredUsername,
		Domain:         hostOf(pa.ID),
		DisplayName:    pa.Name,
		NoteHTML:       pa.Summary,
		URL:            pa.URL,
		InboxURL:       pa.Inbox,
		SharedInboxURL: pa.SharedInbox,
		FollowersURL:   pa.Followers,
		PublicKeyPEM:   pa.PublicKeyPEM,
		AvatarURL:      pa.IconURL,
		HeaderURL:      pa.ImageURL,
		Locked:         pa.ManuallyApprovesFollowers,
		Bot:            pa.Type == "Service" || pa.Type == "Application",
		Group:          pa.Type == "Group",
		Discoverable:   pa.Discoverable,
		Fields:         pa.Fields,
		CreatedAt:      pa.Published,
		Expertise:      pa.Expertise,
		FeaturedTags:   pa.Hashtags,
	}
}

// peerExpert is one expert of a peer's answer, checked.
type peerExpert struct {
	profile  peerProfile
	score    float64
	evidence search.Evidence
}

// errBadAnswer marks an answer that is not a search answer at all.
var errBadAnswer = errors.New("not a search answer")

// decodeExperts reads a peer's experts answer. Whatever a peer sends is cut to size and
// checked: people must be that peer's own, evidence posts must be the peer's and of an
// audience that may leave it (never department scope, never direct), HTML is sanitized,
// scores and counts are bounded. Entries that fail are dropped, not the whole answer.
func decodeExperts(body []byte, host string) ([]peerExpert, error) {
	var w wireAnswer
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadAnswer, err)
	}
	out := []peerExpert{}
	for _, e := range w.Experts {
		if len(out) == search.MaxExperts {
			break
		}
		p, ok := profileOf(e.Actor, host)
		if !ok {
			continue
		}
		score := e.Score
		if math.IsNaN(score) || score < 0 {
			continue
		}
		out = append(out, peerExpert{profile: p, score: min(score, maxAnswerScore), evidence: evidenceOf(e.Evidence, host)})
	}
	return out, nil
}

func evidenceOf(w wireEvidence, host string) search.Evidence {
	ev := search.Evidence{
		Expertise:       []string{},
		FeaturedTags:    []string{},
		StatusesCount:   clampInt(w.StatusesCount),
		HashtagCount:    clampInt(w.HashtagCount),
		FavouritesCount: int64(clampInt(int(min(max(w.FavouritesCount, 0), maxAnswerCount)))),
	}
	for _, t := range w.Expertise {
		if t = cut(markup.PlainText(t), community.MaxExpertiseRunes); t != "" && len(ev.Expertise) < community.MaxExpertise {
			ev.Expertise = append(ev.Expertise, t)
		}
	}
	for _, t := range w.FeaturedTags {
		if name, err := community.NormalizeTagName(t); err == nil && len(ev.FeaturedTags) < community.MaxFeaturedTags {
			ev.FeaturedTags = append(ev.FeaturedTags, name)
		}
	}
	for _, fl := range w.Fields {
		if len(ev.Fields) == community.MaxFields {
			break
		}
		name := cut(markup.PlainText(fl.Name), community.MaxFieldNameLen)
		if name == "" {
			continue
		}
		ev.Fields = append(ev.Fields, community.Field{Name: name, Value: markup.Sanitize(cut(fl.Value, 4096))})
	}
	for _, st := range w.Statuses {
		if len(ev.Statuses) == search.MaxEvidencePosts {
			break
		}
		vis, sc := community.Visibility(st.Visibility), community.Scope(st.Scope)
		if vis != community.VisibilityPublic && vis != community.VisibilityUnlisted && vis != community.VisibilityPrivate {
			continue
		}
		if sc != community.ScopeWorld && sc != community.ScopeCompany {
			continue
		}
		if hostOf(st.ID) != host || !httpURL(st.ID) || (st.URL != "" && !httpURL(st.URL)) {
			continue
		}
		if hostOf(st.URL) != host {
			st.URL = "" // a link to another server, or an internal one, is not the peer's to give
		}
		tags := []string{}
		for _, t := range st.Tags {
			if name, err := community.NormalizeTagName(t); err == nil && len(tags) < 20 {
				tags = append(tags, name)
			}
		}
		ev.Statuses = append(ev.Statuses, search.EvidenceStatus{
			URI: st.ID, URL: st.URL,
			Content:     markup.Sanitize(cut(st.Content, maxAnswerContentBytes)),
			SpoilerText: cut(markup.PlainText(st.Summary), 500),
			CreatedAt:   st.Published.UTC(), Visibility: vis, Scope: sc, Reply: st.Reply,
			FavouritesCount: int64(clampInt(int(min(max(st.Favourites, 0), maxAnswerCount)))),
			RepliesCount:    int64(clampInt(int(min(max(st.Replies, 0), maxAnswerCount)))),
			Tags:            tags,
		})
	}
	return ev
}

// decodeAccounts reads a peer's accounts answer: profiles of that peer's own people.
func decodeAccounts(body []byte, host string) ([]peerProfile, error) {
	var w wireAnswer
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadAnswer, err)
	}
	out := []peerProfile{}
	for _, raw := range w.Accounts {
		if len(out) == search.MaxExperts*2 {
			break
		}
		if p, ok := profileOf(raw, host); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func clampInt(n int) int { return min(max(n, 0), maxAnswerCount) }

// cut shortens s to at most n runes (n bytes for long HTML), on a rune boundary.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func httpURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
