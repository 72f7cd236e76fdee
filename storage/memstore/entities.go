package memstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/multiline/multiline/bridge"
)

// Values are copied in and out, so a caller changing a returned slice or map never
// changes the store.

func cloneCompany(c bridge.Company) bridge.Company {
	if c.Overrides != nil {
		o := make(bridge.Overrides, len(c.Overrides))
		for k, v := range c.Overrides {
			o[k] = maps.Clone(v)
		}
		c.Overrides = o
	}
	return c
}

func cloneThread(tr bridge.ThreadRecord) bridge.ThreadRecord {
	tr.Participants = slices.Clone(tr.Participants)
	tr.Queue = slices.Clone(tr.Queue)
	tr.InFlight = slices.Clone(tr.InFlight)
	return tr
}

func (t *tx) Company(_ context.Context, id bridge.CompanyID) (bridge.Company, error) {
	c, ok := t.s.companies[id]
	if !ok {
		return bridge.Company{}, fmt.Errorf("%w: company %s", bridge.ErrUnknownCompany, id)
	}
	return cloneCompany(c), nil
}

func (t *tx) SaveCompany(_ context.Context, c bridge.Company) error {
	put(t, t.s.companies, c.ID, cloneCompany(c))
	return nil
}

func (t *tx) Employee(_ context.Context, id bridge.EmployeeID) (bridge.Employee, error) {
	e, ok := t.s.employees[id]
	if !ok {
		return bridge.Employee{}, fmt.Errorf("%w: employee %s", bridge.ErrUnknownEmployee, id)
	}
	return e, nil
}

// employeeWhere returns the matching employee with the lowest id.
func (t *tx) employeeWhere(what string, match func(bridge.Employee) bool) (bridge.Employee, error) {
	var found *bridge.Employee
	for _, e := range t.s.employees {
		if match(e) && (found == nil || e.ID < found.ID) {
			found = &e
		}
	}
	if found == nil {
		return bridge.Employee{}, fmt.Errorf("%w: %s", bridge.ErrUnknownEmployee, what)
	}
	return *found, nil
}

func (t *tx) EmployeeByTeamsUser(_ context.Context, tenantID, teamsUserID string) (bridge.Employee, error) {
	return t.employeeWhere("Teams user "+teamsUserID, func(e bridge.Employee) bool {
		return teamsUserID != "" && e.TenantID == tenantID && e.TeamsUserID == teamsUserID
	})
}

func (t *tx) EmployeeByAAD(_ context.Context, tenantID, aadObjectID string) (bridge.Employee, error) {
	return t.employeeWhere("Entra user "+aadObjectID, func(e bridge.Employee) bool {
		return aadObjectID != "" && e.TenantID == tenantID && e.AADObjectID == aadObjectID
	})
}

func (t *tx) EmployeeByScene(_ context.Context, company bridge.CompanyID, scene string) (bridge.Employee, error) {
	return t.employeeWhere("contact scene "+scene, func(e bridge.Employee) bool {
		return scene != "" && e.Company == company && e.ContactScene == scene
	})
}

func (t *tx) Employees(_ context.Context, company bridge.CompanyID) ([]bridge.Employee, error) {
	var out []bridge.Employee
	for _, e := range t.s.employees {
		if e.Company == company {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b bridge.Employee) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (t *tx) SaveEmployee(_ context.Context, e bridge.Employee) error {
	if _, ok := t.s.companies[e.Company]; !ok {
		return fmt.Errorf("%w: employee %s of unknown company %s", ErrConstraint, e.ID, e.Company)
	}
	for _, o := range t.s.employees {
		if o.ID == e.ID {
			continue
		}
		if e.TeamsUserID != "" && o.TenantID == e.TenantID && o.TeamsUserID == e.TeamsUserID {
			return fmt.Errorf("%w: Teams user %s is employee %s already", ErrConstraint, e.TeamsUserID, o.ID)
		}
		if e.ContactScene != "" && o.Company == e.Company && o.ContactScene == e.ContactScene {
			return fmt.Errorf("%w: contact scene %s is employee %s's already", ErrConstraint, e.ContactScene, o.ID)
		}
	}
	put(t, t.s.employees, e.ID, e)
	return nil
}

// NextPoolEmployee routes in round robin like package storage: the company's
// turn counter picks, by number in id order, among the enabled employees Teams
// can reach, or among the blocked ones if nobody else is enabled.
func (t *tx) NextPoolEmployee(_ context.Context, company bridge.CompanyID, _ time.Time) (bridge.Employee, error) {
	var reachable, blocked []bridge.Employee
	for _, e := range t.s.employees {
		switch {
		case e.Company != company || !e.Enabled:
		case e.Blocked:
			blocked = append(blocked, e)
		default:
			reachable = append(reachable, e)
		}
	}
	group := reachable
	if len(group) == 0 {
		group = blocked
	}
	if len(group) == 0 {
		return bridge.Employee{}, fmt.Errorf("%w: pool employee of company %s", bridge.ErrUnknownEmployee, company)
	}
	turn := t.s.turns[company] + 1
	put(t, t.s.turns, company, turn)
	slices.SortFunc(group, func(a, b bridge.Employee) int { return cmp.Compare(a.ID, b.ID) })
	return group[turn%int64(len(group))], nil
}

// norm gives a time the precision and zone the SQL stores give back: UTC
// microseconds.
func norm(at time.Time) time.Time {
	if at.IsZero() {
		return time.Time{}
	}
	return at.Truncate(time.Microsecond).UTC()
}

func (t *tx) EmployeesByID(_ context.Context, ids []bridge.EmployeeID) ([]bridge.Employee, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]bridge.Employee, 0, len(ids))
	for _, id := range ids {
		e, ok := t.s.employees[id]
		if !ok {
			return nil, fmt.Errorf("%w: %s", bridge.ErrUnknownEmployee, id)
		}
		out = append(out, e)
	}
	return out, nil
}

func (t *tx) Consumer(_ context.Context, company bridge.CompanyID, id bridge.ConsumerID) (bridge.Consumer, error) {
	c, ok := t.s.consumers[consumerKey{company, string(id)}]
	if !ok {
		return bridge.Consumer{}, fmt.Errorf("%w: consumer %s", bridge.ErrNotFound, id)
	}
	return c, nil
}

func (t *tx) SaveConsumer(_ context.Context, c bridge.Consumer) error {
	if _, ok := t.s.companies[c.Company]; !ok {
		return fmt.Errorf("%w: consumer %s of unknown company %s", ErrConstraint, c.ID, c.Company)
	}
	c.ProfiledAt = norm(c.ProfiledAt)
	put(t, t.s.consumers, consumerKey{c.Company, string(c.ID)}, c)
	return nil
}

func (t *tx) LoadThread(_ context.Context, id bridge.ThreadID) (bridge.ThreadRecord, error) {
	tr, ok := t.s.threads[id]
	if !ok {
		return bridge.ThreadRecord{}, fmt.Errorf("%w: %s", bridge.ErrUnknownThread, id)
	}
	return cloneThread(tr), nil
}

// newerFirst orders threads by UpdatedAt descending, then id ascending.
func newerFirst(a, b bridge.ThreadRecord) int {
	return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(a.ID, b.ID))
}

func (t *tx) LiveThread(_ context.Context, company bridge.CompanyID, consumer bridge.ConsumerID) (bridge.ThreadID, error) {
	var best *bridge.ThreadRecord
	for _, tr := range t.s.threads {
		if tr.Company != company || tr.Consumer != consumer {
			continue
		}
		if best == nil || cmp.Or(tr.UpdatedAt.Compare(best.UpdatedAt), cmp.Compare(tr.ID, best.ID)) > 0 {
			best = &tr
		}
	}
	if best == nil {
		return "", fmt.Errorf("%w: thread of consumer %s", bridge.ErrUnknownThread, consumer)
	}
	return best.ID, nil
}

func (t *tx) ThreadByOptInScene(_ context.Context, company bridge.CompanyID, scene string) (bridge.ThreadID, error) {
	for _, tr := range t.s.threads {
		if scene != "" && tr.Company == company && tr.OptInScene == scene {
			return tr.ID, nil
		}
	}
	return "", fmt.Errorf("%w: opt-in scene %s", bridge.ErrUnknownThread, scene)
}

func (t *tx) SaveThread(_ context.Context, tr bridge.ThreadRecord) error {
	if _, ok := t.s.companies[tr.Company]; !ok {
		return fmt.Errorf("%w: thread %s of unknown company %s", ErrConstraint, tr.ID, tr.Company)
	}
	if tr.OptInScene != "" {
		for _, o := range t.s.threads {
			if o.ID != tr.ID && o.Company == tr.Company && o.OptInScene == tr.OptInScene {
				return fmt.Errorf("%w: opt-in scene %s is thread %s's already", ErrConstraint, tr.OptInScene, o.ID)
			}
		}
	}
	tr = cloneThread(tr)
	if old, ok := t.s.threads[tr.ID]; ok {
		tr.CreatedAt = old.CreatedAt // as the SQL upsert: created_at is set once
	}
	tr.CreatedAt, tr.UpdatedAt = norm(tr.CreatedAt), norm(tr.UpdatedAt)
	put(t, t.s.threads, tr.ID, tr)
	return nil
}

func (t *tx) ThreadsOf(_ context.Context, e bridge.EmployeeID) ([]bridge.ThreadRecord, error) {
	var out []bridge.ThreadRecord
	for _, tr := range t.s.threads {
		if tr.IsParticipant(e) {
			out = append(out, cloneThread(tr))
		}
	}
	slices.SortFunc(out, newerFirst)
	return out, nil
}
