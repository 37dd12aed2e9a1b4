package tenantdata

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/engagement/churn"
)

// DemoListeners is how many listeners the demo artist has.
const DemoListeners = 3000

// LoadDemo loads a synthetic artist into tenant in one transaction: the same seed and asOf
// give the same rows, so loading it again changes nothing. The figures end the day before
// asOf (UTC):
//
//   - two years of daily metrics on spotify, apple-music, youtube, tiktok and soundcloud:
//     each platform's own level, 30 to 80% growth a year, more listening on Friday and Saturday,
//     four releases whose spikes decay over about two weeks, and 8% noise;
//   - ten campaigns on different channels: eight with daily results while they ran (the paused
//     and the cancelled one for half their schedule), and one scheduled after asOf and a draft,
//     which have none;
//   - DemoListeners listeners from churn.Synthesize(seed, DemoListeners, asOf), whose churn
//     follows that package's known hazard, with their daily activity;
//   - 300 feedback texts: feedback F0000 to F0299, positive when its number is 0 mod 3,
//     negative when 1 and neutral when 2;
//   - three competitors' monthly listeners on the first of each month.
//
// A tenant holding data of its own is refused with a conflict.
func (s *Store) LoadDemo(ctx context.Context, tenant string, seed uint64, asOf time.Time) ([]Report, error) {
	if tenant == "" {
		return nil, services.Errorf(services.CodeValidation, "No tenant was given.")
	}
	end := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	var reports []Report
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var dataset string
		err := tx.QueryRowContext(ctx, `SELECT dataset FROM tenant_datasets WHERE tenant = $1`, tenant).Scan(&dataset)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		if dataset != DatasetDemo {
			for _, k := range Kinds {
				n, err := countRows(ctx, tx, kindDefs[k], tenant)
				if err != nil {
					return err
				}
				if n > 0 {
					return services.Errorf(services.CodeConflict,
						"Tenant %s already holds data of its own (%d rows of %s); the demo is loaded only into a tenant without data.", tenant, n, k)
				}
			}
		}
		gens := demo(seed, end)
		for _, k := range Kinds {
			rep, err := s.importInto(ctx, tx, tenant, kindDefs[k], CSV, newSeqSource(gens[k]))
			if err != nil {
				return err
			}
			if !rep.OK() {
				return fmt.Errorf("demo %s: %d rows rejected, the first %+v", k, rep.Rejected, rep.Errors[0])
			}
			reports = append(reports, rep)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tenant_datasets (tenant, dataset, seed, loaded_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant) DO NOTHING`, tenant, DatasetDemo, int64(seed), s.now().UnixMilli())
		return err
	})
	return reports, err
}

// DemoSeed is the seed the development server and jarvis data demo use unless told another.
const DemoSeed = 1

// EnsureDemo loads the demo into tenant when it holds no data at all, and says whether it did.
func (s *Store) EnsureDemo(ctx context.Context, tenant string, seed uint64, asOf time.Time) (bool, error) {
	c, err := s.Coverage(ctx, tenant)
	if err != nil || c.Rows() > 0 {
		return false, err
	}
	_, err = s.LoadDemo(ctx, tenant, seed, asOf)
	return err == nil, err
}

// seqSource yields generated rows, given in column order.
type seqSource struct {
	pull func() ([]string, bool)
	stop func()
	line int
}

func newSeqSource(seq iter.Seq[[]string]) *seqSource {
	next, stop := iter.Pull(seq)
	return &seqSource{pull: next, stop: stop}
}

func (s *seqSource) next() (int, []string, []RowError, error) {
	row, ok := s.pull()
	if !ok {
		s.stop()
		return 0, nil, nil, io.EOF
	}
	s.line++
	return s.line + 1, row, nil, nil // as in a CSV file with its header
}

func demo(seed uint64, end time.Time) map[Kind]iter.Seq[[]string] {
	first := end.AddDate(-2, 0, 0)
	days := int(end.Sub(first).Hours() / 24)
	ds := func(t time.Time) string { return t.Format(time.DateOnly) }
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	rng := func(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

	listeners := churn.Synthesize(seed, DemoListeners, end)
	campaigns := demoCampaigns(first, end)
	return map[Kind]iter.Seq[[]string]{
		KindMetrics: func(yield func([]string) bool) {
			type platform struct {
				name         string
				base, growth float64 // streams a day at the start, growth a year
				perStream    float64 // revenue per stream, USD
			}
			platforms := []platform{{"spotify", 4000, 0.6, 0.004}, {"apple-music", 1200, 0.4, 0.007},
				{"youtube", 2500, 0.5, 0.0018}, {"tiktok", 1800, 0.8, 0.0004}, {"soundcloud", 600, 0.3, 0.0025}}
			weekday := [7]float64{0.92, 0.9, 0.93, 0.97, 1.1, 1.18, 1.0} // Sunday first
			releases := []int{days / 8, days * 3 / 8, days * 5 / 8, days * 7 / 8}
			r := rng(1 << 40)
			followers := make([]float64, len(platforms))
			for d := range days {
				day := first.AddDate(0, 0, d)
				spike := 1.0
				for _, rd := range releases {
					if d >= rd {
						spike += 1.5 * math.Exp(-float64(d-rd)/5)
					}
				}
				for p, pl := range platforms {
					trend := pl.base * math.Pow(1+pl.growth, float64(d)/365)
					streams := math.Round(trend * weekday[day.Weekday()] * spike * math.Exp(0.08*r.NormFloat64()))
					listeners := math.Round(streams * (0.3 + 0.05*r.Float64()))
					followers[p] += listeners * 0.002
					saves := math.Round(streams * 0.03 * (0.8 + 0.4*r.Float64()))
					revenue := math.Round(streams*pl.perStream*100) / 100
					if !yield([]string{ds(day), pl.name, i64(int64(streams)), i64(int64(listeners)),
						i64(int64(followers[p]) + 500), i64(int64(saves)), strconv.FormatFloat(revenue, 'f', 2, 64), "USD"}) {
						return
					}
				}
			}
		},
		KindCampaigns: func(yield func([]string) bool) {
			for _, c := range campaigns {
				created := c.start.AddDate(0, 0, -14).Add(10 * time.Hour).Format(time.RFC3339)
				if !yield([]string{c.id, c.name, c.channel, strconv.Itoa(c.budget), "USD", c.audience, ds(c.start), ds(c.end),
					c.status, "demo", created, "demo", created}) {
					return
				}
			}
		},
		KindCampaignResults: func(yield func([]string) bool) {
			for n, c := range campaigns {
				if c.status == "draft" || c.status == "scheduled" {
					continue
				}
				r := rng(1<<41 + uint64(n))
				length := int(c.end.Sub(c.start).Hours()/24) + 1
				perDay := float64(c.budget) / float64(length)
				for d := c.start; !d.After(c.end) && d.Before(end); d = d.AddDate(0, 0, 1) {
					if (c.status == "paused" || c.status == "cancelled") && d.After(c.start.AddDate(0, 0, length/2)) {
						break
					}
					spend := perDay * (0.85 + 0.3*r.Float64())
					impressions := int64(spend * c.cpm * (0.9 + 0.2*r.Float64()))
					clicks := int64(float64(impressions) * c.ctr * (0.8 + 0.4*r.Float64()))
					conversions := int64(float64(clicks) * c.cvr * (0.7 + 0.6*r.Float64()))
					// Attributed revenue follows the conversions without a draw of its own, so
					// that the other figures stay as they were for a seed.
					revenue := float64(conversions) * conversionValue[c.channel]
					if !yield([]string{c.id, ds(d), i64(impressions), i64(clicks), i64(conversions),
						strconv.FormatFloat(math.Round(spend*100)/100, 'f', 2, 64), strconv.FormatFloat(math.Round(revenue*100)/100, 'f', 2, 64)}) {
						return
					}
				}
			}
		},
		KindListeners: func(yield func([]string) bool) {
			for _, l := range listeners {
				churned := ""
				if l.ChurnedAt != nil {
					churned = ds(*l.ChurnedAt)
				}
				if !yield([]string{l.ID, l.Plan, l.Country, l.AgeBand, ds(l.FirstSeen), churned}) {
					return
				}
			}
		},
		KindListenerActivity: func(yield func([]string) bool) {
			for _, l := range listeners {
				for _, a := range l.Activity {
					if !yield([]string{l.ID, ds(a.Date), strconv.Itoa(int(a.Sessions)),
						strconv.FormatFloat(a.Minutes, 'f', -1, 64), strconv.Itoa(int(a.Tracks))}) {
						return
					}
				}
			}
		},
		KindFeedback: func(yield func([]string) bool) {
			r := rng(1 << 42)
			for i := range 300 {
				var text, rating string
				switch i % 3 {
				case 0:
					text = positive[r.IntN(len(positive))]
					rating = strconv.Itoa(4 + r.IntN(2))
				case 1:
					text = negative[r.IntN(len(negative))]
					rating = strconv.Itoa(1 + r.IntN(2))
				default:
					text = neutral[r.IntN(len(neutral))]
					rating = "3"
				}
				source := FeedbackSources[r.IntN(len(FeedbackSources))]
				if source != "reviews" && source != "surveys" {
					rating = ""
				}
				listener := ""
				if r.IntN(2) == 0 {
					listener = listeners[r.IntN(len(listeners))].ID
				}
				at := first.Add(time.Duration(r.Int64N(int64(end.Sub(first)/time.Second))) * time.Second)
				if !yield([]string{fmt.Sprintf("F%04d", i), source, text, rating, at.Format(time.RFC3339), listener}) {
					return
				}
			}
		},
		KindCompetitors: func(yield func([]string) bool) {
			rivals := []struct {
				name         string
				base, growth float64
			}{{"Nova Lane", 180000, 0.02}, {"The Quiet Hours", 95000, -0.01}, {"Mara Vey", 40000, 0.06}}
			r := rng(1 << 43)
			for _, c := range rivals {
				for m := 0; m < 24; m++ {
					d := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, m+1, 0)
					v := c.base * math.Pow(1+c.growth, float64(m)) * math.Exp(0.05*r.NormFloat64())
					if !yield([]string{c.name, ds(d), i64(int64(v))}) {
						return
					}
				}
			}
		},
	}
}

type demoCampaign struct {
	id, name, channel, audience, status string
	start, end                          time.Time
	budget                              int
	cpm, ctr, cvr                       float64 // impressions per dollar, clicks per impression, conversions per click
}

// conversionValue is the revenue, in USD, a conversion of the demo artist's campaigns brings
// per channel: a pre-save or a follow on a streaming platform earns more than a click from a
// display ad.
var conversionValue = map[string]float64{
	"social-ads": 1.4, "playlist-pitch": 2.2, "email": 1.1, "influencer": 1.6, "youtube-ads": 0.9,
	"display": 0.7, "tiktok-ads": 1.2, "radio": 1,
}

func demoCampaigns(first, end time.Time) []demoCampaign {
	at := func(days int) time.Time { return first.AddDate(0, 0, days) }
	untilEnd := func(days int) time.Time { return end.AddDate(0, 0, days) }
	return []demoCampaign{
		{"cmp-001", "Debut single launch", "social-ads", "fans of indie pop 18-34", "completed", at(80), at(110), 3000, 120, 0.018, 0.06},
		{"cmp-002", "Playlist pitching, spring", "playlist-pitch", "editorial and user playlists", "completed", at(260), at(290), 1500, 40, 0.05, 0.09},
		{"cmp-003", "Newsletter re-engagement", "email", "lapsed newsletter subscribers", "completed", at(300), at(314), 200, 400, 0.03, 0.04},
		{"cmp-010", "Acoustic session ads", "social-ads", "fans of acoustic covers", "completed", at(380), at(400), 800, 130, 0.022, 0.07},
		{"cmp-004", "Creator collaborations", "influencer", "TikTok creators 18-24", "completed", at(440), at(480), 5000, 90, 0.025, 0.05},
		{"cmp-005", "Music video pre-roll", "youtube-ads", "YouTube music viewers US, GB", "cancelled", at(560), at(600), 2500, 150, 0.012, 0.04},
		{"cmp-006", "Album pre-save", "social-ads", "followers and lookalikes", "paused", untilEnd(-60), untilEnd(-10), 4000, 110, 0.02, 0.08},
		{"cmp-007", "Summer tour", "display", "listeners in tour cities", "active", untilEnd(-20), untilEnd(20), 6000, 200, 0.008, 0.03},
		{"cmp-008", "Holiday single", "tiktok-ads", "TikTok users 18-34", "scheduled", untilEnd(30), untilEnd(60), 2000, 100, 0.02, 0.05},
		{"cmp-009", "Radio push, next album", "radio", "college radio", "draft", untilEnd(90), untilEnd(120), 1000, 0, 0, 0},
	}
}

// Feedback texts by polarity.
var (
	positive = []string{
		"Absolutely love the new single, it has been on repeat all week!",
		"Great album. The production is beautiful and the vocals are amazing.",
		"Best concert I have been to this year, fantastic energy.",
		"This track makes me so happy, thank you for the wonderful music.",
		"Brilliant songwriting, every song is a favorite.",
	}
	negative = []string{
		"The new mix sounds terrible, the vocals are buried and muddy.",
		"Disappointed by the album, boring and repetitive.",
		"The app keeps crashing when I play this playlist, awful experience.",
		"Worst show ever, the sound was bad and it started two hours late.",
		"I hate that the songs were removed from my library, really frustrating.",
	}
	neutral = []string{
		"When is the next album coming out?",
		"Listened to the single on the train today.",
		"Is the tour coming to Lisbon?",
		"The vinyl edition ships in March according to the store.",
		"Heard this song in a cafe.",
	}
)
