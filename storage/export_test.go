package storage

import "database/sql"

// SQLForTest exposes the connection pool to tests that must write what no API
// writes (a newer schema version).
func (db *DB) SQLForTest() *sql.DB { return db.sql }
