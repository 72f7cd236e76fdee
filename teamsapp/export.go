package teamsapp

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/archive"
)

// The archive export on the admin page (GET /api/v1/admin/archive/export):
// the same export `multiline archive export` writes (package archive), of
// the service's company, for a range of UTC days or for one thread, as a zip
// of EML files or as one JSON Lines file, streamed to the admin as it is
// read. An export reads the record and changes nothing, so, like the other
// reads of the admin page, it is logged with who asked for what, not
// recorded as an archive event (admin changes are).

// ArchiveStore is what the export reads: the archive's events and media
// (storage.DB implements it). Optional: Config.Archive.
type ArchiveStore interface {
	archive.Source
	archive.MediaSource
}

// maxExportDays bounds the days of one export asked for by dates: a typo in
// a year would otherwise read a century of days. The CLI has no such limit.
const maxExportDays = 3660

// exportContentType is the media type of each format's download.
var exportContentType = map[archive.Format]string{
	archive.FormatEML:   "application/zip",
	archive.FormatJSONL: "application/jsonl",
}

// adminExport answers GET /admin/archive/export?format=eml|jsonl&from=&to=&thread=
// (days inclusive, UTC; a thread alone exports all its days).
func (a *App) adminExport(c echo.Context) error {
	if a.cfg.Archive == nil {
		return jsonError(c, http.StatusNotImplemented, "The archive export is not available on this server; use `multiline archive export` on the server.")
	}
	ctx := c.Request().Context()
	q := c.QueryParams()
	f, err := archive.ParseFormat(q.Get("format"))
	if err != nil {
		return a.badExport(c, err)
	}
	o := a.cfg.ArchiveLabels
	o.Thread = strings.TrimSpace(q.Get("thread"))
	from, to := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	switch {
	case from == "" && to != "":
		return jsonError(c, http.StatusBadRequest, "from is needed with to")
	case from == "" && o.Thread == "":
		return jsonError(c, http.StatusBadRequest, "give the days (from, and to) or a thread")
	case from != "":
		if o.From, o.To, err = archive.ParseDays(from, to); err != nil {
			return a.badExport(c, err)
		}
		if o.To.Sub(o.From) >= maxExportDays*24*time.Hour {
			return jsonError(c, http.StatusBadRequest, "an export covers at most 3660 days; use `multiline archive export` for more")
		}
	}
	co, err := a.b.CompanySettings(ctx)
	if err != nil {
		return a.fail(c, err)
	}
	o.Company = string(co.ID)
	if err := o.Resolve(ctx, a.cfg.Archive); err != nil {
		if errors.Is(err, archive.ErrNoRecord) {
			return jsonError(c, http.StatusNotFound, "The archive has no record of this thread.")
		}
		return a.badExport(c, err)
	}

	by := principalOf(c).Identity.ObjectID
	name := o.FileName(f)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, exportContentType[f])
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	c.Response().WriteHeader(http.StatusOK)
	var n int
	if f == archive.FormatJSONL {
		n, err = archive.ExportJSONL(ctx, a.cfg.Archive, c.Response(), o)
	} else {
		n, err = archive.ExportZip(ctx, a.cfg.Archive, a.cfg.Archive, c.Response(), o)
	}
	if err != nil {
		// The answer has begun: all that is left is to break it off, so the
		// download fails instead of ending as a shorter file that looks whole.
		a.log.Error("tab admin: archive export failed", "by", by, "file", name, "after", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	a.log.Info("tab admin: archive exported", "by", by, "file", name, "format", f, "thread", o.Thread,
		"from", o.From.Format(archive.DayLayout), "to", o.To.Format(archive.DayLayout), "items", n)
	return nil
}

// badExport answers an export request the admin must fix with its reason.
func (a *App) badExport(c echo.Context, err error) error {
	if be, ok := errors.AsType[*archive.BadExportError](err); ok {
		return jsonError(c, http.StatusBadRequest, be.Reason)
	}
	return a.fail(c, err)
}
