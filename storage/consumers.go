package storage

import (
	"context"
	"fmt"

	"github.com/multiline/multiline/bridge"
)

// Consumer reads a consumer; bridge.ErrNotFound if there is none.
func (t *tx) Consumer(ctx context.Context, company bridge.CompanyID, id bridge.ConsumerID) (bridge.Consumer, error) {
	c := bridge.Consumer{Company: company, ID: id}
	err := t.scanOne(ctx, bridge.ErrNotFound, "consumer "+string(id),
		`SELECT name, language, route_hint FROM consumers WHERE company = $1 AND id = $2`,
		[]any{company, id}, &c.Name, &c.Language, &c.RouteHint)
	return c, err
}

// SaveConsumer inserts or updates a consumer.
func (t *tx) SaveConsumer(ctx context.Context, c bridge.Consumer) error {
	_, err := t.exec(ctx, `INSERT INTO consumers (company, id, name, language, route_hint) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (company, id) DO UPDATE SET name = excluded.name, language = excluded.language, route_hint = excluded.route_hint`,
		c.Company, c.ID, c.Name, c.Language, c.RouteHint)
	if err != nil {
		return fmt.Errorf("save consumer %s: %w", c.ID, err)
	}
	return nil
}
