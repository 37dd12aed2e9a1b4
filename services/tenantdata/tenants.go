package tenantdata

import (
	"context"
	"fmt"
	"strings"
)

// Tenants lists the tenants that hold any data, in order.
func (s *Store) Tenants(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	parts := []string{`SELECT DISTINCT tenant FROM tenant_datasets`}
	for _, k := range Kinds {
		t := kindDefs[k].table
		if !seen[t] {
			seen[t] = true
			parts = append(parts, `SELECT DISTINCT tenant FROM `+t)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT tenant FROM (`+strings.Join(parts, " UNION ")+`) AS t ORDER BY tenant`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
