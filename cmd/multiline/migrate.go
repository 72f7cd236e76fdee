package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/multiline/multiline/storage"
)

// openMigrated opens MULTILINE_DATABASE_URL (SQLite under ./data by default) and
// brings its schema up to date, for the commands that work on the database alone.
func openMigrated(ctx context.Context) (*storage.DB, error) {
	url := strings.TrimSpace(os.Getenv("MULTILINE_DATABASE_URL"))
	if url == "" {
		url = "sqlite:./data/multiline.db"
	}
	db, err := storage.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations (serve also applies them at start-up)",
		RunE: func(c *cobra.Command, _ []string) error {
			db, err := openMigrated(c.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			have, binary, err := db.SchemaVersion(c.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "database schema at version %d (binary supports %d)\n", have, binary)
			return nil
		},
	}
}
