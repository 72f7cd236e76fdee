package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/multiline/multiline/bridge"
)

const consumerCols = `id, name, language, route_hint, avatar_url, profiled_at`

func scanConsumer(r rowScanner, company bridge.CompanyID) (bridge.Consumer, error) {
	c := bridge.Consumer{Company: company}
	var profiled int64
	if err := r.Scan(&c.ID, &c.Name, &c.Language, &c.RouteHint, &c.AvatarURL, &profiled); err != nil {
		return bridge.Consumer{}, err
	}
	c.ProfiledAt = fromMicros(profiled)
	return c, nil
}

// Consumer reads a consumer; bridge.ErrNotFound if there is none.
func (t *tx) Consumer(ctx context.Context, company bridge.CompanyID, id bridge.ConsumerID) (bridge.Consumer, error) {
	rows, err := t.query(ctx, `SELECT `+consumerCols+` FROM consumers WHERE company = $1 AND id = $2`, company, id)
	if err != nil {
		return bridge.Consumer{}, fmt.Errorf("read consumer %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return bridge.Consumer{}, fmt.Errorf("read consumer %s: %w", id, err)
		}
		return bridge.Consumer{}, fmt.Errorf("%w: consumer %s", bridge.ErrNotFound, id)
	}
	c, err := scanConsumer(rows, company)
	if err != nil {
		return bridge.Consumer{}, fmt.Errorf("read consumer %s: %w", id, err)
	}
	return c, rows.Close()
}

// ConsumersByID reads the company's consumers with these ids in one query.
func (t *tx) ConsumersByID(ctx context.Context, company bridge.CompanyID, ids []bridge.ConsumerID) (map[bridge.ConsumerID]bridge.Consumer, error) {
	out := make(map[bridge.ConsumerID]bridge.Consumer, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, 0, len(ids)+1)
	args = append(args, company)
	for i, id := range ids {
		ph[i] = fmt.Sprintf("$%d", i+2)
		args = append(args, id)
	}
	rows, err := t.query(ctx, `SELECT `+consumerCols+` FROM consumers WHERE company = $1 AND id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read consumers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanConsumer(rows, company)
		if err != nil {
			return nil, fmt.Errorf("read consumers: %w", err)
		}
		out[c.ID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read consumers: %w", err)
	}
	return out, nil
}

// SaveConsumer inserts or updates a consumer.
func (t *tx) SaveConsumer(ctx context.Context, c bridge.Consumer) error {
	_, err := t.exec(ctx, `INSERT INTO consumers (company, `+consumerCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (company, id) DO UPDATE SET name = excluded.name, language = excluded.language, route_hint = excluded.route_hint,
  avatar_url = excluded.avatar_url, profiled_at = excluded.profiled_at`,
		c.Company, c.ID, c.Name, c.Language, c.RouteHint, c.AvatarURL, micros(c.ProfiledAt))
	if err != nil {
		return fmt.Errorf("save consumer %s: %w", c.ID, err)
	}
	return nil
}
