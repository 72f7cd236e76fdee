package teamsapp

import (
	"net/http/httptest"

	"github.com/labstack/echo/v4"
)

type recorder struct {
	w   *httptest.ResponseRecorder
	ctx echo.Context
}

func newRecorder() recorder {
	w := httptest.NewRecorder()
	return recorder{w: w, ctx: echo.New().NewContext(httptest.NewRequest("GET", "/x", nil), w)}
}
