package storage

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/multiline/multiline/bridge"
)

// Company reads a company; ErrUnknownCompany if there is none.
func (t *tx) Company(ctx context.Context, id bridge.CompanyID) (bridge.Company, error) {
	c := bridge.Company{ID: id}
	var policy, overrides string
	err := t.scanOne(ctx, bridge.ErrUnknownCompany, "company "+string(id),
		`SELECT name, tenant_id, policy, overrides, language FROM companies WHERE id = $1`,
		[]any{id}, &c.Name, &c.TenantID, &policy, &overrides, &c.Language)
	if err != nil {
		return bridge.Company{}, err
	}
	if err := json.Unmarshal([]byte(policy), &c.Policy); err != nil {
		return bridge.Company{}, fmt.Errorf("company %s policy: %w", id, err)
	}
	if err := json.Unmarshal([]byte(overrides), &c.Overrides); err != nil {
		return bridge.Company{}, fmt.Errorf("company %s notice overrides: %w", id, err)
	}
	return c, nil
}

// SaveCompany inserts or replaces a company.
func (t *tx) SaveCompany(ctx context.Context, c bridge.Company) error {
	policy, err := json.Marshal(c.Policy)
	if err != nil {
		return fmt.Errorf("encode policy: %w", err)
	}
	overrides, err := json.Marshal(c.Overrides)
	if err != nil {
		return fmt.Errorf("encode notice overrides: %w", err)
	}
	_, err = t.exec(ctx, `INSERT INTO companies (id, name, tenant_id, policy, overrides, language)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, tenant_id = excluded.tenant_id,
  policy = excluded.policy, overrides = excluded.overrides, language = excluded.language`,
		c.ID, c.Name, c.TenantID, string(policy), string(overrides), c.Language)
	if err != nil {
		return fmt.Errorf("save company %s: %w", c.ID, err)
	}
	return nil
}
