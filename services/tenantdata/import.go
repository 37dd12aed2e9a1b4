package tenantdata

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
)

// Format is how a file is written.
type Format string

// The formats the importer reads and the exporter writes.
const (
	CSV   Format = "csv"   // a header row of column names, then one row per record
	JSONL Format = "jsonl" // one JSON object per line, keyed by column name
)

// ParseFormat reads a format's name; ndjson is another name of jsonl.
func ParseFormat(s string) (Format, bool) {
	switch strings.ToLower(s) {
	case "csv":
		return CSV, true
	case "jsonl", "ndjson":
		return JSONL, true
	}
	return "", false
}

// MaxListed is how many rejected rows a report lists; it counts them all.
const MaxListed = 100

// maxLine is the longest JSON Lines line read.
const maxLine = 1 << 20

// RowError says why one row, or the header (line 1 of a CSV file), was rejected.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

// Report says what an import did. When any row is rejected nothing is imported, and Inserted,
// Updated and Unchanged are zero.
type Report struct {
	Kind      Kind       `json:"kind"`
	Format    Format     `json:"format"`
	Read      int        `json:"read"` // data rows read, the header not included
	Inserted  int        `json:"inserted"`
	Updated   int        `json:"updated"`
	Unchanged int        `json:"unchanged"`
	Rejected  int        `json:"rejected"`
	Errors    []RowError `json:"errors"` // the first MaxListed rejected rows
}

// OK says every row was imported.
func (r Report) OK() bool { return r.Rejected == 0 }

func (r *Report) reject(line int, col, reason string) {
	r.Rejected++
	if len(r.Errors) < MaxListed {
		r.Errors = append(r.Errors, RowError{Line: line, Column: col, Reason: reason})
	}
}

// Import reads a file of kind in format and imports it into tenant in one transaction: every
// row or none. Rows whose natural key exists are updated, or counted unchanged when they are
// equal. A file with rejected rows returns its report and an unprocessable error saying so;
// other errors (the reader failing, the database) return no report.
func (s *Store) Import(ctx context.Context, tenant string, kind Kind, format Format, r io.Reader) (Report, error) {
	def, err := lookup(tenant, kind, format)
	if err != nil {
		return Report{}, err
	}
	src, err := newSource(def, format, r)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		rep, err = s.importInto(ctx, tx, tenant, def, format, src)
		if err != nil {
			return err
		}
		if !rep.OK() {
			return errRolledBack
		}
		if rep.Inserted+rep.Updated > 0 {
			return markImported(ctx, tx, tenant, s.now())
		}
		return nil
	})
	if errors.Is(err, errRolledBack) {
		rep.Inserted, rep.Updated, rep.Unchanged = 0, 0, 0
		return rep, RejectedError(rep)
	}
	if err != nil {
		return Report{}, err
	}
	return rep, nil
}

var errRolledBack = errors.New("rows were rejected")

// RejectedError is the error of an import that rejected rows.
func RejectedError(rep Report) *services.Error {
	first := rep.Errors[0]
	where := fmt.Sprintf("line %d", first.Line)
	if first.Column != "" {
		where += ", column " + first.Column
	}
	return services.Errorf(services.CodeUnprocessable,
		"%d of the file's rows were rejected, so nothing was imported (the first: %s %s). Correct the rows the report lists and import the whole file again.",
		rep.Rejected, where, first.Reason)
}

func lookup(tenant string, kind Kind, format Format) (*kindDef, error) {
	if tenant == "" {
		return nil, services.Errorf(services.CodeValidation, "No tenant was given.")
	}
	def := kindDefs[kind]
	if def == nil {
		return nil, services.Errorf(services.CodeValidation, "%q is not a kind of data. Use one of %s.", kind, kindList())
	}
	if format != CSV && format != JSONL {
		return nil, services.Errorf(services.CodeValidation, "%q is not a format. Use csv or jsonl.", format)
	}
	return def, nil
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// importInto reads src into tenant's rows of def within tx, counting what changed.
func (s *Store) importInto(ctx context.Context, tx *sql.Tx, tenant string, def *kindDef, format Format, src source) (Report, error) {
	rep := Report{Kind: def.kind, Format: format, Errors: []RowError{}}
	before, err := countRows(ctx, tx, def, tenant)
	if err != nil {
		return rep, err
	}
	w := newWriter(s.db, tx, def, tenant, &rep)
	defer w.close()
	now := s.now()
	for {
		line, cells, rowErrs, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, err
		}
		if line == headerLine {
			// The header is wrong: no row can be read against it.
			for _, e := range rowErrs {
				rep.reject(e.Line, e.Column, e.Reason)
			}
			break
		}
		rep.Read++
		if len(rowErrs) > 0 {
			rep.Rejected++
			if len(rep.Errors) < MaxListed {
				rep.Errors = append(rep.Errors, rowErrs[0])
			}
			continue
		}
		vals, col, reason := def.parseRow(cells, now)
		if reason != "" {
			rep.reject(line, col, reason)
			continue
		}
		if err := w.add(ctx, line, vals); err != nil {
			return rep, err
		}
	}
	if err := w.flush(ctx); err != nil {
		return rep, err
	}
	if !rep.OK() {
		return rep, nil
	}
	after, err := countRows(ctx, tx, def, tenant)
	if err != nil {
		return rep, err
	}
	valid := rep.Read - rep.Rejected
	rep.Inserted = int(after - before)
	rep.Updated = int(w.affected) - rep.Inserted
	rep.Unchanged = valid - int(w.affected)
	if def.kind == KindMetrics && w.affected > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO metric_sums_stale (tenant) VALUES ($1) ON CONFLICT (tenant) DO NOTHING`, tenant); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// parseRow checks one row's cells, given in column order with "" for absent, and returns the
// stored values or the first column at fault.
func (d *kindDef) parseRow(cells []string, now time.Time) ([]any, string, string) {
	vals := make([]any, len(d.cols))
	for i := range d.cols {
		v, reason := d.cols[i].parse(cells[i], now)
		if reason != "" {
			return nil, d.cols[i].name, reason
		}
		vals[i] = v
	}
	if d.check != nil {
		if col, reason := d.check(vals); reason != "" {
			return nil, col, reason
		}
	}
	return vals, "", ""
}

func countRows(ctx context.Context, q queryer, def *kindDef, tenant string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+def.table+` WHERE tenant = $1`, tenant).Scan(&n)
	return n, err
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// headerLine marks a source's answer about the header rather than a row.
const headerLine = -1

// source yields a file's rows one at a time, each as cells in the kind's column order.
type source interface {
	// next returns a row's line, its cells ("" when absent), and the row's own errors (an
	// unknown field, malformed JSON), or io.EOF.
	next() (line int, cells []string, rowErrs []RowError, err error)
}

func newSource(def *kindDef, format Format, r io.Reader) (source, error) {
	if format == CSV {
		return newCSVSource(def, r), nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	return &jsonlSource{def: def, sc: sc, cells: make([]string, len(def.cols))}, nil
}

type csvSource struct {
	def    *kindDef
	r      *csv.Reader
	index  []int // index[i]: the record's field holding column i, or -1
	cells  []string
	header bool
	done   bool
}

func newCSVSource(def *kindDef, r io.Reader) *csvSource {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	return &csvSource{def: def, r: cr, cells: make([]string, len(def.cols))}
}

func (s *csvSource) next() (int, []string, []RowError, error) {
	if s.done {
		return 0, nil, nil, io.EOF
	}
	if !s.header {
		s.header = true
		if errs, err := s.readHeader(); err != nil || len(errs) > 0 {
			s.done = true
			return headerLine, nil, errs, err
		}
	}
	rec, err := s.r.Read()
	if err == io.EOF {
		return 0, nil, nil, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return pe.StartLine, nil, []RowError{{Line: pe.StartLine,
				Reason: fmt.Sprintf("has %d fields; the header has %d", len(rec), len(s.index))}}, nil
		}
		// A quoting error leaves the reader's place in the file uncertain: stop here.
		s.done = true
		return pe.StartLine, nil, []RowError{{Line: pe.StartLine, Reason: "is not valid CSV: " + pe.Err.Error()}}, nil
	}
	if err != nil {
		return 0, nil, nil, err
	}
	line, _ := s.r.FieldPos(0)
	for i, at := range s.index {
		s.cells[i] = ""
		if at >= 0 {
			s.cells[i] = strings.TrimSpace(rec[at])
		}
	}
	return line, s.cells, nil, nil
}

func (s *csvSource) readHeader() ([]RowError, error) {
	rec, err := s.r.Read()
	if err == io.EOF {
		return []RowError{{Line: 1, Reason: "the file is empty; it needs a header row naming the columns: " +
			strings.Join(Columns(s.def.kind), ",")}}, nil
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return []RowError{{Line: 1, Reason: "the header is not valid CSV: " + pe.Err.Error()}}, nil
	}
	if err != nil {
		return nil, err
	}
	s.index = make([]int, len(s.def.cols))
	for i := range s.index {
		s.index[i] = -1
	}
	var errs []RowError
	seen := map[string]bool{}
	for at, name := range rec {
		name = strings.TrimSpace(name)
		if at == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		i := s.def.colIndex(name)
		switch {
		case i < 0:
			errs = append(errs, RowError{Line: 1, Column: name, Reason: "is not a column of " + string(s.def.kind) +
				"; the columns are " + strings.Join(Columns(s.def.kind), ", ")})
		case seen[name]:
			errs = append(errs, RowError{Line: 1, Column: name, Reason: "appears twice in the header"})
		default:
			s.index[i] = at
		}
		seen[name] = true
	}
	for i, c := range s.def.cols {
		if c.required && s.index[i] < 0 {
			errs = append(errs, RowError{Line: 1, Column: c.name, Reason: "is a required column and the header lacks it"})
		}
	}
	s.r.FieldsPerRecord = len(rec)
	return errs, nil
}

func (d *kindDef) colIndex(name string) int {
	for i := range d.cols {
		if d.cols[i].name == name {
			return i
		}
	}
	return -1
}

type jsonlSource struct {
	def   *kindDef
	sc    *bufio.Scanner
	line  int
	cells []string
}

func (s *jsonlSource) next() (int, []string, []RowError, error) {
	for s.sc.Scan() {
		s.line++
		b := bytes.TrimSpace(s.sc.Bytes())
		if len(b) == 0 {
			continue // blank lines, such as a last newline twice, hold no row
		}
		for i := range s.cells {
			s.cells[i] = ""
		}
		if errs := s.parse(b); errs != nil {
			return s.line, nil, errs, nil
		}
		return s.line, s.cells, nil, nil
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return s.line + 1, nil, nil, services.Errorf(services.CodeValidation,
				"Line %d is longer than %d bytes; a JSON Lines row must fit on one line.", s.line+1, maxLine)
		}
		return 0, nil, nil, err
	}
	return 0, nil, nil, io.EOF
}

func (s *jsonlSource) parse(b []byte) []RowError {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return []RowError{{Line: s.line, Reason: "is not a JSON object"}}
	}
	if dec.More() {
		return []RowError{{Line: s.line, Reason: "holds more than one JSON value; put one object on each line"}}
	}
	for k, v := range obj {
		i := s.def.colIndex(k)
		if i < 0 {
			return []RowError{{Line: s.line, Column: k, Reason: "is not a column of " + string(s.def.kind) +
				"; the columns are " + strings.Join(Columns(s.def.kind), ", ")}}
		}
		switch x := v.(type) {
		case nil:
		case string:
			s.cells[i] = strings.TrimSpace(x)
		case json.Number:
			s.cells[i] = x.String()
		default:
			return []RowError{{Line: s.line, Column: k, Reason: "is not a string, a number or null"}}
		}
	}
	return nil
}

// writer batches valid rows into multi-row upserts within the import's transaction.
type writer struct {
	db       *storage.DB
	tx       *sql.Tx
	def      *kindDef
	tenant   string
	rep      *Report
	perRow   int
	size     int // rows a full batch holds
	full     *sql.Stmt
	args     []any
	lines    []int
	refs     []string
	keys     map[string]struct{}
	keyBuf   strings.Builder
	affected int64
}

func newWriter(db *storage.DB, tx *sql.Tx, def *kindDef, tenant string, rep *Report) *writer {
	perRow := len(def.cols) + 1
	// Within both databases' limits on bind parameters (SQLite's 32766, PostgreSQL's 65535).
	size := min(500, 30000/perRow)
	return &writer{db: db, tx: tx, def: def, tenant: tenant, rep: rep, perRow: perRow, size: size,
		args: make([]any, 0, size*perRow), keys: make(map[string]struct{}, size)}
}

func (w *writer) close() {
	if w.full != nil {
		w.full.Close()
	}
}

func (w *writer) add(ctx context.Context, line int, vals []any) error {
	// One statement may not touch a row twice (PostgreSQL refuses): a key seen again in this
	// batch first sends the batch.
	w.keyBuf.Reset()
	for i := range w.def.cols {
		if w.def.cols[i].key {
			fmt.Fprint(&w.keyBuf, vals[i], "\x00")
		}
	}
	k := w.keyBuf.String()
	if _, dup := w.keys[k]; dup {
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	w.keys[k] = struct{}{}
	w.args = append(w.args, w.tenant)
	w.args = append(w.args, vals...)
	w.lines = append(w.lines, line)
	if w.def.refCol >= 0 {
		w.refs = append(w.refs, vals[w.def.refCol].(string))
	}
	if len(w.lines) == w.size {
		return w.flush(ctx)
	}
	return nil
}

func (w *writer) flush(ctx context.Context) error {
	n := len(w.lines)
	if n == 0 {
		return nil
	}
	defer func() {
		w.args, w.lines, w.refs = w.args[:0], w.lines[:0], w.refs[:0]
		clear(w.keys)
	}()
	if w.def.refCol >= 0 {
		if err := w.checkRefs(ctx); err != nil {
			return err
		}
	}
	if !w.rep.OK() {
		return nil // the import will roll back: only go on finding the rows at fault
	}
	var res sql.Result
	var err error
	if n == w.size {
		if w.full == nil {
			if w.full, err = w.tx.PrepareContext(ctx, upsertSQL(w.db, w.def, n)); err != nil {
				return err
			}
		}
		res, err = w.full.ExecContext(ctx, w.args...)
	} else {
		res, err = w.tx.ExecContext(ctx, upsertSQL(w.db, w.def, n), w.args...)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", w.def.kind, err)
	}
	a, err := res.RowsAffected()
	if err != nil {
		return err
	}
	w.affected += a
	return nil
}

// checkRefs rejects the batch's rows that name a campaign or listener the tenant lacks.
func (w *writer) checkRefs(ctx context.Context) error {
	distinct := map[string]bool{}
	for _, r := range w.refs {
		distinct[r] = false
	}
	var q strings.Builder
	args := []any{w.tenant}
	fmt.Fprintf(&q, `SELECT id FROM %s WHERE tenant = %s AND id IN (`, w.def.refTable, w.db.Placeholder(1))
	for id := range distinct {
		args = append(args, id)
		if len(args) > 2 {
			q.WriteByte(',')
		}
		q.WriteString(w.db.Placeholder(len(args)))
	}
	q.WriteByte(')')
	rows, err := w.tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		distinct[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	col := w.def.cols[w.def.refCol].name
	for i, r := range w.refs {
		if !distinct[r] {
			w.rep.reject(w.lines[i], col, fmt.Sprintf("names %s %q, which this tenant does not have; import the %ss first",
				w.def.refWhat, clip(r), w.def.refWhat))
		}
	}
	return nil
}

// upsertSQL inserts n rows, updating a row whose key exists only when a compared column
// differs, so that the count of affected rows leaves out the unchanged ones.
func upsertSQL(db *storage.DB, def *kindDef, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + def.table + " (tenant")
	for _, c := range def.cols {
		b.WriteString(", " + c.db)
	}
	b.WriteString(") VALUES ")
	p := 0
	for r := range n {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c <= len(def.cols); c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			p++
			b.WriteString(db.Placeholder(p))
		}
		b.WriteByte(')')
	}
	b.WriteString(" ON CONFLICT (tenant")
	var set, differ []string
	distinct := " IS DISTINCT FROM "
	if db.Dialect == storage.SQLite {
		distinct = " IS NOT "
	}
	for _, c := range def.cols {
		switch {
		case c.key:
			b.WriteString(", " + c.db)
		case c.insertOnly:
		case c.audit:
			set = append(set, c.db+" = excluded."+c.db)
		default:
			set = append(set, c.db+" = excluded."+c.db)
			differ = append(differ, def.table+"."+c.db+distinct+"excluded."+c.db)
		}
	}
	b.WriteString(") DO UPDATE SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(differ, " OR "))
	return b.String()
}
