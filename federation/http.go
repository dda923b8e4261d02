package federation

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/federation/queue"
	"github.com/tacit-social/tacit/federation/signature"
)

// Routes mounts the ActivityPub endpoints.
func (f *Federator) Routes(e *gin.Engine) { f.mount(e, BrowserPages{}) }

// BrowserPages serve the HTML of the profile and post addresses (/@user, /@user/:id)
// to browsers, which ActivityPub requests to the same addresses never reach. A nil
// page answers browsers with 404.
type BrowserPages struct {
	Profile, Status gin.HandlerFunc
}

// RoutesWithPages is Routes with the web app's pages behind the addresses that both
// serve.
func (f *Federator) RoutesWithPages(p BrowserPages) func(*gin.Engine) {
	return func(e *gin.Engine) { f.mount(e, p) }
}

func (f *Federator) mount(e *gin.Engine, pages BrowserPages) {
	e.GET("/.well-known/webfinger", f.webfinger)
	e.GET("/actor", f.instanceActor)
	e.GET("/users/:username", f.actor)
	e.GET("/users/:username/statuses/:id", f.object)
	e.GET("/users/:username/statuses/:id/activity", f.statusActivityDoc)
	e.GET("/users/:username/statuses/:id/replies", f.replies)
	e.GET("/actor/outbox", f.instanceOutbox)
	e.GET("/users/:username/followers", f.collection("followers"))
	e.GET("/users/:username/following", f.collection("following"))
	e.GET("/users/:username/outbox", f.outbox)
	e.GET("/users/:username/collections/featured", f.featured)
	e.GET("/users/:username/moderators", f.boardModerators)
	e.GET("/ap/company", f.companyCollection)
	// Profile and post web addresses answer ActivityPub requests too, as Mastodon's
	// do, so that a peer can resolve what a person pasted from a browser.
	e.GET("/@:username", f.ifActivityPub(f.actor, pages.Profile))
	e.GET("/@:username/:id", f.ifActivityPub(f.object, pages.Status))
	e.POST("/inbox", f.inbox)
	e.POST("/users/:username/inbox", f.inbox)
	e.POST("/actor/inbox", f.inbox)
	f.searchRoutes(e)
}

// ifActivityPub serves h to requests that ask for ActivityPub JSON; others get the
// browser page, or 404 without one.
func (f *Federator) ifActivityPub(h, page gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		accept := c.GetHeader("Accept")
		if !strings.Contains(accept, "application/activity+json") && !strings.Contains(accept, "application/ld+json") {
			if page != nil {
				page(c)
				return
			}
			c.String(http.StatusNotFound, "Not found")
			return
		}
		c.Params = append(c.Params, gin.Param{Key: "username", Value: strings.TrimPrefix(c.Param("username"), "@")})
		h(c)
	}
}

func writeActivityJSON(c *gin.Context, status int, body []byte) {
	c.Header("Cache-Control", "private, no-store")
	c.Data(status, `application/activity+json; charset=utf-8`, body)
}

// requester is who is fetching: verified from the request's signature.
type requester struct {
	host    string             // the signing instance's host, "" when unsigned
	viewer  community.Viewer   // the viewer the audience rules see
	account *community.Account // the signing account, when it is one we know
}

// SignerKey is the gin context key under which VerifyRequest leaves the
// *signature.Verified of a request whose signature it checked, for middleware and
// handlers that run after it (per-peer rate limits, logging).
const SignerKey = "tacit.federation.signer"

// signedBodyKey keeps the body VerifyRequest read, so that a second call in the same
// request (a middleware verified first) answers without verifying again.
const signedBodyKey = "tacit.federation.signed-body"

// VerifyRequest checks the HTTP signature of a request to this instance (draft-cavage
// or RFC 9421, bound to this host, with replays of GETs refused) and returns what it
// proves and the body, which it has read and put back. Errors wrap the signature
// package's; signature.StatusCode maps them to HTTP statuses. On success the result is
// stored in c under SignerKey, and a later call for the same request returns it
// without verifying again, so a middleware may verify before the handler does.
func (f *Federator) VerifyRequest(c *gin.Context) (*signature.Verified, []byte, error) {
	if v, ok := c.Get(SignerKey); ok {
		if body, ok := c.Get(signedBodyKey); ok {
			return v.(*signature.Verified), body.([]byte), nil
		}
	}
	// The client address as the configured proxies report it: Verify tells a peer
	// repeating its own GET from someone replaying it by address.
	ctx := signature.WithClientAddr(c.Request.Context(), c.ClientIP())
	v, body, err := f.verifier.Verify(ctx, c.Request)
	if err == nil {
		c.Set(SignerKey, v)
		c.Set(signedBodyKey, body)
	} else if f.signatureFailed != nil {
		f.signatureFailed(err)
	}
	return v, body, err
}

// authorize verifies a GET's signature. In company mode only peers may read anything;
// in open mode an unsigned request reads as a logged-out visitor (world scope only).
// A request signed with a scheme or algorithm Tacit does not verify counts as
// unsigned, so that public documents stay readable to software that signs every GET.
// A refused request learns nothing: 401 without detail, or 404 for objects.
func (f *Federator) authorize(c *gin.Context) (requester, bool) {
	ctx := c.Request.Context()
	var r requester
	hasSig := c.GetHeader("Signature") != "" || c.GetHeader("Signature-Input") != "" ||
		strings.HasPrefix(c.GetHeader("Authorization"), "Signature ")
	var v *signature.Verified
	var err error
	if hasSig {
		v, _, err = f.VerifyRequest(c)
		if errors.Is(err, signature.ErrUnsupportedAlgorithm) {
			f.log.DebugContext(ctx, "signed GET with an unsupported signature, read as unsigned", "path", c.Request.URL.Path, "err", err)
			hasSig = false
			// The client limiter let it pass as signed: it counts per address here, as
			// an unverified request, so that a made-up Signature header buys nothing.
			if !admit(c, "") {
				return r, false
			}
		}
	}
	if !hasSig {
		if f.policy.Open {
			return r, true
		}
		c.AbortWithStatus(http.StatusUnauthorized)
		return r, false
	}
	if err != nil {
		f.log.InfoContext(ctx, "refused signed GET", "path", c.Request.URL.Path, "err", err)
		if admit(c, "") {
			c.AbortWithStatus(http.StatusUnauthorized)
		}
		return r, false
	}
	r.host = strings.ToLower(v.Host)
	if !f.policy.Allowed(r.host) {
		if admit(c, "") {
			c.AbortWithStatus(http.StatusUnauthorized)
		}
		return r, false
	}
	if !admit(c, r.host) {
		return r, false
	}
	if a, err := f.c.Unchecked().AccountByURI(ctx, v.Owner); err == nil && !a.IsLocal() {
		r.account = a
		r.viewer = community.AsAccount(a)
	} else {
		r.viewer = community.Viewer{Server: r.host}
	}
	return r, true
}

// webfinger answers acct:user@host and actor URL lookups for local accounts and the
// instance actor. In company mode, as for every ActivityPub read, only signed requests
// from peers get an answer about accounts: a stranger cannot even learn which
// usernames exist. The instance actor is answered to anyone, like its actor document:
// servers (GoToSocial) WebFinger every actor they meet, this one first of all, before
// they can verify anything.
func (f *Federator) webfinger(c *gin.Context) {
	resource := c.Query("resource")
	if strings.TrimSpace(resource) == "" {
		c.JSON(http.StatusBadRequest, gin.H{"error": "The resource parameter is required"})
		return
	}
	if f.isInstanceActor(resource) {
		f.writeJRD(c, "acct:"+f.instanceActorName()+"@"+f.cfg.Host, f.InstanceActorURI(), f.base+"/")
		return
	}
	r, ok := f.authorize(c)
	if !ok {
		return
	}
	// The answer depends on the resource and on who asks (an account or a peer may see
	// more than a stranger), and on nothing else but the database.
	var who string
	if r.viewer.Account != nil {
		who = strconv.FormatInt(r.viewer.Account.ID, 10)
	}
	f.pages.Serve(c, "webfinger "+who+" "+r.viewer.Server+" "+resource, func(c *gin.Context) {
		username, ok := f.localUsername(resource)
		if !ok {
			c.JSON(http.StatusNotFound, gin.H{"error": "Record not found"})
			return
		}
		// Only an account the requester may see (never a suspended one or a department board).
		acct, err := f.c.LocalAccountFor(c.Request.Context(), r.viewer, username)
		if err != nil {
			c.JSON(http.StatusNotFound, gin.H{"error": "Record not found"})
			return
		}
		f.writeJRD(c, "acct:"+acct.Username+"@"+f.cfg.Host, acct.URI, acct.URL)
	})
}

// writeJRD answers a WebFinger request for the actor actorURI.
func (f *Federator) writeJRD(c *gin.Context, subject, actorURI, profileURL string) {
	c.Header("Content-Type", "application/jrd+json; charset=utf-8")
	c.JSON(http.StatusOK, gin.H{
		"subject": subject,
		"aliases": []string{actorURI, profileURL},
		"links": []gin.H{
			{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profileURL},
			{"rel": "self", "type": "application/activity+json", "href": actorURI},
		},
	})
}

// instanceActorName is the instance actor's preferredUsername: the host, as Mastodon
// names its own.
func (f *Federator) instanceActorName() string { return f.cfg.Host }

// isInstanceActor reports whether a WebFinger resource names the instance actor: by its
// preferredUsername (acct:<host>@<host>, the handle other servers build from the actor
// document) or by its id.
func (f *Federator) isInstanceActor(resource string) bool {
	if resource == f.InstanceActorURI() {
		return true
	}
	acct := strings.TrimPrefix(strings.TrimPrefix(resource, "acct:"), "@")
	i := strings.LastIndexByte(acct, '@')
	return i > 0 && strings.EqualFold(acct[:i], f.instanceActorName()) && strings.EqualFold(acct[i+1:], f.cfg.Host)
}

// localUsername extracts the username from "acct:user@host", "user@host" or a local
// actor URL, when it names this instance.
func (f *Federator) localUsername(resource string) (string, bool) {
	if strings.HasPrefix(resource, "http://") || strings.HasPrefix(resource, "https://") {
		u, err := url.Parse(resource)
		if err != nil || !strings.EqualFold(u.Host, f.cfg.Host) {
			return "", false
		}
		name, ok := strings.CutPrefix(u.Path, "/users/")
		if !ok {
			name, ok = strings.CutPrefix(u.Path, "/@")
		}
		return name, ok && name != "" && !strings.Contains(name, "/")
	}
	acct := strings.TrimPrefix(strings.TrimPrefix(resource, "acct:"), "@")
	user, host, ok := strings.Cut(acct, "@")
	if !ok || !strings.EqualFold(host, f.cfg.Host) || user == "" {
		return "", false
	}
	return user, true
}

// instanceActor serves the instance's own actor. It is readable without a signature,
// so that a peer can fetch the key with which this instance signs its first requests.
func (f *Federator) instanceActor(c *gin.Context) {
	pub, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	now := now()
	settings, err := f.c.Settings(c.Request.Context())
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	body, err := activitystreams.ActorJSON(activitystreams.Actor{
		Account: &community.Account{
			Username: f.instanceActorName(), DisplayName: settings.Name, URI: f.InstanceActorURI(),
			URL: f.base + "/", InboxURL: f.InstanceActorURI() + "/inbox", SharedInboxURL: f.base + "/inbox",
			Locked: true, Bot: true, Fields: community.Fields{}, CreatedAt: now, UpdatedAt: now,
		},
		PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		Outbox:       f.InstanceActorURI() + "/outbox",
		Type:         "Application",
	})
	if err != nil {
		f.log.ErrorContext(c.Request.Context(), "render instance actor", "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	writeActivityJSON(c, http.StatusOK, body)
}

// actor serves a local account's actor document to peers.
func (f *Federator) actor(c *gin.Context) {
	r, ok := f.authorize(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	// The account rule hides suspended accounts and department boards (404): a
	// suspension can be lifted, so it must not read as 410, after which peers delete
	// the actor and everything it wrote.
	acct, err := f.c.LocalAccountFor(ctx, r.viewer, c.Param("username"))
	if err != nil && community.KindOf(err) != community.KindNotFound {
		f.fail(c, "load actor", err)
		return
	}
	if err != nil {
		if tomb, terr := f.c.AccountTombstone(ctx, 0, c.Param("username")); terr == nil {
			body, _ := activitystreams.Tombstone(tomb.URI)
			writeActivityJSON(c, http.StatusGone, body)
			return
		}
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	body, err := f.actorJSON(ctx, acct)
	if err != nil {
		f.log.ErrorContext(ctx, "render actor", "account_id", acct.ID, "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	writeActivityJSON(c, http.StatusOK, body)
}

// actorJSON renders a local account as its actor document, with its key, the hashtags
// it features and, for an idea board, the board's properties.
func (f *Federator) actorJSON(ctx context.Context, acct *community.Account) ([]byte, error) {
	_, pub, err := f.c.AccountKeys(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	featured, err := f.c.FeaturedTagNames(ctx, []int64{acct.ID})
	if err != nil {
		return nil, err
	}
	a := activitystreams.Actor{
		Account: acct, PublicKeyPEM: pub,
		Following: acct.URI + "/following", Outbox: acct.URI + "/outbox", Featured: acct.URI + "/collections/featured",
		FeaturedTags: featured[acct.ID], TagURL: f.c.TagURL,
	}
	if acct.Group {
		if a.Board, err = f.boardActor(ctx, acct); err != nil {
			return nil, err
		}
	}
	return activitystreams.ActorJSON(a)
}

// object serves a local status to a requester in its audience; anyone else gets the
// same 404 as for a status that does not exist.
func (f *Federator) object(c *gin.Context) {
	r, ok := f.authorize(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	st, err := f.c.GetStatus(ctx, r.viewer, id)
	if err != nil || !st.Local || st.ReblogOfID != nil {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	author, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
	if err != nil || !strings.EqualFold(author.Username, c.Param("username")) {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	body, err := f.noteJSON(ctx, st, author)
	if errors.Is(err, activitystreams.ErrNotFederated) {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	if err != nil {
		f.log.ErrorContext(ctx, "render note", "status_id", st.ID, "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	writeActivityJSON(c, http.StatusOK, body)
}

// goneActorsDelete reports whether a delivery that failed verification because the
// signer's key could not be fetched (its actor answers 404 or 410) is that actor's own
// Delete. The body is unauthenticated: it is only looked at to decide to drop it.
func goneActorsDelete(err error, body []byte) bool {
	var se *StatusError
	if !errors.Is(err, signature.ErrKeyFetch) || !errors.As(err, &se) ||
		(se.Code != http.StatusGone && se.Code != http.StatusNotFound) {
		return false
	}
	act, perr := activitystreams.ParseActivity(body)
	return perr == nil && act.Type == "Delete" && act.ObjectID == act.Actor
}

// inboxPayload is what the inbox queues for processing: the verified sender and the
// activity as received.
type inboxPayload struct {
	Signer   string          `json:"signer"` // actor id owning the signing key
	Activity json.RawMessage `json:"activity"`
}

// inboxPayloadJSON is json.Marshal(inboxPayload{signer, activity}) for an activity
// that parsed, so is valid JSON: it is copied as received rather than re-encoded
// (json.Marshal compacts and escapes a raw message again, a tenth of the inbox
// handler's work).
func inboxPayloadJSON(signer string, activity []byte) ([]byte, error) {
	quoted, err := json.Marshal(signer)
	if err != nil {
		return nil, fmt.Errorf("inbox payload: %w", err)
	}
	out := make([]byte, 0, len(`{"signer":,"activity":}`)+len(quoted)+len(activity))
	out = append(out, `{"signer":`...)
	out = append(out, quoted...)
	out = append(out, `,"activity":`...)
	out = append(out, activity...)
	out = append(out, '}')
	return out, nil
}

// inbox verifies a delivery and queues it; the answer is 202 as soon as the activity
// is stored, and processing happens in the queue's workers.
func (f *Federator) inbox(c *gin.Context) {
	ctx := c.Request.Context()
	v, body, err := f.VerifyRequest(c)
	verified := ""
	if err == nil && f.policy.Allowed(strings.ToLower(v.Host)) && !f.policy.blocked(strings.ToLower(v.Host)) {
		verified = strings.ToLower(v.Host)
	}
	if !admit(c, verified) {
		return
	}
	if err != nil && goneActorsDelete(err, body) {
		// The actor's own Delete, after its key went with it: there is nothing to verify
		// against and nothing of it to delete that was not already unknown here. 202
		// keeps its instance from retrying for days, as Mastodon does.
		c.Status(http.StatusAccepted)
		return
	}
	if err != nil {
		status := signature.StatusCode(err)
		f.log.InfoContext(ctx, "refused inbox delivery", "status", status, "err", err)
		c.JSON(status, gin.H{"error": http.StatusText(status)})
		return
	}
	host := strings.ToLower(v.Host)
	if f.policy.blocked(host) {
		c.JSON(http.StatusForbidden, gin.H{"error": "Forbidden"})
		return
	}
	if !f.policy.Allowed(host) {
		c.JSON(http.StatusUnauthorized, gin.H{"error": "Unauthorized"})
		return
	}
	act, err := activitystreams.ParseActivity(body)
	if err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": "Not an activity: " + err.Error()})
		return
	}
	// The activity speaks for its actor: the signer must be that actor, or that actor's
	// instance (the instance actor may relay its own accounts' activities).
	if act.Actor != v.Owner && hostOf(act.Actor) != host {
		c.JSON(http.StatusUnauthorized, gin.H{"error": "Signature does not match the activity's actor"})
		return
	}
	if hostOf(act.Actor) != host || hostOf(act.ID) != host {
		c.JSON(http.StatusUnauthorized, gin.H{"error": "Activity does not come from the signer's host"})
		return
	}
	payload, err := inboxPayloadJSON(v.Owner, body)
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	job := queue.Job{ID: community.NewID(), Kind: jobInbox, Host: host, Payload: string(payload), DedupeKey: act.ID}
	// Offered before the job can run, withdrawn if it is not queued.
	f.parsed.put(job.ID, act)
	fresh, err := f.accepts.accept(ctx, job)
	if !fresh || err != nil {
		f.parsed.take(job.ID)
	}
	if err != nil {
		f.log.ErrorContext(ctx, "queue inbox activity", "activity", act.ID, "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	// A fresh job is already with the workers (writeAccepted offered it or woke them).
	if !fresh {
		f.log.DebugContext(ctx, "dropped a replayed activity", "activity", act.ID)
	}
	c.Status(http.StatusAccepted)
}
