package app

import (
	"context"
	"fmt"

	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/storage"
)

// OpenDatabase opens the configured database and brings its schema up to date: the
// application's tables and the job queue's. It returns the migrations it applied.
func OpenDatabase(ctx context.Context, cfg Config) (*storage.DB, []string, error) {
	var opts []storage.Option
	if cfg.Tracing {
		opts = append(opts, storage.Traced())
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, cfg.DataDir, opts...)
	if err != nil {
		return nil, nil, err
	}
	applied, err := db.Migrate(ctx)
	if err == nil {
		if err = jobs.Migrate(ctx, db); err != nil {
			err = fmt.Errorf("job queue migrations: %w", err)
		}
	}
	if err != nil {
		db.Close()
		return nil, applied, fmt.Errorf("migrate %s database: %w", db.Dialect, err)
	}
	return db, applied, nil
}
