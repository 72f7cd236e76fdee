package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/multiline/multiline/bridge"
)

// Employee rows are read without a row lock: routing, deliveries and the
// employees' own events read them inside transactions that lock threads, and
// a read lock there is what made pages and deliveries deadlock (storage/doc.go,
// "Locks"). A transaction that writes an employee it read instead checks the
// row's version: if another transaction changed the row in between, SaveEmployee
// fails with errEmployeeChanged and Tx runs the whole transaction again, so no
// change is lost.

const employeeCols = `id, company, tenant_id, teams_user_id, aad_object_id, name, enabled, locale, conversation, blocked, blocked_reason, contact_scene, contact_link, focus, upn`

// employeeRead is what employee reads select: the columns and the row's version.
const employeeRead = employeeCols + `, version`

// errEmployeeChanged: the employee row changed since this transaction read it.
// Tx treats it like a serialization failure and runs the transaction again.
var errEmployeeChanged = errors.New("employee changed since this transaction read it")

type rowScanner interface{ Scan(dest ...any) error }

func scanEmployee(r rowScanner) (bridge.Employee, int64, error) {
	var e bridge.Employee
	var conv string
	var version int64
	if err := r.Scan(&e.ID, &e.Company, &e.TenantID, &e.TeamsUserID, &e.AADObjectID, &e.Name,
		&e.Enabled, &e.Locale, &conv, &e.Blocked, &e.BlockedReason, &e.ContactScene, &e.ContactLink, &e.Focus, &e.UPN, &version); err != nil {
		return bridge.Employee{}, 0, err
	}
	if err := json.Unmarshal([]byte(conv), &e.Conversation); err != nil {
		return bridge.Employee{}, 0, fmt.Errorf("employee %s conversation: %w", e.ID, err)
	}
	return e, version, nil
}

// readEmployee scans one employee row and remembers the version this
// transaction saw first, which SaveEmployee checks.
func (t *tx) readEmployee(r rowScanner) (bridge.Employee, error) {
	e, version, err := scanEmployee(r)
	if err != nil {
		return bridge.Employee{}, err
	}
	if t.employees == nil {
		t.employees = map[bridge.EmployeeID]int64{}
	}
	if _, seen := t.employees[e.ID]; !seen {
		t.employees[e.ID] = version
	}
	return e, nil
}

func (t *tx) employeeWhere(ctx context.Context, what, where string, args ...any) (bridge.Employee, error) {
	return t.oneEmployee(ctx, what, `SELECT `+employeeRead+` FROM employees WHERE `+where, args...)
}

// oneEmployee runs a query for one employee row; none is ErrUnknownEmployee.
func (t *tx) oneEmployee(ctx context.Context, what, query string, args ...any) (bridge.Employee, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return bridge.Employee{}, fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return bridge.Employee{}, fmt.Errorf("read %s: %w", what, err)
		}
		return bridge.Employee{}, fmt.Errorf("%w: %s", bridge.ErrUnknownEmployee, what)
	}
	e, err := t.readEmployee(rows)
	if err != nil {
		return bridge.Employee{}, fmt.Errorf("read %s: %w", what, err)
	}
	return e, rows.Close()
}

// Employee reads an employee, enabled or not.
func (t *tx) Employee(ctx context.Context, id bridge.EmployeeID) (bridge.Employee, error) {
	return t.employeeWhere(ctx, "employee "+string(id), `id = $1`, id)
}

// EmployeeByTeamsUser finds an employee by Teams identity, enabled or not (the
// caller decides what a disabled one may do).
func (t *tx) EmployeeByTeamsUser(ctx context.Context, tenantID, teamsUserID string) (bridge.Employee, error) {
	if teamsUserID == "" {
		return bridge.Employee{}, fmt.Errorf("%w: empty Teams user id", bridge.ErrUnknownEmployee)
	}
	return t.employeeWhere(ctx, "Teams user "+teamsUserID,
		`tenant_id = $1 AND teams_user_id = $2`, tenantID, teamsUserID)
}

// EmployeeByAAD finds an employee by Entra tenant and object id, enabled or not.
func (t *tx) EmployeeByAAD(ctx context.Context, tenantID, aadObjectID string) (bridge.Employee, error) {
	if aadObjectID == "" {
		return bridge.Employee{}, fmt.Errorf("%w: empty Entra object id", bridge.ErrUnknownEmployee)
	}
	return t.employeeWhere(ctx, "Entra user "+aadObjectID,
		`tenant_id = $1 AND aad_object_id = $2 ORDER BY id LIMIT 1`, tenantID, aadObjectID)
}

// Employees lists the company's employees by name.
func (t *tx) Employees(ctx context.Context, company bridge.CompanyID) ([]bridge.Employee, error) {
	rows, err := t.query(ctx, `SELECT `+employeeRead+` FROM employees WHERE company = $1 ORDER BY name, id`, company)
	if err != nil {
		return nil, fmt.Errorf("employees of %s: %w", company, err)
	}
	defer rows.Close()
	var out []bridge.Employee
	for rows.Next() {
		e, err := t.readEmployee(rows)
		if err != nil {
			return nil, fmt.Errorf("employees of %s: %w", company, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("employees of %s: %w", company, err)
	}
	return out, nil
}

// EmployeeByScene finds the employee whose personal contact link has scene.
func (t *tx) EmployeeByScene(ctx context.Context, company bridge.CompanyID, scene string) (bridge.Employee, error) {
	if scene == "" {
		return bridge.Employee{}, fmt.Errorf("%w: empty contact scene", bridge.ErrUnknownEmployee)
	}
	return t.employeeWhere(ctx, "contact scene "+scene, `company = $1 AND contact_scene = $2`, company, scene)
}

// SaveEmployee inserts or updates an employee. If this transaction read the
// employee, the update applies only to the row as it was read: a row another
// transaction changed meanwhile fails with errEmployeeChanged, and Tx runs the
// transaction again on the new row (without this, reading without a lock would
// let two changes to one employee, say a new focus and an unreachable mark,
// overwrite each other).
func (t *tx) SaveEmployee(ctx context.Context, e bridge.Employee) error {
	conv, err := json.Marshal(e.Conversation)
	if err != nil {
		return fmt.Errorf("encode conversation: %w", err)
	}
	args := []any{e.ID, e.Company, e.TenantID, e.TeamsUserID, e.AADObjectID, e.Name, e.Enabled, e.Locale,
		string(conv), e.Blocked, e.BlockedReason, e.ContactScene, e.ContactLink, e.Focus, e.UPN}
	if version, read := t.employees[e.ID]; read {
		res, err := t.exec(ctx, `UPDATE employees SET company = $2, tenant_id = $3, teams_user_id = $4, aad_object_id = $5,
  name = $6, enabled = $7, locale = $8, conversation = $9, blocked = $10, blocked_reason = $11,
  contact_scene = $12, contact_link = $13, focus = $14, upn = $15, version = version + 1
WHERE id = $1 AND version = $16`, append(args, version)...)
		if err := affected(res, err, errEmployeeChanged, "employee "+string(e.ID)); err != nil {
			return fmt.Errorf("save employee %s: %w", e.ID, err)
		}
		t.employees[e.ID] = version + 1
		return nil
	}
	var version int64
	err = t.scanOne(ctx, bridge.ErrUnknownEmployee, "employee "+string(e.ID), `INSERT INTO employees (`+employeeCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (id) DO UPDATE SET company = excluded.company, tenant_id = excluded.tenant_id,
  teams_user_id = excluded.teams_user_id, aad_object_id = excluded.aad_object_id,
  name = excluded.name, enabled = excluded.enabled, locale = excluded.locale,
  conversation = excluded.conversation, blocked = excluded.blocked, blocked_reason = excluded.blocked_reason,
  contact_scene = excluded.contact_scene, contact_link = excluded.contact_link, focus = excluded.focus,
  upn = excluded.upn, version = employees.version + 1
RETURNING version`, args, &version)
	if err != nil {
		return fmt.Errorf("save employee %s: %w", e.ID, err)
	}
	if t.employees == nil {
		t.employees = map[bridge.EmployeeID]int64{}
	}
	t.employees[e.ID] = version
	return nil
}

// poolPick selects the pool employee for ticket $3: the enabled employees of
// the company, those Teams can reach first (blocked last), are numbered by id
// in each group, and the one numbered ticket mod the group's size is taken. No
// employee row is locked or written.
const poolPick = `SELECT ` + employeeRead + ` FROM (
  SELECT *, row_number() OVER (PARTITION BY blocked ORDER BY id) - 1 AS pos, count(*) OVER (PARTITION BY blocked) AS size
  FROM employees WHERE company = $1 AND enabled = $2
) pool WHERE pos = CAST($3 AS BIGINT) % size ORDER BY blocked LIMIT 1`

// NextPoolEmployee routes in round robin over the company's enabled employees,
// preferring those Teams can reach. The turn comes from a counter that is
// taken without waiting and is never held for the rest of the transaction: on
// PostgreSQL a sequence (nextval neither locks nor rolls back; one sequence
// serves every company of the database, so with several companies each one's
// turns advance by the others' routings too, which keeps the spread even but
// not strictly in turn), on SQLite a per-company counter row (the write
// transaction holds the database anyway). Employee rows are only read, so a
// page that routes hundreds of new consumers holds no employee lock.
func (t *tx) NextPoolEmployee(ctx context.Context, company bridge.CompanyID, _ time.Time) (bridge.Employee, error) {
	var ticket int64
	var err error
	if t.db.dialect == dialectPostgres {
		err = t.scanOne(ctx, bridge.ErrNotFound, "routing ticket", `SELECT nextval('route_seq')`, nil, &ticket)
	} else {
		err = t.scanOne(ctx, bridge.ErrNotFound, "routing ticket", `INSERT INTO route_counters (company, n) VALUES ($1, 1)
ON CONFLICT (company) DO UPDATE SET n = route_counters.n + 1 RETURNING n`, []any{company}, &ticket)
	}
	if err != nil {
		return bridge.Employee{}, err
	}
	return t.oneEmployee(ctx, "pool employee of company "+string(company), poolPick, company, true, ticket)
}

// EmployeesByID reads employees in the order of ids; missing ones are an error.
func (t *tx) EmployeesByID(ctx context.Context, ids []bridge.EmployeeID) ([]bridge.Employee, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i] = fmt.Sprintf("$%d", i+1)
		args[i] = id
	}
	rows, err := t.query(ctx, `SELECT `+employeeRead+` FROM employees WHERE id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read employees: %w", err)
	}
	defer rows.Close()
	byID := make(map[bridge.EmployeeID]bridge.Employee, len(ids))
	for rows.Next() {
		e, err := t.readEmployee(rows)
		if err != nil {
			return nil, fmt.Errorf("read employees: %w", err)
		}
		byID[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read employees: %w", err)
	}
	out := make([]bridge.Employee, 0, len(ids))
	for _, id := range ids {
		e, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("%w: %s", bridge.ErrUnknownEmployee, id)
		}
		out = append(out, e)
	}
	return out, nil
}
