package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// pageNames are the pages; each is parsed with the layout and the shared parts.
var pageNames = []string{
	"landing", "timeline", "profile", "status", "notifications", "experts", "settings",
	"login", "compose", "edit", "error",
	"moderation", "moderation_log", "admin_people", "admin_person", "admin_federation", "admin_dead", "admin_domains", "admin_instance",
	"signup", "admin_invites",
}

// assetVersions maps each asset to a hash of its content, which its address carries
// (/assets/app.css?v=…), so that browsers may keep it for a year and still get a new
// version the moment it changes.
var assetVersions = func() map[string]string {
	out := map[string]string{}
	err := fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(p, "assets/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		panic("web/app: read embedded assets: " + err.Error())
	}
	return out
}()

// gzippedAssets holds each asset compressed, made on first use: browsers ask for the
// same few files, so compressing them once keeps a first visit's weight (htmx alone is
// 53 KB) down at no cost per request. Instances often sit without a compressing proxy
// in front of them.
var gzippedAssets = sync.OnceValue(func() map[string][]byte {
	out := map[string][]byte{}
	for name := range assetVersions {
		b, err := assetFiles.ReadFile("assets/" + name)
		if err != nil {
			continue
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(b); err == nil && zw.Close() == nil && buf.Len() < len(b) {
			out[name] = buf.Bytes()
		}
	}
	return out
})

// acceptsGzip reports whether the client takes gzip-encoded answers: it names gzip in
// Accept-Encoding without q=0.
func acceptsGzip(c *gin.Context) bool {
	for _, part := range strings.Split(c.GetHeader("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, found := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !found {
			return true
		}
		weight, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
		return err == nil && weight > 0
	}
	return false
}

var templateFuncs = template.FuncMap{
	"t": T,
	"asset": func(name string) string {
		return "/assets/" + name + "?v=" + assetVersions[name]
	},
}

// pages holds one template set per page: the layout, the shared parts and the page.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		out[name] = template.Must(template.New(name).Funcs(templateFuncs).ParseFS(templateFiles,
			"templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
	}
	return out
}()

// parts renders the shared parts alone, for the fragments htmx swaps in place.
var parts = template.Must(template.New("parts").Funcs(templateFuncs).ParseFS(templateFiles, "templates/parts.html"))

// pageData is what the layout needs; Page is the page's own data.
type pageData struct {
	Title    string
	Instance instanceView
	Me       *accountView
	CSRF     string
	Nav      string
	OG       *openGraph
	Page     any
	// Unread is the count of unread notifications in the navigation, "" for none.
	Unread string
	// StaffLink is "admin" or "moderation" for the instance's staff (moderation.go).
	StaffLink string
}

type instanceView struct {
	Name        string
	Description string
	Host        string
	Version     string
	// Registrations is the sign-up mode (closed, invite, open), for the sign-up links.
	Registrations string
}

// openGraph is the link preview of a profile or a post.
type openGraph struct {
	Type        string
	Title       string
	Description string
	URL         string
	Image       string
}

// withOpenGraph is a page that describes itself for link previews.
type withOpenGraph interface{ openGraph() *openGraph }

// settings are the instance's settings as its admins saved them; if they cannot be
// read, the page still renders, with the configured ones.
func (a *App) settings(ctx context.Context) community.InstanceSettings {
	v, err := a.community.Settings(ctx)
	if err != nil {
		a.log.ErrorContext(ctx, "read instance settings", "err", err)
		return community.InstanceSettings{Name: a.cfg.InstanceName, Description: a.cfg.InstanceDescription,
			Rules: a.cfg.InstanceRules}
	}
	return v
}

func (a *App) instanceName(ctx context.Context) string {
	if n := strings.TrimSpace(a.settings(ctx).Name); n != "" {
		return n
	}
	return a.cfg.Host
}

// render writes a page. nav names the navigation entry to mark as current.
func (a *App) render(c *gin.Context, s *session, status int, name, title, nav string, page any) {
	settings := a.settings(c.Request.Context())
	instanceName := strings.TrimSpace(settings.Name)
	if instanceName == "" {
		instanceName = a.cfg.Host
	}
	data := pageData{
		Title: title,
		Instance: instanceView{
			Name: instanceName, Description: settings.Description, Host: a.cfg.Host, Version: web.Version,
			Registrations: string(settings.Registrations.Mode),
		},
		CSRF: a.csrfToken(c, s),
		Nav:  nav,
		Page: page,
	}
	if s != nil {
		me := a.accountView(s.account)
		data.Me = &me
		data.Unread = a.unreadNotifications(c, s)
		data.StaffLink = staffLink(s)
	}
	if p, ok := page.(withOpenGraph); ok {
		data.OG = p.openGraph()
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		a.log.ErrorContext(c.Request.Context(), "render web page", "page", name, "request_id", c.GetString("request_id"), "err", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte(T("error.server")))
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// renderPart writes one shared part alone (an htmx fragment).
func (a *App) renderPart(c *gin.Context, name string, data any) {
	var buf bytes.Buffer
	if err := parts.ExecuteTemplate(&buf, name, data); err != nil {
		a.log.ErrorContext(c.Request.Context(), "render web fragment", "part", name, "request_id", c.GetString("request_id"), "err", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte(T("error.server")))
		c.Abort()
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// errorPage is the data of the error page.
type errorPage struct {
	Heading string
	Message string
}

// renderError shows a message from the catalog with a status code.
func (a *App) renderError(c *gin.Context, s *session, status int, key string) {
	heading := T("error.heading")
	switch status {
	case http.StatusNotFound:
		heading = T("error.not_found.heading")
	case http.StatusForbidden:
		heading = T("error.forbidden.heading")
	}
	a.render(c, s, status, "error", heading, "", errorPage{Heading: heading, Message: T(key)})
}

// notFound answers exactly as for a page that does not exist, whether the thing is
// missing or hidden from this viewer: a hidden post's existence is never revealed.
func (a *App) notFound(c *gin.Context, s *session) {
	a.renderError(c, s, http.StatusNotFound, "error.not_found")
}

// fail maps a domain error to a page: not found and forbidden as such, a broken rule
// with the domain's own message (written for people), anything else logged as a 500.
func (a *App) fail(c *gin.Context, s *session, err error) {
	switch community.KindOf(err) {
	case community.KindNotFound:
		a.notFound(c, s)
		return
	case community.KindForbidden:
		a.render(c, s, http.StatusForbidden, "error", T("error.forbidden.heading"), "",
			errorPage{Heading: T("error.forbidden.heading"), Message: err.Error()})
		return
	case community.KindInvalid, community.KindConflict:
		a.render(c, s, http.StatusUnprocessableEntity, "error", T("error.invalid.heading"), "",
			errorPage{Heading: T("error.invalid.heading"), Message: err.Error()})
		return
	}
	a.log.ErrorContext(c.Request.Context(), "web page failed", "path", c.Request.URL.Path,
		"request_id", c.GetString("request_id"), "err", err)
	a.renderError(c, s, http.StatusInternalServerError, "error.server")
}

// redirect answers a form with 303 See Other, so that the browser follows with a GET
// (POST-redirect-GET) and a reload does not post again.
func (a *App) redirect(c *gin.Context, location string) {
	c.Header("Location", location)
	c.AbortWithStatus(http.StatusSeeOther)
}

// setSecurityHeaders: nothing loads from elsewhere, no inline script or style, no
// framing, no Referer to other sites (addresses may name private posts), no caching of
// pages that show a person's own timeline.
func setSecurityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
}

const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset serves the embedded CSS and JavaScript.
func (a *App) asset(c *gin.Context) {
	name := strings.TrimPrefix(path.Clean(c.Param("file")), "/")
	b, err := assetFiles.ReadFile("assets/" + name)
	if err != nil || name == "" {
		c.String(http.StatusNotFound, "Not found")
		return
	}
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if v := c.Query("v"); v != "" && v == assetVersions[name] {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Vary", "Accept-Encoding")
	if z, ok := gzippedAssets()[name]; ok && acceptsGzip(c) {
		h.Set("Content-Encoding", "gzip")
		b = z
	}
	c.Data(http.StatusOK, ctype, b)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func urlPathEscape(s string) string { return url.PathEscape(s) }
