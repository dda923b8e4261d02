package app

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation"
)

// FederationStatus is what the admin pages read and do about deliveries to other
// instances; *federation.Federator implements it.
type FederationStatus interface {
	PeerDeliveries(ctx context.Context) ([]federation.PeerDelivery, error)
	DeadDeliveries(ctx context.Context, host string) ([]federation.DeadDelivery, error)
	RetryDeadDeliveries(ctx context.Context, host string, ids ...int64) (int, error)
	DiscardDeadDeliveries(ctx context.Context, host string, ids ...int64) (int, error)
}

func (a *App) mountAdminFederation(e *gin.Engine) {
	e.GET("/admin/federation", a.page(a.signedIn(a.adminOnly(a.federationPage))))
	e.GET("/admin/federation/dead", a.page(a.signedIn(a.adminOnly(a.deadDeliveriesPage))))
	e.POST("/admin/federation/dead/:action", a.form(a.signedIn(a.adminOnly(a.deadDeliveryAction))))
}

// peerView is one host's deliveries as the federation page shows them.
type peerView struct {
	Host          string
	Peer          bool
	State         string
	StateClass    string
	LastDelivered string
	Queued        int64
	Dead          int64
	DeadPath      string
	LastError     string
}

type federationPage struct {
	Tab       adminTab
	Available bool
	Peers     []peerView
}

// federationPage is GET /admin/federation: each peer, reachable or not, its last
// successful delivery, its queue and its dead deliveries.
func (a *App) federationPage(c *gin.Context, s *session) {
	p := federationPage{Tab: adminTab{"federation"}, Available: a.federation != nil}
	if a.federation == nil {
		a.render(c, s, http.StatusOK, "admin_federation", T("admin.federation.heading"), "admin", p)
		return
	}
	list, err := a.federation.PeerDeliveries(c.Request.Context())
	if err != nil {
		a.fail(c, s, err)
		return
	}
	for _, d := range list {
		v := peerView{Host: d.Host, Peer: d.Peer, Queued: d.Queued + d.Running, Dead: d.Dead, LastError: d.LastError,
			LastDelivered: T("admin.federation.never")}
		if !d.LastAnswered.IsZero() {
			v.LastDelivered = d.LastAnswered.UTC().Format(timeLayout)
		}
		switch reachable, known := d.Reachable(); {
		case !known:
			v.State, v.StateClass = T("admin.federation.unknown"), "unknown"
		case reachable:
			v.State, v.StateClass = T("admin.federation.reachable"), "ok"
		case !d.PausedUntil.IsZero():
			v.State, v.StateClass = T("admin.federation.paused", d.Failures, d.PausedUntil.UTC().Format(timeLayout)), "failing"
		default:
			v.State, v.StateClass = T("admin.federation.failing"), "failing"
		}
		if d.Dead > 0 {
			v.DeadPath = "/admin/federation/dead?host=" + url.QueryEscape(d.Host)
		}
		p.Peers = append(p.Peers, v)
	}
	a.render(c, s, http.StatusOK, "admin_federation", T("admin.federation.heading"), "admin", p)
}

// deadView is one dead delivery.
type deadView struct {
	ID        string
	Inbox     string
	Activity  string
	Reason    string
	Attempts  int
	LastError string
	DiedAt    string
}

type deadDeliveriesPage struct {
	Tab    adminTab
	Host   string
	Dead   []deadView
	AllIDs string
	Notice string
	CSRF   string
}

// deadDeliveriesPage is GET /admin/federation/dead?host=: the deliveries to one host
// given up on, each with a button to send it again and one to discard it.
func (a *App) deadDeliveriesPage(c *gin.Context, s *session) {
	host := strings.TrimSpace(c.Query("host"))
	if a.federation == nil || host == "" {
		a.notFound(c, s)
		return
	}
	dead, err := a.federation.DeadDeliveries(c.Request.Context(), host)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	p := deadDeliveriesPage{Tab: adminTab{"federation"}, Host: host, CSRF: s.csrf}
	var ids []string
	for _, d := range dead {
		activity := d.ActivityType
		if d.ActivityID != "" {
			activity = strings.TrimSpace(activity + " " + d.ActivityID)
		}
		id := community.FormatID(d.ID)
		ids = append(ids, id)
		p.Dead = append(p.Dead, deadView{ID: id, Inbox: d.Inbox, Activity: activity,
			Reason: T("admin.federation.reason." + d.Reason), Attempts: d.Attempts, LastError: d.LastError,
			DiedAt: d.DiedAt.UTC().Format(timeLayout)})
	}
	p.AllIDs = strings.Join(ids, ",")
	if n := c.Query("done"); n != "" {
		p.Notice = notice("admin.federation.done."+n, c.Query("n"))
	}
	a.render(c, s, http.StatusOK, "admin_dead", T("admin.federation.dead_heading", host), "admin", p)
}

// deadDeliveryAction is POST /admin/federation/dead/retry and /discard, with the host
// and one id or a comma-separated list ("all").
func (a *App) deadDeliveryAction(c *gin.Context, s *session) {
	if a.federation == nil {
		a.notFound(c, s)
		return
	}
	ctx := c.Request.Context()
	form := c.Request.PostForm
	host := strings.TrimSpace(form.Get("host"))
	var ids []int64
	for _, raw := range strings.Split(form.Get("ids"), ",") {
		if id, ok := community.ParseID(strings.TrimSpace(raw)); ok {
			ids = append(ids, id)
		}
	}
	var n int
	var err error
	switch action := c.Param("action"); action {
	case "retry":
		n, err = a.federation.RetryDeadDeliveries(ctx, host, ids...)
	case "discard":
		n, err = a.federation.DiscardDeadDeliveries(ctx, host, ids...)
	default:
		a.notFound(c, s)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.log.InfoContext(ctx, "web admin handled dead deliveries", "request_id", c.GetString("request_id"),
		"admin_account_id", s.account.ID, "host", host, "action", c.Param("action"), "jobs", n)
	q := url.Values{"host": {host}, "done": {c.Param("action")}}
	q.Set("n", strconv.Itoa(n))
	a.redirect(c, "/admin/federation/dead?"+q.Encode())
}
