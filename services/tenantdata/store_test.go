package tenantdata

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestStore(db *storage.DB) *Store {
	s := NewStore(db)
	s.now = func() time.Time { return fixedNow }
	return s
}

const metricsCSV = `date,platform,streams,listeners,followers,saves,revenue,currency
2026-01-01,spotify,100,40,10,5,1.5,USD
2026-01-01,youtube,50,20,0,1,0.25,USD
2026-01-02,spotify,200,60,11,7,3,USD
2026-01-03,tiktok,10,5,1,0,,
`

func importString(t *testing.T, s *Store, tenant string, kind Kind, format Format, body string) (Report, error) {
	t.Helper()
	return s.Import(context.Background(), tenant, kind, format, strings.NewReader(body))
}

func TestStore(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newTestStore(db)

		t.Run("import, re-import and update", func(t *testing.T) {
			rep, err := importString(t, s, "t1", KindMetrics, CSV, metricsCSV)
			require.NoError(t, err)
			assert.Equal(t, Report{Kind: KindMetrics, Format: CSV, Read: 4, Inserted: 4, Errors: []RowError{}}, rep)

			rep, err = importString(t, s, "t1", KindMetrics, CSV, metricsCSV)
			require.NoError(t, err)
			assert.Equal(t, 4, rep.Unchanged, "the same file again changes nothing")
			assert.Zero(t, rep.Inserted+rep.Updated)

			// One figure changed, one row new, a key repeated within the file: the later wins.
			rep, err = importString(t, s, "t1", KindMetrics, JSONL, `{"date":"2026-01-01","platform":"spotify","streams":101,"listeners":40,"followers":10,"saves":5,"revenue":"1.5","currency":"USD"}

{"date":"2026-01-04","platform":"other","streams":"7"}
{"date":"2026-01-04","platform":"other","streams":8}
`)
			require.NoError(t, err)
			assert.Equal(t, Report{Kind: KindMetrics, Format: JSONL, Read: 3, Inserted: 1, Updated: 2, Errors: []RowError{}}, rep)
		})

		t.Run("period sums and daily totals come from the running sums, rebuilt after an import", func(t *testing.T) {
			_, err := importString(t, s, "t2", KindMetrics, CSV, metricsCSV)
			require.NoError(t, err)
			require.NoError(t, s.EnsureSums(ctx, "t2"))
			prev, cur, err := s.TwoPeriods(ctx, "t2", "USD", day("2025-12-31"), day("2026-01-01"), day("2026-01-02"))
			require.NoError(t, err)
			assert.Equal(t, Period{}, prev, "nothing before the first day")
			assert.Equal(t, Period{Days: 2, Platforms: []PlatformPeriod{
				{Platform: "spotify", Days: 2, Streams: 300, Listeners: 100, Saves: 12, RevenueMicros: 4_500_000, Followers: 11},
				{Platform: "youtube", Days: 1, Streams: 50, Listeners: 20, Saves: 1, RevenueMicros: 250_000},
			}}, cur)
			prev, cur, err = s.TwoPeriods(ctx, "t2", "USD", day("2026-01-01"), day("2026-01-03"), day("2026-01-03"))
			require.NoError(t, err)
			assert.Equal(t, int64(2), prev.Days)
			assert.Equal(t, Period{Days: 1, Platforms: []PlatformPeriod{{Platform: "tiktok", Days: 1, Streams: 10, Listeners: 5, Followers: 1}}}, cur)
			days, err := s.DayTotals(ctx, "t2", "USD", day("2026-01-01"), day("2026-01-03"))
			require.NoError(t, err)
			require.Len(t, days, 3)
			assert.Equal(t, DayTotal{Day: "2026-01-01", Streams: 150, Listeners: 60, Followers: 10, RevenueMicros: 1_750_000}, days[0])

			// A changed figure is in the sums once they are brought up to date.
			_, err = importString(t, s, "t2", KindMetrics, CSV, "date,platform,streams\n2026-01-02,spotify,201\n")
			require.NoError(t, err)
			require.NoError(t, s.EnsureSums(ctx, "t2"))
			_, cur, err = s.TwoPeriods(ctx, "t2", "USD", day("2025-12-31"), day("2026-01-01"), day("2026-01-02"))
			require.NoError(t, err)
			assert.Equal(t, int64(301), cur.Platforms[0].Streams)

			_, cur, err = s.TwoPeriods(ctx, "nobody", "USD", day("2025-12-31"), day("2026-01-01"), day("2026-01-02"))
			require.NoError(t, err)
			assert.Equal(t, Period{}, cur)
		})

		t.Run("campaigns, results and their totals", func(t *testing.T) {
			rep, err := importString(t, s, "t3", KindCampaigns, CSV, "id,name,channel,budget,start_date,end_date,status\n"+
				"c1,Spring push,social-ads,500,2026-01-01,2026-01-31,active\nc2,Idle,email,10.5,2026-02-01,2026-02-01,\n")
			require.NoError(t, err)
			assert.Equal(t, 2, rep.Inserted)
			rep, err = importString(t, s, "t3", KindCampaignResults, CSV, "campaign_id,date,impressions,clicks,conversions,spend\n"+
				"c1,2026-01-01,1000,50,5,20\nc1,2026-01-02,2000,70,7,30.25\nc1,2026-02-10,9,1,0,1\n")
			require.NoError(t, err)
			assert.Equal(t, 3, rep.Inserted)
			got, err := s.CampaignPeriods(ctx, "t3", day("2026-01-01"), day("2026-01-31"))
			require.NoError(t, err)
			assert.Equal(t, []CampaignPeriod{
				{ID: "c1", Name: "Spring push", Channel: "social-ads", Status: "active", Currency: "USD", StartDate: "2026-01-01",
					EndDate: "2026-01-31", Days: 2, Impressions: 3000, Clicks: 120, Conversions: 12, SpendMicros: 50_250_000},
			}, got, "c2 neither runs in January nor has results in it")
			got, err = s.CampaignPeriods(ctx, "t3", day("2026-02-01"), day("2026-02-28"))
			require.NoError(t, err)
			require.Len(t, got, 2, "c1 has a result in February, c2 runs in it")
			assert.Equal(t, int64(1), got[0].Days)
			assert.Equal(t, CampaignPeriod{ID: "c2", Name: "Idle", Channel: "email", Status: "draft", Currency: "USD",
				StartDate: "2026-02-01", EndDate: "2026-02-01"}, got[1])

			// Re-importing a campaign with other audit columns leaves it unchanged; its created
			// columns keep their first values.
			rep, err = importString(t, s, "t3", KindCampaigns, CSV, "id,name,channel,budget,start_date,end_date,status,created_by,updated_by\n"+
				"c1,Spring push,social-ads,500,2026-01-01,2026-01-31,active,someone,someone\n")
			require.NoError(t, err)
			assert.Equal(t, 1, rep.Unchanged)
			var buf bytes.Buffer
			require.NoError(t, s.Export(ctx, "t3", KindCampaigns, CSV, &buf))
			assert.Contains(t, buf.String(), "c1,Spring push,social-ads,500,USD,,2026-01-01,2026-01-31,active,import,2026-03-01T12:00:00Z,import,2026-03-01T12:00:00Z\n")
		})

		t.Run("every bad row is reported and nothing is imported", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				kind   Kind
				format Format
				body   string
				want   []RowError
			}{
				{"enum, number, date, range", KindMetrics, CSV,
					"date,platform,streams,revenue,currency\n2026-01-01,spotify,1,0,USD\n2026-01-01,napster,1,0,USD\n" +
						"2026-01-02,spotify,-1,0,USD\n2026-02-30,spotify,1,0,USD\n1999-12-31,spotify,1,0,USD\n" +
						"2026-01-03,spotify,1.5,0,USD\n2026-01-04,spotify,1,1.1234567,USD\n2026-01-05,spotify,1,1,usd\n2026-01-06,spotify,,0,USD\n",
					[]RowError{
						{3, "platform", `"napster" is not one of spotify, apple-music, youtube, tiktok, soundcloud, other`},
						{4, "streams", "-1 is outside 0 to 1000000000000"},
						{5, "date", `"2026-02-30" is not a date such as 2026-03-01`},
						{6, "date", "1999-12-31 is outside 2000-01-01 to 2100-12-31"},
						{7, "streams", `"1.5" is not a whole number`},
						{8, "revenue", `"1.1234567" is not an amount such as 12.50 (at most 6 decimal places, 0 to 10^12)`},
						{9, "currency", `"usd" is not an ISO 4217 currency code such as USD`},
						{10, "streams", "is required"},
					}},
				{"unknown and missing columns", KindMetrics, CSV, "date,platform,plays\n2026-01-01,spotify,1\n",
					[]RowError{
						{1, "plays", "is not a column of metrics; the columns are date, platform, streams, listeners, followers, saves, revenue, currency"},
						{1, "streams", "is a required column and the header lacks it"},
					}},
				{"field count and empty file", KindCompetitors, CSV, "name,date,monthly_listeners\nA,2026-01-01,5,9\n",
					[]RowError{{2, "", "has 4 fields; the header has 3"}}},
				{"empty", KindCompetitors, CSV, "",
					[]RowError{{1, "", "the file is empty; it needs a header row naming the columns: name,date,monthly_listeners"}}},
				{"cross-column rules", KindCampaigns, CSV, "id,name,channel,budget,start_date,end_date\nc1,N,email,1,2026-02-01,2026-01-01\nc 2,N,email,1,2026-01-01,2026-01-02\n",
					[]RowError{{2, "end_date", "is before start_date"}, {3, "id", `"c 2" is not 1 to 64 letters, digits or ._:- starting with a letter or digit`}}},
				{"missing reference", KindListenerActivity, CSV, "listener_id,date,sessions,minutes,tracks\nghost,2026-01-01,1,2000,1\nghost,2026-01-01,1,20,1\n",
					[]RowError{{2, "minutes", "2000 is outside 0 to 1440"},
						{3, "listener_id", `names listener "ghost", which this tenant does not have; import the listeners first`}}},
				{"clicks above impressions", KindCampaignResults, JSONL, `{"campaign_id":"x","date":"2026-01-01","impressions":1,"clicks":2}`,
					[]RowError{{1, "clicks", "is more than impressions"}}},
				{"JSON Lines rows", KindFeedback, JSONL,
					"{\"id\":\"f1\",\"source\":\"reviews\",\"text\":\"great\",\"at\":\"2026-01-01T00:00:00Z\",\"rating\":5}\n" +
						"not json\n{\"id\":\"f2\",\"source\":\"reviews\",\"text\":\"ok\",\"at\":\"2026-01-01T00:00:00Z\",\"mood\":1}\n" +
						"{\"id\":\"f3\",\"source\":\"reviews\",\"text\":\"ok\",\"at\":\"yesterday\"}\n" +
						"{\"id\":\"f4\",\"source\":\"reviews\",\"text\":\"ok\",\"at\":\"2026-01-01T00:00:00Z\",\"rating\":6}\n" +
						"{\"id\":\"f5\",\"source\":\"reviews\",\"text\":true,\"at\":\"2026-01-01T00:00:00Z\"}\n",
					[]RowError{{2, "", "is not a JSON object"},
						{3, "mood", "is not a column of feedback; the columns are id, source, text, rating, at, listener_id"},
						{4, "at", `"yesterday" is not a time such as 2026-03-01T12:00:00Z`},
						{5, "rating", "6 is not a rating from 1 to 5"},
						{6, "text", "is not a string, a number or null"}}},
				{"churn before first seen", KindListeners, CSV, "id,plan,first_seen,churned_at,country,age_band\nl1,free,2026-01-02,2026-01-01,US,18-24\nl2,free,2026-01-02,,usa,18-24\n",
					[]RowError{{2, "churned_at", "is before first_seen"}, {3, "country", `"usa" is not an ISO 3166 two-letter country code such as US`}}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					tenant := "bad-" + strings.ReplaceAll(tc.name, " ", "-")
					rep, err := importString(t, s, tenant, tc.kind, tc.format, tc.body)
					se, ok := services.AsError(err)
					require.True(t, ok, "%v", err)
					assert.Equal(t, services.CodeUnprocessable, se.Code)
					assert.Equal(t, tc.want, rep.Errors)
					assert.Equal(t, len(tc.want), rep.Rejected)
					assert.Zero(t, rep.Inserted+rep.Updated+rep.Unchanged)
					c, err := s.Coverage(ctx, tenant)
					require.NoError(t, err)
					assert.Zero(t, c.Rows(), "nothing is imported")
					assert.Empty(t, c.Dataset)
				})
			}
		})

		t.Run("the report lists at most MaxListed rows and counts them all", func(t *testing.T) {
			var b strings.Builder
			b.WriteString("name,date,monthly_listeners\n")
			for range 150 {
				b.WriteString("A,2026-01-01,x\n")
			}
			rep, err := importString(t, s, "many", KindCompetitors, CSV, b.String())
			require.Error(t, err)
			assert.Equal(t, 150, rep.Rejected)
			assert.Len(t, rep.Errors, MaxListed)
		})

		t.Run("export re-imports as unchanged", func(t *testing.T) {
			tenant := "roundtrip"
			for _, f := range []struct {
				kind Kind
				body string
			}{
				{KindMetrics, metricsCSV},
				{KindCampaigns, "id,name,channel,budget,currency,target_audience,start_date,end_date\nc1,\"Name, with comma\",email,0.000001,EUR,\"fans \"\"18+\"\"\",2026-01-01,2026-01-02\n"},
				{KindCampaignResults, "campaign_id,date,impressions,clicks,conversions,spend\nc1,2026-01-01,10,2,1,1.25\n"},
				{KindListeners, "id,plan,country,age_band,first_seen,churned_at\nl1,free,US,18-24,2026-01-01,\nl2,premium,,,2026-01-01,2026-02-01\n"},
				{KindListenerActivity, "listener_id,date,sessions,minutes,tracks\nl1,2026-01-01,2,12.3,4\n"},
				{KindFeedback, "id,source,text,rating,at,listener_id\nf1,social,\"Loved it\nreally\",,2026-01-01T10:00:00.123Z,l1\n"},
				{KindCompetitors, "name,date,monthly_listeners\nRival,2026-01-01,12345\n"},
			} {
				_, err := importString(t, s, tenant, f.kind, CSV, f.body)
				require.NoError(t, err, f.kind)
			}
			for _, k := range Kinds {
				for _, format := range []Format{CSV, JSONL} {
					var out bytes.Buffer
					require.NoError(t, s.Export(ctx, tenant, k, format, &out))
					rep, err := s.Import(ctx, tenant, k, format, &out)
					require.NoError(t, err, "%s %s", k, format)
					assert.Equal(t, rep.Read, rep.Unchanged, "%s %s: %+v", k, format, rep)
					assert.Positive(t, rep.Read)
				}
			}
			var out bytes.Buffer
			require.NoError(t, s.Export(ctx, tenant, KindFeedback, JSONL, &out))
			assert.Equal(t, `{"id":"f1","source":"social","text":"Loved it\nreally","at":"2026-01-01T10:00:00.123Z","listener_id":"l1"}`+"\n", out.String())
		})

		t.Run("coverage is per tenant", func(t *testing.T) {
			_, err := importString(t, s, "cov-a", KindMetrics, CSV, metricsCSV)
			require.NoError(t, err)
			a, err := s.Coverage(ctx, "cov-a")
			require.NoError(t, err)
			assert.Equal(t, DatasetImported, a.Dataset)
			assert.Equal(t, KindCoverage{Kind: KindMetrics, Rows: 4, From: "2026-01-01", To: "2026-01-03"}, a.Of(KindMetrics))
			assert.Equal(t, int64(4), a.Rows())
			b, err := s.Coverage(ctx, "cov-b")
			require.NoError(t, err)
			assert.Zero(t, b.Rows())
			assert.Len(t, b.Kinds, len(Kinds))
		})

		t.Run("wrong arguments", func(t *testing.T) {
			_, err := importString(t, s, "t", "songs", CSV, "")
			se, _ := services.AsError(err)
			require.NotNil(t, se)
			assert.Equal(t, services.CodeValidation, se.Code)
			_, err = importString(t, s, "t", KindMetrics, "xml", "")
			assert.Error(t, err)
			_, err = importString(t, s, "", KindMetrics, CSV, "")
			assert.Error(t, err)
		})
	})
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestMicros(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1_000_000, true}, {"1.5", 1_500_000, true}, {"0.000001", 1, true},
		{"12.340000", 12_340_000, true}, {"1000000000000", 1_000_000_000_000_000_000, true},
		{"1000000000000.01", 0, false}, {"-1", 0, false}, {"1.", 0, false}, {".5", 0, false},
		{"1e3", 0, false}, {"1.1234567", 0, false}, {"", 0, false},
	} {
		got, ok := parseMicros(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		if ok {
			back, _ := parseMicros(formatMicros(got))
			assert.Equal(t, got, back, tc.in)
		}
	}
}

func TestDemo(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newTestStore(db)
		asOf := time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC)
		reports, err := s.LoadDemo(ctx, "demo", 7, asOf)
		require.NoError(t, err)
		require.Len(t, reports, len(Kinds))
		c, err := s.Coverage(ctx, "demo")
		require.NoError(t, err)
		assert.Equal(t, DatasetDemo, c.Dataset)
		assert.Equal(t, KindCoverage{Kind: KindMetrics, Rows: 730 * 5, From: "2024-03-01", To: "2026-02-28"}, c.Of(KindMetrics))
		assert.Equal(t, int64(10), c.Of(KindCampaigns).Rows)
		assert.Equal(t, int64(DemoListeners), c.Of(KindListeners).Rows)
		assert.Positive(t, c.Of(KindListenerActivity).Rows)
		assert.Equal(t, int64(300), c.Of(KindFeedback).Rows)
		assert.Equal(t, int64(72), c.Of(KindCompetitors).Rows)
		totals, err := s.CampaignPeriods(ctx, "demo", day("2024-01-01"), day("2026-12-31"))
		require.NoError(t, err)
		withResults := 0
		for _, ct := range totals {
			if ct.Days > 0 {
				withResults++
			}
		}
		assert.Equal(t, 8, withResults)

		// Loading it again changes nothing; a tenant with its own data is refused.
		reports, err = s.LoadDemo(ctx, "demo", 7, asOf)
		require.NoError(t, err)
		for _, r := range reports {
			assert.Equal(t, r.Read, r.Unchanged, r.Kind)
		}
		_, err = importString(t, s, "own", KindMetrics, CSV, metricsCSV)
		require.NoError(t, err)
		_, err = s.LoadDemo(ctx, "own", 7, asOf)
		se, ok := services.AsError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, services.CodeConflict, se.Code)

		// Files imported over the demo make it mixed.
		_, err = importString(t, s, "demo", KindCompetitors, CSV, "name,date,monthly_listeners\nNew,2026-01-01,5\n")
		require.NoError(t, err)
		c, err = s.Coverage(ctx, "demo")
		require.NoError(t, err)
		assert.Equal(t, DatasetMixed, c.Dataset)
	})
}
