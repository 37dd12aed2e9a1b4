package jobs

import (
	"database/sql"

	"github.com/riverqueue/river"
)

// River is the queue's client, for River's own operator UI.
func (s *Service) River() *river.Client[*sql.Tx] { return s.river }
