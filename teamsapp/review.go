package teamsapp

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// The compliance review API (/api/v1/review/…): reviewers read every thread's
// archive record, read-only, search them, and clear the queue of lexicon
// flags with a comment. Only reviewers may call it; an employee who is not
// one gets 403, so employees never see the archive. Nothing here sends: a
// reviewer who is not also an enabled employee gets 403 on every send route
// (requireEmployee), and being a reviewer adds no right to any thread's inbox.

// ReviewDesk is what review needs of the domain; *bridge.Service implements it
// once the store's review side is attached (bridge.Service.AttachReviews).
type ReviewDesk interface {
	// ReviewThreads searches every thread of the company.
	ReviewThreads(ctx context.Context, q bridge.ReviewQuery) ([]bridge.ReviewThread, error)
	// ThreadRecord is one thread's whole archive chain.
	ThreadRecord(ctx context.Context, t bridge.ThreadID) ([]archive.Event, error)
	// Flagged is the queue of lexicon flags not reviewed yet.
	Flagged(ctx context.Context) ([]bridge.FlaggedItem, error)
	// MarkReviewed records a review of a flagged event, with a comment.
	MarkReviewed(ctx context.Context, reviewer archive.Party, t bridge.ThreadID, seq int64, comment string) error
}

var _ ReviewDesk = (*bridge.Service)(nil)

const msgNotReviewer = "Only compliance reviewers may read the archive."

// requireReviewer lets through the compliance reviewers (principal.Reviewer).
// A reviewer need not be an employee.
func (a *App) requireReviewer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !principalOf(c).Reviewer {
			return jsonError(c, http.StatusForbidden, msgNotReviewer)
		}
		if a.review == nil {
			return jsonError(c, http.StatusServiceUnavailable, "Review is not available on this server.")
		}
		return next(c)
	}
}

// reviewRoutes mounts the review API on api (/api/v1).
func (a *App) reviewRoutes(api *echo.Group, mw ...echo.MiddlewareFunc) {
	rev := api.Group("/review", append(mw, a.authenticate, a.requireReviewer)...)
	rev.GET("/threads", a.reviewThreads)
	rev.GET("/threads/:id", a.reviewThread)
	rev.GET("/flagged", a.reviewFlagged)
	rev.POST("/threads/:id/events/:seq/review", a.reviewMark)
}

// reviewDay parses a YYYY-MM-DD query parameter (UTC); empty is zero.
func reviewDay(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(archive.DayLayout, v)
	if err != nil {
		return time.Time{}, errors.New(name + " must be a date, YYYY-MM-DD")
	}
	return d, nil
}

// reviewThreads answers GET /review/threads?q=&consumer=&employee=&from=&to=
// (dates inclusive, UTC).
func (a *App) reviewThreads(c echo.Context) error {
	from, err := reviewDay(c, "from")
	if err != nil {
		return jsonError(c, http.StatusBadRequest, err.Error())
	}
	to, err := reviewDay(c, "to")
	if err != nil {
		return jsonError(c, http.StatusBadRequest, err.Error())
	}
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1)
	}
	list, err := a.review.ReviewThreads(c.Request().Context(), bridge.ReviewQuery{Text: c.QueryParam("q"),
		Consumer: c.QueryParam("consumer"), Employee: bridge.EmployeeID(c.QueryParam("employee")), From: from, To: to})
	if err != nil {
		return a.fail(c, err)
	}
	if list == nil {
		list = []bridge.ReviewThread{}
	}
	return c.JSON(http.StatusOK, list)
}

// reviewRecordJSON is a thread's record for a reviewer: its chain as stored
// (bodies are null once retention purged them).
type reviewRecordJSON struct {
	Thread bridge.ThreadID `json:"thread"`
	Events []archive.Event `json:"events"`
}

func (a *App) reviewThread(c echo.Context) error {
	t := bridge.ThreadID(c.Param("id"))
	evs, err := a.review.ThreadRecord(c.Request().Context(), t)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, reviewRecordJSON{Thread: t, Events: evs})
}

func (a *App) reviewFlagged(c echo.Context) error {
	items, err := a.review.Flagged(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, items)
}

// reviewMarkJSON is the body of a review: the reviewer's comment.
type reviewMarkJSON struct {
	Comment string `json:"comment"`
}

func (a *App) reviewMark(c echo.Context) error {
	seq, err := strconv.ParseInt(c.Param("seq"), 10, 64)
	if err != nil || seq < 1 {
		return jsonError(c, http.StatusBadRequest, "seq must be an event number")
	}
	var in reviewMarkJSON
	if err := bindJSON(c, &in, `{"comment": "…"}`); err != nil {
		return bodyDone(err)
	}
	p := principalOf(c)
	who := archive.Party{Role: archive.RoleReviewer, ID: p.Identity.ObjectID, Name: p.Identity.Name, Address: p.Identity.UPN}
	if who.Name == "" {
		who.Name = p.Employee.Name
	}
	if err := a.review.MarkReviewed(c.Request().Context(), who, bridge.ThreadID(c.Param("id")), seq, in.Comment); err != nil {
		if errors.Is(err, bridge.ErrNotFlagged) {
			return jsonError(c, http.StatusConflict, "This item is not in the flagged queue (it may have been reviewed already).")
		}
		return a.fail(c, err)
	}
	a.log.Info("tab review: flagged item reviewed", "by", p.Identity.ObjectID, "thread", c.Param("id"), "seq", seq)
	return c.NoContent(http.StatusNoContent)
}
