package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/multiline/multiline/bridge"
)

const employeeCols = `id, company, tenant_id, teams_user_id, aad_object_id, name, enabled, locale, conversation, blocked, blocked_reason, contact_scene, contact_link, focus`

type rowScanner interface{ Scan(dest ...any) error }

func scanEmployee(r rowScanner) (bridge.Employee, error) {
	var e bridge.Employee
	var conv string
	if err := r.Scan(&e.ID, &e.Company, &e.TenantID, &e.TeamsUserID, &e.AADObjectID, &e.Name,
		&e.Enabled, &e.Locale, &conv, &e.Blocked, &e.BlockedReason, &e.ContactScene, &e.ContactLink, &e.Focus); err != nil {
		return bridge.Employee{}, err
	}
	if err := json.Unmarshal([]byte(conv), &e.Conversation); err != nil {
		return bridge.Employee{}, fmt.Errorf("employee %s conversation: %w", e.ID, err)
	}
	return e, nil
}

func (t *tx) employeeWhere(ctx context.Context, what, where string, args ...any) (bridge.Employee, error) {
	rows, err := t.query(ctx, `SELECT `+employeeCols+` FROM employees WHERE `+where+t.db.lock, args...)
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
	e, err := scanEmployee(rows)
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
	rows, err := t.query(ctx, `SELECT `+employeeCols+` FROM employees WHERE company = $1 ORDER BY name, id`, company)
	if err != nil {
		return nil, fmt.Errorf("employees of %s: %w", company, err)
	}
	defer rows.Close()
	var out []bridge.Employee
	for rows.Next() {
		e, err := scanEmployee(rows)
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

// SaveEmployee inserts or updates an employee. It keeps the round-robin position,
// which Employee does not carry.
func (t *tx) SaveEmployee(ctx context.Context, e bridge.Employee) error {
	conv, err := json.Marshal(e.Conversation)
	if err != nil {
		return fmt.Errorf("encode conversation: %w", err)
	}
	_, err = t.exec(ctx, `INSERT INTO employees (`+employeeCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO UPDATE SET company = excluded.company, tenant_id = excluded.tenant_id,
  teams_user_id = excluded.teams_user_id, aad_object_id = excluded.aad_object_id,
  name = excluded.name, enabled = excluded.enabled, locale = excluded.locale,
  conversation = excluded.conversation, blocked = excluded.blocked, blocked_reason = excluded.blocked_reason,
  contact_scene = excluded.contact_scene, contact_link = excluded.contact_link, focus = excluded.focus`,
		e.ID, e.Company, e.TenantID, e.TeamsUserID, e.AADObjectID, e.Name, e.Enabled, e.Locale,
		string(conv), e.Blocked, e.BlockedReason, e.ContactScene, e.ContactLink, e.Focus)
	if err != nil {
		return fmt.Errorf("save employee %s: %w", e.ID, err)
	}
	return nil
}

// NextPoolEmployee picks the enabled employee routed to least recently, preferring
// those Teams can reach, and marks them routed at now.
func (t *tx) NextPoolEmployee(ctx context.Context, company bridge.CompanyID, now time.Time) (bridge.Employee, error) {
	e, err := t.employeeWhere(ctx, "pool employee of company "+string(company),
		`company = $1 AND enabled = $2 ORDER BY blocked, last_routed_at, id LIMIT 1`, company, true)
	if err != nil {
		return bridge.Employee{}, err
	}
	if _, err := t.exec(ctx, `UPDATE employees SET last_routed_at = $1 WHERE id = $2`, micros(now), e.ID); err != nil {
		return bridge.Employee{}, fmt.Errorf("mark employee %s routed: %w", e.ID, err)
	}
	return e, nil
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
	rows, err := t.query(ctx, `SELECT `+employeeCols+` FROM employees WHERE id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read employees: %w", err)
	}
	defer rows.Close()
	byID := make(map[bridge.EmployeeID]bridge.Employee, len(ids))
	for rows.Next() {
		e, err := scanEmployee(rows)
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
