package teamsapp

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/lexicon"
)

// This file is the Lexicon section of the admin page: admins list, add, remove
// and test the company's lexicon (DLP) rules, as `multiline admin lexicon`
// does. Routes are under /api/v1/admin, so only admins reach them (403 for
// everyone else).

// LexiconAdmin manages the company's lexicon rules. *bridge.Service implements
// it; the tab uses it when Config.Bridge does (no wiring needed), and answers
// 404 otherwise.
type LexiconAdmin interface {
	LexiconRules(ctx context.Context) ([]bridge.LexiconRule, error)
	AddLexiconRule(ctx context.Context, r bridge.LexiconRule) error
	RemoveLexiconRule(ctx context.Context, name string) error
	TestLexicon(ctx context.Context, text string, try *lexicon.Rule) (outbound, inbound lexicon.Decision, err error)
}

var _ LexiconAdmin = (*bridge.Service)(nil)

// lexiconRuleJSON is a rule on the admin page.
type lexiconRuleJSON struct {
	Name      string `json:"name"`
	Pattern   string `json:"pattern"`
	Direction string `json:"direction"`
	Action    string `json:"action"`
	Enabled   bool   `json:"enabled"`
}

// lexiconTestJSON is the admin's test box: a text, and optionally a rule not saved yet.
type lexiconTestJSON struct {
	Text string           `json:"text"`
	Rule *lexiconRuleJSON `json:"rule,omitempty"`
}

// decisionJSON is what a text becomes in one direction.
type decisionJSON struct {
	Action  string   `json:"action"` // "" none, block, redact, flag
	Result  string   `json:"result"`
	Rules   []string `json:"rules"`
	Summary string   `json:"summary"`
}

func toDecisionJSON(d lexicon.Decision) decisionJSON {
	return decisionJSON{Action: string(d.Action), Result: d.Result, Rules: append([]string{}, d.RuleNames()...), Summary: d.Summary()}
}

func (a *App) lexicon(c echo.Context) (LexiconAdmin, bool) {
	l, ok := a.b.(LexiconAdmin)
	if !ok {
		_ = jsonError(c, http.StatusNotFound, "Lexicon rules are not available here.")
	}
	return l, ok
}

func (a *App) adminLexicon(c echo.Context) error {
	l, ok := a.lexicon(c)
	if !ok {
		return nil
	}
	rules, err := l.LexiconRules(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	out := []lexiconRuleJSON{}
	for _, r := range rules {
		out = append(out, lexiconRuleJSON{Name: r.Name, Pattern: r.Pattern, Direction: string(r.Direction), Action: string(r.Action), Enabled: r.Enabled})
	}
	return c.JSON(http.StatusOK, out)
}

// rule reads a rule as the page sends it; direction defaults to both.
func (in lexiconRuleJSON) rule() (lexicon.Rule, error) {
	if in.Direction == "" {
		in.Direction = string(lexicon.Both)
	}
	d, err := lexicon.ParseDirection(in.Direction)
	if err != nil {
		return lexicon.Rule{}, err
	}
	act, err := lexicon.ParseAction(in.Action)
	if err != nil {
		return lexicon.Rule{}, err
	}
	r := lexicon.Rule{Name: in.Name, Pattern: in.Pattern, Direction: d, Action: act}
	return r, r.Validate()
}

func (a *App) adminAddLexicon(c echo.Context) error {
	l, ok := a.lexicon(c)
	if !ok {
		return nil
	}
	in := lexiconRuleJSON{Enabled: true}
	if err := bindJSON(c, &in, `{"name": "…", "pattern": "RE2", "direction": "inbound|outbound|both", "action": "block|redact|flag"}`); err != nil {
		return bodyDone(err)
	}
	r, err := in.rule()
	if err != nil {
		return jsonError(c, http.StatusBadRequest, err.Error())
	}
	err = l.AddLexiconRule(adminContext(c), bridge.LexiconRule{Rule: r, Enabled: in.Enabled})
	var ve *lexicon.ValidationError
	switch {
	case errors.As(err, &ve):
		return jsonError(c, http.StatusBadRequest, ve.Error())
	case errors.Is(err, bridge.ErrLexiconRuleExists):
		return jsonError(c, http.StatusConflict, "A rule named "+r.Name+" exists already; remove it first.")
	case err != nil:
		return a.fail(c, err)
	}
	a.log.Info("tab admin: lexicon rule added", "by", principalOf(c).Identity.ObjectID, "rule", r.Name, "action", r.Action, "direction", r.Direction)
	return a.adminLexicon(c)
}

func (a *App) adminRemoveLexicon(c echo.Context) error {
	l, ok := a.lexicon(c)
	if !ok {
		return nil
	}
	name := c.Param("name")
	if err := l.RemoveLexiconRule(adminContext(c), name); err != nil {
		if errors.Is(err, bridge.ErrNotFound) {
			return jsonError(c, http.StatusNotFound, "No rule is named "+name+".")
		}
		return a.fail(c, err)
	}
	a.log.Info("tab admin: lexicon rule removed", "by", principalOf(c).Identity.ObjectID, "rule", name)
	return a.adminLexicon(c)
}

func (a *App) adminTestLexicon(c echo.Context) error {
	l, ok := a.lexicon(c)
	if !ok {
		return nil
	}
	var in lexiconTestJSON
	if err := bindJSON(c, &in, `{"text": "…", "rule": {"name": "…", "pattern": "…", "direction": "…", "action": "…"}}`); err != nil {
		return bodyDone(err)
	}
	var try *lexicon.Rule
	if in.Rule != nil && in.Rule.Pattern != "" {
		if in.Rule.Name == "" {
			in.Rule.Name = "tested rule"
		}
		r, err := in.Rule.rule()
		if err != nil {
			return jsonError(c, http.StatusBadRequest, err.Error())
		}
		try = &r
	}
	out, inb, err := l.TestLexicon(c.Request().Context(), in.Text, try)
	if err != nil {
		var ve *lexicon.ValidationError
		if errors.As(err, &ve) {
			return jsonError(c, http.StatusBadRequest, ve.Error())
		}
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]decisionJSON{"outbound": toDecisionJSON(out), "inbound": toDecisionJSON(inb)})
}
