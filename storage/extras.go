package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// This file holds what the bridge needs beside bridge.Store: the WeChat access
// token cache shared by replicas, stored media, and a view of the job queue.

// Token reads a cached access token and when it expires; bridge.ErrNotFound if
// none was stored. An expired token is returned too: the caller decides how close
// to expiry it renews.
func (db *DB) Token(ctx context.Context, key string) (token string, expires time.Time, err error) {
	var exp int64
	err = db.reads().QueryRowContext(ctx, `SELECT token, expires_at FROM tokens WHERE key = $1`, key).Scan(&token, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, fmt.Errorf("%w: token %s", bridge.ErrNotFound, key)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("read token %s: %w", key, err)
	}
	return token, fromMicros(exp), nil
}

// PutToken stores an access token until expires, replacing the key's previous one.
func (db *DB) PutToken(ctx context.Context, key, token string, expires time.Time) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO tokens (key, token, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at`, key, token, micros(expires))
	if err != nil {
		return fmt.Errorf("save token %s: %w", key, err)
	}
	return nil
}

// PutMedia stores an attachment and returns its new ref (random, URL-safe).
func (db *DB) PutMedia(ctx context.Context, company, contentType, fileName string, data []byte) (string, error) {
	ref := NewMediaRef()
	if data == nil {
		data = []byte{}
	}
	// The hash the archive records is computed here, outside any transaction.
	sum := archive.Sum(data)
	_, err := db.sql.ExecContext(ctx, `INSERT INTO media (ref, company, content_type, file_name, bytes, size, created_at, sha256)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, ref, company, contentType, fileName, data, len(data), micros(time.Now()), sum.String())
	if err != nil {
		return "", fmt.Errorf("store media %s: %w", fileName, err)
	}
	return ref, nil
}

// Media reads an attachment; bridge.ErrNotFound if there is none.
func (db *DB) Media(ctx context.Context, ref string) (contentType, fileName string, data []byte, err error) {
	err = db.reads().QueryRowContext(ctx, `SELECT content_type, file_name, bytes FROM media WHERE ref = $1`, ref).
		Scan(&contentType, &fileName, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil, fmt.Errorf("%w: media %s", bridge.ErrNotFound, ref)
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("read media %s: %w", ref, err)
	}
	return contentType, fileName, data, nil
}

// NewMediaRef returns a fresh media ref: 22 characters of [0-9a-zA-Z_-], short
// enough for a URL path and MediaRef.
func NewMediaRef() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// PendingJobs lists the live jobs whose lane starts with lanePrefix ("" for all),
// in id order, claimed or not: for tests, metrics and the service's own checks.
// Dead jobs are not pending; Jobs lists them.
func (db *DB) PendingJobs(ctx context.Context, lanePrefix string) ([]bridge.Job, error) {
	rows, err := db.reads().QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs
WHERE lane LIKE $1 ESCAPE '\' AND dead_at = 0 ORDER BY id`, likePrefix(lanePrefix))
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return collectJobs(rows)
}

// collectJobs reads rows of jobColumns and closes them.
func collectJobs(rows *sql.Rows) ([]bridge.Job, error) {
	defer rows.Close()
	var out []bridge.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return out, nil
}

// likePrefix escapes LIKE's wildcards so that prefix matches literally.
func likePrefix(prefix string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(prefix) + "%"
}
