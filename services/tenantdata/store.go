// Package tenantdata holds an artist's data, owned per tenant and imported by the user: daily
// platform metrics, campaigns and their daily results, listeners and their daily activity,
// feedback and competitors. Every query is filtered by tenant. Files are imported whole or not
// at all (import.go); the aggregates the modules answer from are computed by the database.
package tenantdata

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services/storage"
)

// Store is the tenant data in the Jarvis database.
type Store struct {
	db  *storage.DB
	now func() time.Time
}

// NewStore returns the store over db.
func NewStore(db *storage.DB) *Store {
	return &Store{db: db, now: time.Now}
}

// WithClock makes the store stamp records with now's time instead of the wall clock.
func (s *Store) WithClock(now func() time.Time) *Store {
	s.now = now
	return s
}

func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// The datasets a tenant's data can come from.
const (
	DatasetDemo     = "demo"     // the synthetic artist of LoadDemo
	DatasetImported = "imported" // the tenant's own files
	DatasetMixed    = "mixed"    // files imported over the demo
)

// markImported records that the tenant's own data was imported.
func markImported(ctx context.Context, tx *sql.Tx, tenant string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO tenant_datasets (tenant, dataset, loaded_at) VALUES ($1, $2, $3)
		ON CONFLICT (tenant) DO UPDATE SET dataset = $4, loaded_at = excluded.loaded_at
		WHERE tenant_datasets.dataset = $5`, tenant, DatasetImported, now.UnixMilli(), DatasetMixed, DatasetDemo)
	return err
}

// KindCoverage is how much of one kind a tenant holds.
type KindCoverage struct {
	Kind Kind   `json:"kind"`
	Rows int64  `json:"rows"`
	From string `json:"from,omitempty"` // first and last date (UTC), when there are rows
	To   string `json:"to,omitempty"`
}

// Coverage is what data a tenant holds, per kind in the order of Kinds.
type Coverage struct {
	Tenant  string         `json:"tenant"`
	Dataset string         `json:"dataset,omitempty"` // demo, imported or mixed; empty when none
	Kinds   []KindCoverage `json:"kinds"`
}

// Rows is the number of rows of every kind.
func (c Coverage) Rows() int64 {
	var n int64
	for _, k := range c.Kinds {
		n += k.Rows
	}
	return n
}

// Of is the coverage of one kind.
func (c Coverage) Of(k Kind) KindCoverage {
	for _, kc := range c.Kinds {
		if kc.Kind == k {
			return kc
		}
	}
	return KindCoverage{Kind: k}
}

// Dataset says where tenant's data came from: DatasetDemo, DatasetImported, DatasetMixed, or
// "" when it holds none.
func (s *Store) Dataset(ctx context.Context, tenant string) (string, error) {
	var d string
	err := s.db.QueryRowContext(ctx, `SELECT dataset FROM tenant_datasets WHERE tenant = $1`, tenant).Scan(&d)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return d, err
}

// Coverage counts a tenant's rows of each kind and their date range.
func (s *Store) Coverage(ctx context.Context, tenant string) (Coverage, error) {
	c := Coverage{Tenant: tenant, Kinds: make([]KindCoverage, 0, len(Kinds))}
	err := s.db.QueryRowContext(ctx, `SELECT dataset FROM tenant_datasets WHERE tenant = $1`, tenant).Scan(&c.Dataset)
	if err != nil && err != sql.ErrNoRows {
		return c, err
	}
	for _, k := range Kinds {
		def := kindDefs[k]
		kc := KindCoverage{Kind: k}
		if def.dateCol == "at" {
			var from, to sql.NullInt64
			err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(at), MAX(at) FROM `+def.table+` WHERE tenant = $1`, tenant).
				Scan(&kc.Rows, &from, &to)
			if from.Valid {
				kc.From = time.UnixMilli(from.Int64).UTC().Format(time.DateOnly)
				kc.To = time.UnixMilli(to.Int64).UTC().Format(time.DateOnly)
			}
		} else {
			var from, to sql.NullString
			err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(`+def.dateCol+`), MAX(`+def.dateCol+`) FROM `+def.table+
				` WHERE tenant = $1`, tenant).Scan(&kc.Rows, &from, &to)
			kc.From, kc.To = from.String, to.String
		}
		if err != nil {
			return c, fmt.Errorf("coverage of %s: %w", k, err)
		}
		c.Kinds = append(c.Kinds, kc)
	}
	return c, nil
}

// Export writes tenant's rows of kind in format, ordered by natural key; importing the output
// again changes nothing.
func (s *Store) Export(ctx context.Context, tenant string, kind Kind, format Format, w io.Writer) error {
	def, err := lookup(tenant, kind, format)
	if err != nil {
		return err
	}
	names := make([]string, len(def.cols))
	var keys []string
	for i, c := range def.cols {
		names[i] = c.db
		if c.key {
			keys = append(keys, c.db)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+def.table+
		` WHERE tenant = $1 ORDER BY `+strings.Join(keys, ", "), tenant)
	if err != nil {
		return fmt.Errorf("export %s: %w", kind, err)
	}
	defer rows.Close()
	dest := make([]any, len(def.cols))
	for i, c := range def.cols {
		switch c.typ {
		case tCount, tRating, tTime, tMoney:
			dest[i] = new(sql.NullInt64)
		case tFloat:
			dest[i] = new(sql.NullFloat64)
		default:
			dest[i] = new(sql.NullString)
		}
	}
	cells := make([]string, len(def.cols))
	var cw *csv.Writer
	if format == CSV {
		cw = csv.NewWriter(w)
		if err := cw.Write(Columns(kind)); err != nil {
			return err
		}
	}
	var line []byte
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if format == CSV {
			for i := range def.cols {
				cells[i] = def.cols[i].format(value(dest[i]))
			}
			if err := cw.Write(cells); err != nil {
				return err
			}
			continue
		}
		line = append(line[:0], '{')
		first := true
		for i := range def.cols {
			v := value(dest[i])
			if v == nil {
				continue
			}
			if !first {
				line = append(line, ',')
			}
			first = false
			line = appendJSONString(line, def.cols[i].name)
			line = append(line, ':')
			if def.cols[i].numeric() {
				line = append(line, def.cols[i].format(v)...)
			} else {
				line = appendJSONString(line, def.cols[i].format(v))
			}
		}
		line = append(line, '}', '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}

func value(d any) any {
	switch x := d.(type) {
	case *sql.NullInt64:
		if x.Valid {
			return x.Int64
		}
	case *sql.NullFloat64:
		if x.Valid {
			return x.Float64
		}
	case *sql.NullString:
		if x.Valid {
			return x.String
		}
	}
	return nil
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
