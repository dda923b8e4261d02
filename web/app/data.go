package app

import (
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/export"
	"github.com/tacit-social/tacit/web"
)

// A person's data (docs/export.md): the archive and CSV files to download from
// /settings/export, the following and blocking files of another server to import on
// /settings/import, and for admins, an account's legal hold and its archive, made on
// the person's request (/admin/people/:id/records). The pages call what the API's
// /api/v1/tacit/export and /import call.

func init() {
	for _, name := range []string{"settings_export", "settings_import", "admin_records"} {
		pages[name] = template.Must(template.New(name).Funcs(templateFuncs).ParseFS(templateFiles,
			"templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
	}
}

// mountData adds the export, import and records pages.
func (a *App) mountData(e *gin.Engine) {
	e.GET("/settings/export", a.page(a.signedIn(a.exportPage)))
	e.GET("/settings/export/:file", a.page(a.signedIn(a.exportFile)))
	e.GET("/settings/import", a.page(a.signedIn(a.importPage)))
	e.POST("/settings/import", a.upload(export.MaxImportSize+1<<16, a.signedIn(a.importFile)))
	e.GET("/admin/people/:id/records", a.page(a.signedIn(a.adminOnly(a.recordsPage))))
	e.GET("/admin/people/:id/archive.zip", a.page(a.signedIn(a.adminOnly(a.adminArchive))))
	e.POST("/admin/people/:id/hold", a.form(a.signedIn(a.adminOnly(a.setHold))))
}

// exportPage is /settings/export.
type exportPage struct {
	Files []choice // Value: the file name, Label: what it holds
}

func (a *App) exportPage(c *gin.Context, s *session) {
	p := exportPage{}
	for _, name := range export.CSVNames {
		p.Files = append(p.Files, choice{Value: name, Label: T("data.csv." + name)})
	}
	a.render(c, s, http.StatusOK, "settings_export", T("data.export_heading"), "settings", p)
}

// exportFile is GET /settings/export/:file: the archive (archive.zip) or a CSV file.
func (a *App) exportFile(c *gin.Context, s *session) {
	name := c.Param("file")
	c.Header("Cache-Control", "private, no-store")
	if name == "archive.zip" {
		a.writeArchive(c, s.account)
		return
	}
	if !slices.Contains(export.CSVNames, name) {
		a.notFound(c, s)
		return
	}
	data, err := web.Archiver(a.community).CSV(c.Request.Context(), s.account, name)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", data)
}

// writeArchive streams acct's archive as a download.
func (a *App) writeArchive(c *gin.Context, acct *community.Account) {
	c.Header("Content-Type", "application/zip")
	c.Header("Content-Disposition", `attachment; filename="`+web.ArchiveName(acct, time.Now())+`"`)
	c.Header("Cache-Control", "private, no-store")
	c.Status(http.StatusOK)
	if err := web.Archiver(a.community).Write(c.Request.Context(), c.Writer, acct); err != nil {
		a.log.ErrorContext(c.Request.Context(), "write archive", "account_id", acct.ID,
			"request_id", c.GetString("request_id"), "err", err)
		// Partly sent: cutting the connection keeps the browser from saving it as whole.
		panic(http.ErrAbortHandler)
	}
}

// importPage is /settings/import: the form, and after an import what it did.
type importPage struct {
	Types, Modes []choice
	Error        string
	Done         bool
	Report       web.ImportReport
}

func (a *App) importForm(kind, mode string) importPage {
	p := importPage{}
	p.Types = []choice{
		{Value: "following", Label: T("data.import_following"), Checked: kind == "following"},
		{Value: "blocking", Label: T("data.import_blocking"), Checked: kind == "blocking"},
	}
	p.Modes = []choice{
		{Value: "merge", Label: T("data.import_merge"), Checked: mode != "overwrite"},
		{Value: "overwrite", Label: T("data.import_overwrite"), Checked: mode == "overwrite"},
	}
	return p
}

func (a *App) importPage(c *gin.Context, s *session) {
	a.render(c, s, http.StatusOK, "settings_import", T("data.import_heading"), "settings", a.importForm("following", "merge"))
}

// importFile is POST /settings/import: the CSV file is read whole before anything
// changes; then every address is followed or blocked, or reported.
func (a *App) importFile(c *gin.Context, s *session) {
	kindText, modeText := c.PostForm("type"), c.PostForm("mode")
	p := a.importForm(kindText, modeText)
	kind, overwrite, err := web.ImportOptions(kindText, modeText)
	if err != nil {
		p.Error = err.Error()
		a.render(c, s, http.StatusUnprocessableEntity, "settings_import", T("data.import_heading"), "settings", p)
		return
	}
	file, _, err := c.Request.FormFile("data")
	if err != nil {
		p.Error = T("data.import_no_file")
		a.render(c, s, http.StatusUnprocessableEntity, "settings_import", T("data.import_heading"), "settings", p)
		return
	}
	defer file.Close()
	report, err := web.RunImport(c.Request.Context(), a.community, s.account, kind, overwrite, file)
	if community.KindOf(err) == community.KindInvalid {
		p.Error = err.Error()
		a.render(c, s, http.StatusUnprocessableEntity, "settings_import", T("data.import_heading"), "settings", p)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	p.Done, p.Report = true, report
	a.render(c, s, http.StatusOK, "settings_import", T("data.import_heading"), "settings", p)
}

// recordsPage is /admin/people/:id/records: the account's legal hold, and its archive.
type recordsPage struct {
	Tab    adminTab
	Person accountView
	Held   bool
	Reason string
	Notice string
}

func (a *App) recordsPage(c *gin.Context, s *session) {
	acct, ok := a.exportedAccount(c, s)
	if !ok {
		return
	}
	hold, err := a.community.LegalHoldOf(c.Request.Context(), acct.ID)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	p := recordsPage{Tab: adminTab{"people"}, Person: a.accountView(acct), Held: hold != nil}
	if hold != nil {
		p.Reason = hold.Reason
	}
	if n := c.Query("done"); n != "" {
		p.Notice = notice("admin.records.done." + n)
	}
	a.render(c, s, http.StatusOK, "admin_records", acct.Acct(), "admin", p)
}

// adminArchive is GET /admin/people/:id/archive.zip: the archive the person would
// download, for an admin who exports it on their request.
func (a *App) adminArchive(c *gin.Context, s *session) {
	acct, ok := a.exportedAccount(c, s)
	if !ok {
		return
	}
	a.log.InfoContext(c.Request.Context(), "admin exported an account's archive", "admin_account_id", s.account.ID,
		"account_id", acct.ID, "request_id", c.GetString("request_id"))
	a.writeArchive(c, acct)
}

// setHold is POST /admin/people/:id/hold: hold=on or off, with a reason.
func (a *App) setHold(c *gin.Context, s *session) {
	acct, ok := a.exportedAccount(c, s)
	if !ok {
		return
	}
	on := c.PostForm("hold") == "on"
	if err := a.community.SetLegalHold(c.Request.Context(), s.account, acct.ID, on, strings.TrimSpace(c.PostForm("reason"))); err != nil {
		a.fail(c, s, err)
		return
	}
	done := "released"
	if on {
		done = "held"
	}
	a.redirect(c, "/admin/people/"+community.FormatID(acct.ID)+"/records?done="+done)
}

// exportedAccount is the local account the admin page's address names.
func (a *App) exportedAccount(c *gin.Context, s *session) (*community.Account, bool) {
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return nil, false
	}
	acct, err := a.community.AccountForExport(c.Request.Context(), s.account, id)
	if err != nil {
		a.fail(c, s, err)
		return nil, false
	}
	return acct, true
}
