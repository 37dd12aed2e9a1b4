package tenantdata

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind names one kind of data, as the importer, the CLI and the contract spell it.
type Kind string

// The kinds of data a tenant holds.
const (
	KindMetrics          Kind = "metrics"
	KindCampaigns        Kind = "campaigns"
	KindCampaignResults  Kind = "campaign-results"
	KindListeners        Kind = "listeners"
	KindListenerActivity Kind = "listener-activity"
	KindFeedback         Kind = "feedback"
	KindCompetitors      Kind = "competitors"
)

// Kinds lists every kind, in the order they can be imported (a campaign before its results, a
// listener before its activity).
var Kinds = []Kind{KindMetrics, KindCampaigns, KindCampaignResults, KindListeners,
	KindListenerActivity, KindFeedback, KindCompetitors}

// Enumerations of the columns that take one of a fixed set of values.
var (
	Platforms        = []string{"spotify", "apple-music", "youtube", "tiktok", "soundcloud", "other"}
	CampaignStatuses = []string{"draft", "scheduled", "active", "paused", "completed", "cancelled"}
	FeedbackSources  = []string{"reviews", "social", "support", "surveys"}
)

type colType int

const (
	tText     colType = iota
	tEnum             // one of enum
	tDate             // YYYY-MM-DD, stored as text
	tTime             // RFC 3339, stored as Unix milliseconds
	tCount            // a whole number from 0 to maxCount
	tMoney            // a decimal of up to 6 places, stored as millionths
	tFloat            // a decimal number from 0 to max
	tCurrency         // ISO 4217 code
	tRating           // 1 to 5
)

const (
	maxCount = 1_000_000_000_000 // a trillion: above any real figure, far from overflowing a sum
	maxMoney = 1_000_000_000_000 // in currency units
)

var (
	minDay = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDay = time.Date(2100, 12, 31, 0, 0, 0, 0, time.UTC)
)

// column is one column of a kind: its name in files, in the table, and its rule.
type column struct {
	name     string
	db       string
	typ      colType
	required bool
	key      bool
	nullable bool   // empty is stored as NULL rather than as dflt
	dflt     string // the value of an absent or empty optional column
	enum     []string
	pattern  *regexp.Regexp
	patternH string  // the pattern, as a reason says it
	maxLen   int     // text: longest value in characters
	max      float64 // tFloat: largest value
	// insertOnly columns keep their first value when a row is imported again; audit columns
	// change with the row but do not make it count as changed.
	insertOnly, audit bool
	// now: an absent value is the time of the import.
	now bool
}

// kindDef is one kind's table and columns.
type kindDef struct {
	kind    Kind
	table   string
	cols    []column
	dateCol string // the column Coverage reports the range of
	// ref: the rows' refCol must name a row of refTable in the same tenant.
	refCol   int
	refTable string
	refWhat  string
	// check is a rule across the columns of one valid row; it names the column at fault.
	check func(v []any) (col, reason string)
}

var (
	idPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	tokenPattern  = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	countryPat    = regexp.MustCompile(`^[A-Z]{2}$`)
	ageBandPat    = regexp.MustCompile(`^[0-9]{1,2}(-[0-9]{1,3}|\+)$`)
	currencyPat   = regexp.MustCompile(`^[A-Z]{3}$`)
	idHuman       = "1 to 64 letters, digits or ._:- starting with a letter or digit"
	tokenHuman    = "a lower-case word of letters, digits and -, such as free or premium"
	countryHuman  = "an ISO 3166 two-letter country code such as US"
	ageBandHuman  = "an age band such as 18-24 or 45+"
	nameMaxLength = 200
)

func id(name, db string, key bool) column {
	return column{name: name, db: db, typ: tText, required: true, key: key, pattern: idPattern, patternH: idHuman, maxLen: 64}
}

func count(name string) column { return column{name: name, db: name, typ: tCount, dflt: "0"} }
func dayKey(name string) column {
	return column{name: name, db: "day", typ: tDate, required: true, key: true}
}

var kindDefs = map[Kind]*kindDef{
	KindMetrics: {kind: KindMetrics, table: "platform_metrics", dateCol: "day", refCol: -1, cols: []column{
		dayKey("date"),
		{name: "platform", db: "platform", typ: tEnum, required: true, key: true, enum: Platforms},
		{name: "streams", db: "streams", typ: tCount, required: true},
		count("listeners"), count("followers"), count("saves"),
		{name: "revenue", db: "revenue_micros", typ: tMoney, dflt: "0"},
		{name: "currency", db: "currency", typ: tCurrency, dflt: "USD"},
	}},
	KindCampaigns: {kind: KindCampaigns, table: "campaigns", dateCol: "start_day", refCol: -1, cols: []column{
		id("id", "id", true),
		{name: "name", db: "name", typ: tText, required: true, maxLen: nameMaxLength},
		{name: "channel", db: "channel", typ: tText, required: true, pattern: tokenPattern, patternH: "a lower-case word of letters, digits and -, such as social-ads or email", maxLen: 32},
		{name: "budget", db: "budget_micros", typ: tMoney, required: true},
		{name: "currency", db: "currency", typ: tCurrency, dflt: "USD"},
		{name: "target_audience", db: "target_audience", typ: tText, nullable: true, maxLen: 1000},
		{name: "start_date", db: "start_day", typ: tDate, required: true},
		{name: "end_date", db: "end_day", typ: tDate, required: true},
		{name: "status", db: "status", typ: tEnum, enum: CampaignStatuses, dflt: "draft"},
		{name: "created_by", db: "created_by", typ: tText, dflt: "import", maxLen: 256, insertOnly: true},
		{name: "created_at", db: "created_at", typ: tTime, now: true, insertOnly: true},
		{name: "updated_by", db: "updated_by", typ: tText, dflt: "import", maxLen: 256, audit: true},
		{name: "updated_at", db: "updated_at", typ: tTime, now: true, audit: true},
	}, check: func(v []any) (string, string) {
		if v[7].(string) < v[6].(string) {
			return "end_date", "is before start_date"
		}
		return "", ""
	}},
	KindCampaignResults: {kind: KindCampaignResults, table: "campaign_results", dateCol: "day",
		refCol: 0, refTable: "campaigns", refWhat: "campaign", cols: []column{
			id("campaign_id", "campaign_id", true),
			dayKey("date"),
			count("impressions"), count("clicks"), count("conversions"),
			{name: "spend", db: "spend_micros", typ: tMoney, dflt: "0"},
			{name: "revenue", db: "revenue_micros", typ: tMoney, dflt: "0"},
		}, check: func(v []any) (string, string) {
			if v[3].(int64) > v[2].(int64) {
				return "clicks", "is more than impressions"
			}
			if v[4].(int64) > v[3].(int64) {
				return "conversions", "is more than clicks"
			}
			return "", ""
		}},
	KindListeners: {kind: KindListeners, table: "listeners", dateCol: "first_seen", refCol: -1, cols: []column{
		id("id", "id", true),
		{name: "plan", db: "plan", typ: tText, required: true, pattern: tokenPattern, patternH: tokenHuman, maxLen: 32},
		{name: "country", db: "country", typ: tText, nullable: true, pattern: countryPat, patternH: countryHuman, maxLen: 2},
		{name: "age_band", db: "age_band", typ: tText, nullable: true, pattern: ageBandPat, patternH: ageBandHuman, maxLen: 8},
		{name: "first_seen", db: "first_seen", typ: tDate, required: true},
		{name: "churned_at", db: "churned_at", typ: tDate, nullable: true},
	}, check: func(v []any) (string, string) {
		if c, ok := v[5].(string); ok && c < v[4].(string) {
			return "churned_at", "is before first_seen"
		}
		return "", ""
	}},
	KindListenerActivity: {kind: KindListenerActivity, table: "listener_activity", dateCol: "day",
		refCol: 0, refTable: "listeners", refWhat: "listener", cols: []column{
			id("listener_id", "listener_id", true),
			dayKey("date"),
			count("sessions"),
			{name: "minutes", db: "minutes", typ: tFloat, dflt: "0", max: 1440},
			count("tracks"),
		}},
	KindFeedback: {kind: KindFeedback, table: "feedback", dateCol: "at", refCol: -1, cols: []column{
		id("id", "id", true),
		{name: "source", db: "source", typ: tEnum, required: true, enum: FeedbackSources},
		{name: "text", db: "body", typ: tText, required: true, maxLen: 10000},
		{name: "rating", db: "rating", typ: tRating, nullable: true},
		{name: "at", db: "at", typ: tTime, required: true},
		{name: "listener_id", db: "listener_id", typ: tText, nullable: true, pattern: idPattern, patternH: idHuman, maxLen: 64},
	}},
	KindCompetitors: {kind: KindCompetitors, table: "competitors", dateCol: "day", refCol: -1, cols: []column{
		{name: "name", db: "name", typ: tText, required: true, key: true, maxLen: nameMaxLength},
		dayKey("date"),
		{name: "monthly_listeners", db: "monthly_listeners", typ: tCount, required: true},
	}},
}

// Columns lists a kind's columns in file order, for documentation and error messages.
func Columns(k Kind) []string {
	d := kindDefs[k]
	if d == nil {
		return nil
	}
	out := make([]string, len(d.cols))
	for i, c := range d.cols {
		out[i] = c.name
	}
	return out
}

// ParseKind reads a kind's name.
func ParseKind(s string) (Kind, bool) {
	_, ok := kindDefs[Kind(s)]
	return Kind(s), ok
}

// parse reads one cell; an empty string is an absent value. It returns the value as stored
// (string, int64, float64 or nil) or the reason the cell is wrong.
func (c *column) parse(s string, now time.Time) (any, string) {
	if s == "" {
		switch {
		case c.required:
			return nil, "is required"
		case c.nullable:
			return nil, ""
		case c.now:
			return now.UnixMilli(), ""
		}
		s = c.dflt
	}
	switch c.typ {
	case tText:
		if !utf8.ValidString(s) {
			return nil, "is not UTF-8 text"
		}
		if c.pattern != nil && !c.pattern.MatchString(s) {
			return nil, fmt.Sprintf("%q is not %s", clip(s), c.patternH)
		}
		if n := len([]rune(s)); c.maxLen > 0 && n > c.maxLen {
			return nil, fmt.Sprintf("is %d characters long; at most %d are allowed", n, c.maxLen)
		}
		if strings.ContainsRune(s, 0) {
			return nil, "holds a NUL character"
		}
		return s, ""
	case tEnum:
		for _, e := range c.enum {
			if s == e {
				return s, ""
			}
		}
		return nil, fmt.Sprintf("%q is not one of %s", clip(s), strings.Join(c.enum, ", "))
	case tDate:
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, fmt.Sprintf("%q is not a date such as 2026-03-01", clip(s))
		}
		if d.Before(minDay) || d.After(maxDay) {
			return nil, fmt.Sprintf("%s is outside 2000-01-01 to 2100-12-31", s)
		}
		return s, ""
	case tTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Sprintf("%q is not a time such as 2026-03-01T12:00:00Z", clip(s))
		}
		if t.Before(minDay) || t.After(maxDay.AddDate(0, 0, 1)) {
			return nil, fmt.Sprintf("%s is outside 2000 to 2100", s)
		}
		return t.UnixMilli(), ""
	case tCount, tRating:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Sprintf("%q is not a whole number", clip(s))
		}
		if c.typ == tRating {
			if n < 1 || n > 5 {
				return nil, fmt.Sprintf("%d is not a rating from 1 to 5", n)
			}
			return n, ""
		}
		if n < 0 || n > maxCount {
			return nil, fmt.Sprintf("%d is outside 0 to %d", n, int64(maxCount))
		}
		return n, ""
	case tMoney:
		m, ok := parseMicros(s)
		if !ok {
			return nil, fmt.Sprintf("%q is not an amount such as 12.50 (at most 6 decimal places, 0 to 10^12)", clip(s))
		}
		return m, ""
	case tFloat:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Sprintf("%q is not a number", clip(s))
		}
		if f < 0 || f > c.max {
			return nil, fmt.Sprintf("%s is outside 0 to %g", s, c.max)
		}
		return f, ""
	case tCurrency:
		if !currencyPat.MatchString(s) {
			return nil, fmt.Sprintf("%q is not an ISO 4217 currency code such as USD", clip(s))
		}
		return s, ""
	}
	return nil, "has no rule"
}

// format writes a stored value back as a cell; nil is "".
func (c *column) format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		switch c.typ {
		case tTime:
			return time.UnixMilli(x).UTC().Format(time.RFC3339Nano)
		case tMoney:
			return formatMicros(x)
		}
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// numeric says the column is written as a JSON number in JSON Lines.
func (c *column) numeric() bool {
	return c.typ == tCount || c.typ == tRating || c.typ == tFloat || c.typ == tMoney
}

// parseMicros reads a non-negative decimal of up to six places as millionths, exactly.
func parseMicros(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 6 || len(whole) > 13 || (strings.Contains(s, ".") && frac == "") {
		return 0, false
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > maxMoney {
		return 0, false
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	}
	m := w*1_000_000 + f
	if m > maxMoney*1_000_000 {
		return 0, false
	}
	return m, true
}

func formatMicros(m int64) string {
	s := strconv.FormatInt(m/1_000_000, 10)
	if f := m % 1_000_000; f != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%06d", f), "0")
	}
	return s
}

// clip shortens a value quoted in a reason.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
