package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/multiline/multiline/storage"
)

func migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations (serve also applies them at start-up)",
		RunE: func(c *cobra.Command, _ []string) error {
			url := strings.TrimSpace(os.Getenv("MULTILINE_DATABASE_URL"))
			if url == "" {
				url = "sqlite:./data/multiline.db"
			}
			db, err := storage.Open(c.Context(), url)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Migrate(c.Context()); err != nil {
				return err
			}
			have, binary, err := db.SchemaVersion(c.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "database schema at version %d (binary supports %d)\n", have, binary)
			return nil
		},
	}
}
