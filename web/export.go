package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/export"
)

// Tacit's extension of the client API for a person's archive and imports (Mastodon
// offers them as web pages only; docs/export.md):
//
//	GET  /api/v1/tacit/export             the archive (zip), scope read
//	GET  /api/v1/tacit/export/:file       one of its CSV files, scope read
//	POST /api/v1/tacit/import             multipart: type (following or blocking),
//	                                      mode (merge or overwrite), data (the CSV file)
func (s *Server) mountExport(r *gin.RouterGroup) {
	r.GET("/v1/tacit/export", requireUser("read"), s.exportArchive)
	r.GET("/v1/tacit/export/:file", requireUser("read"), s.exportCSV)
	r.POST("/v1/tacit/import", bodyLimit(export.MaxImportSize+1<<16), requireUser("write:follows", "write:blocks"), s.importCSV)
}

// Archiver is the instance's archive writer, shared by the API and the web app.
func Archiver(c *community.Service) *export.Archiver {
	return &export.Archiver{Community: c, CompanyURI: c.BaseURL() + "/ap/company"}
}

// ArchiveName is the file name an archive of acct is downloaded as.
func ArchiveName(acct *community.Account, now time.Time) string {
	return "archive-" + acct.Username + "-" + now.UTC().Format("20060102150405") + ".zip"
}

func (s *Server) exportArchive(c *gin.Context) {
	owner := currentAccount(c)
	c.Header("Content-Type", "application/zip")
	c.Header("Content-Disposition", `attachment; filename="`+ArchiveName(owner, time.Now())+`"`)
	c.Header("Cache-Control", "private, no-store")
	c.Status(http.StatusOK)
	if err := Archiver(s.community).Write(c.Request.Context(), c.Writer, owner); err != nil {
		s.log.ErrorContext(c.Request.Context(), "write archive", "account_id", owner.ID, "request_id", requestID(c), "err", err)
		// The archive has been partly sent: cutting the connection keeps a client from
		// taking what it got for a whole archive.
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) exportCSV(c *gin.Context) {
	name := c.Param("file")
	if !slices.Contains(export.CSVNames, name) {
		abort(c, http.StatusNotFound, "Record not found")
		return
	}
	data, err := Archiver(s.community).CSV(c.Request.Context(), currentAccount(c), name)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", data)
}

// ImportReport is the answer to an import: how many accounts were followed or
// blocked, how many follows or blocks an overwrite ended, and every address that
// could not be imported, with the reason.
type ImportReport struct {
	Imported int             `json:"imported"`
	Removed  int             `json:"removed"`
	Failed   []ImportFailure `json:"failed"`
}

// ImportFailure is one address that was not imported.
type ImportFailure struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
}

func (s *Server) importCSV(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	kind, overwrite, err := ImportOptions(p.Get("type"), p.Get("mode"))
	if err != nil {
		abort(c, http.StatusUnprocessableEntity, err.Error())
		return
	}
	scope := "write:follows"
	if kind == export.ImportBlocks {
		scope = "write:blocks"
	}
	if !grantsAny(currentToken(c), []string{scope}) {
		abort(c, http.StatusForbidden, "This action is outside the authorized scopes")
		return
	}
	file, err := formFile(c, "data")
	if err != nil {
		s.fail(c, err)
		return
	}
	if file == nil {
		abort(c, http.StatusUnprocessableEntity, "data: attach the CSV file")
		return
	}
	defer file.Close()
	report, err := RunImport(c.Request.Context(), s.community, currentAccount(c), kind, overwrite, file)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, report)
}

// ImportOptions reads an import's type (following, or blocking as Mastodon names it)
// and mode (merge, the default, or overwrite).
func ImportOptions(kind, mode string) (export.ImportKind, bool, error) {
	var k export.ImportKind
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "following":
		k = export.ImportFollowing
	case "blocking", "blocks":
		k = export.ImportBlocks
	default:
		return "", false, fmt.Errorf("type: %q is neither following nor blocking", kind)
	}
	switch strings.ToLower(strings.TrimSpace(mode)) {
	case "", "merge":
		return k, false, nil
	case "overwrite":
		return k, true, nil
	}
	return "", false, fmt.Errorf("mode: %q is neither merge nor overwrite", mode)
}

// RunImport reads one of Mastodon's CSV files and follows or blocks its accounts as
// owner; the API and the web app's import page share it. A file that cannot be read
// is refused whole, before anything changes.
func RunImport(ctx context.Context, c *community.Service, owner *community.Account, kind export.ImportKind, overwrite bool, file io.Reader) (ImportReport, error) {
	entries, err := export.ParseImport(kind, file)
	if err != nil {
		return ImportReport{}, community.Invalid("data: %s", err.Error())
	}
	var res community.ImportResult
	if kind == export.ImportFollowing {
		res, err = c.ImportFollows(ctx, owner, entries, overwrite)
	} else {
		res, err = c.ImportBlocks(ctx, owner, entries, overwrite)
	}
	report := ImportReport{Imported: res.Imported, Removed: res.Removed, Failed: []ImportFailure{}}
	for _, f := range res.Failed {
		report.Failed = append(report.Failed, ImportFailure{Address: f.Address, Reason: f.Reason})
	}
	return report, err
}
