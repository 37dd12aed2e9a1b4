package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/aidawg/jarvis/app"
	"github.com/aidawg/jarvis/services/storage"
)

// Whether a command may create the database it opens.
const (
	readOnly = false
	mayWrite = true
)

// openDatabase opens the configured database and says on stderr which one it is. A command
// that only reads fails on a SQLite file that does not exist instead of creating an empty one,
// which is what running it from another folder than the server's would otherwise do.
func (c *cli) openDatabase(cmd *cobra.Command, writes bool) (*storage.DB, error) {
	cfg, err := c.config(cmd)
	if err != nil {
		return nil, err
	}
	return c.openConfiguredDatabase(cmd, cfg, writes)
}

// openConfiguredDatabase is openDatabase for a command that needs the settings too.
func (c *cli) openConfiguredDatabase(cmd *cobra.Command, cfg app.Config, writes bool) (*storage.DB, error) {
	created := ""
	if path, ok := storage.SQLiteFile(cfg.DatabaseURL, cfg.DataDir); ok {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if !writes {
				return nil, fmt.Errorf("no database at %s: name the server's with --data-dir, --database-url, "+
					"JARVIS_DATA_DIR or JARVIS_DATABASE_URL (or --config), or create it with jarvis migrate", path)
			}
			created = " (new)"
		}
	}
	db, _, err := app.OpenDatabase(cmd.Context(), cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c.stderr, "jarvis: using the %s database %s%s\n", db.Dialect, db.Location, created)
	return db, nil
}
