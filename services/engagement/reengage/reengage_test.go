package reengage

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var played = time.Date(2026, 4, 12, 21, 5, 0, 0, time.UTC)

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name string
		tmpl string
		r    Recipient
		opt  Options
		want string
	}{
		{
			name: "all placeholders",
			tmpl: "You last played on {{lastPlayed}}. New tracks are up on {{favouritePlatform}}: {{incentive}}.",
			r:    Recipient{ListenerID: "L1", LastPlayed: played, FavouritePlatform: "Spotify"},
			opt:  Options{Incentive: "a free month"},
			want: "You last played on 12 April 2026. New tracks are up on Spotify: a free month.",
		},
		{
			name: "spaces inside braces, repeated use, own incentive wins",
			tmpl: "{{ incentive }} / {{incentive}}",
			r:    Recipient{ListenerID: "L1", Incentive: "early tickets"},
			opt:  Options{Incentive: "a free month"},
			want: "early tickets / early tickets",
		},
		{
			name: "date layout",
			tmpl: "since {{lastPlayed}}",
			r:    Recipient{ListenerID: "L1", LastPlayed: played},
			opt:  Options{DateLayout: time.DateOnly},
			want: "since 2026-04-12",
		},
		{
			name: "no placeholders",
			tmpl: "We miss you.",
			r:    Recipient{ListenerID: "L1"},
			want: "We miss you.",
		},
		{
			name: "values are text, never template code",
			tmpl: "on {{favouritePlatform}}",
			r:    Recipient{ListenerID: "L1", FavouritePlatform: "{{.Secret}} <b>"},
			want: "on {{.Secret}} <b>",
		},
		{
			name: "lone closing braces are plain text",
			tmpl: "}} {{incentive}} }}",
			r:    Recipient{ListenerID: "L1", Incentive: "x"},
			want: "}} x }}",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := Parse(tc.tmpl)
			require.NoError(t, err)
			got, err := tm.Render(tc.r, tc.opt)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseRefusesUnknownPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		tmpl string
		want string
	}{
		{"Hi {{firstName}}!", "reengage: unknown placeholder {{firstName}} at line 1, column 4; allowed: {{lastPlayed}}, {{favouritePlatform}}, {{incentive}}"},
		{"line one\n  {{.LastPlayed}}", "reengage: unknown placeholder {{.LastPlayed}} at line 2, column 3; allowed: {{lastPlayed}}, {{favouritePlatform}}, {{incentive}}"},
		{"{{if true}}x{{end}}", "reengage: unknown placeholder {{if true}} at line 1, column 1; allowed: {{lastPlayed}}, {{favouritePlatform}}, {{incentive}}"},
		{"{{LastPlayed}}", "reengage: unknown placeholder {{LastPlayed}} at line 1, column 1; allowed: {{lastPlayed}}, {{favouritePlatform}}, {{incentive}}"},
		{"{{}}", "reengage: unknown placeholder {{}} at line 1, column 1; allowed: {{lastPlayed}}, {{favouritePlatform}}, {{incentive}}"},
		{"{{- incentive -}}", "reengage: unknown placeholder {{- incentive -}} at line 1, column 1; allowed: {{lastPlayed}}, {{favouritePlatform}}, {{incentive}}"},
	} {
		t.Run(tc.tmpl, func(t *testing.T) {
			_, err := Parse(tc.tmpl)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnknownPlaceholder)
			assert.EqualError(t, err, tc.want)
		})
	}
}

func TestParseErrors(t *testing.T) {
	_, err := Parse("  \n")
	assert.ErrorIs(t, err, ErrEmptyTemplate)
	_, err = Parse("ok {{incentive}} then {{lastPlayed")
	assert.EqualError(t, err, "reengage: placeholder opened at line 1, column 23 is not closed with }}")
	assert.ErrorIs(t, err, ErrUnknownPlaceholder)
}

func TestRenderMissingValues(t *testing.T) {
	tm, err := Parse("{{lastPlayed}} {{favouritePlatform}} {{incentive}}")
	require.NoError(t, err)
	for _, tc := range []struct {
		r    Recipient
		opt  Options
		want string
	}{
		{Recipient{ListenerID: "L1", FavouritePlatform: "x"}, Options{Incentive: "y"}, `reengage: listener "L1" has no value for {{lastPlayed}}`},
		{Recipient{ListenerID: "L2", LastPlayed: played, FavouritePlatform: " "}, Options{Incentive: "y"}, `reengage: listener "L2" has no value for {{favouritePlatform}}`},
		{Recipient{ListenerID: "L3", LastPlayed: played, FavouritePlatform: "x"}, Options{}, `reengage: listener "L3" has no value for {{incentive}}`},
	} {
		_, err := tm.Render(tc.r, tc.opt)
		assert.EqualError(t, err, tc.want)
	}
	// A value the template does not use need not be there.
	only, err := Parse("come back for {{incentive}}")
	require.NoError(t, err)
	assert.True(t, only.Uses(Incentive))
	assert.False(t, only.Uses(LastPlayed))
	got, err := only.Render(Recipient{ListenerID: "L4"}, Options{Incentive: "a remix"})
	require.NoError(t, err)
	assert.Equal(t, "come back for a remix", got)
}

func recipients(n int) []Recipient {
	out := make([]Recipient, n)
	for i := range out {
		out[i] = Recipient{ListenerID: fmt.Sprintf("L%d", i), LastPlayed: played.AddDate(0, 0, -i), FavouritePlatform: "Deezer"}
	}
	return out
}

func TestBuildBatches(t *testing.T) {
	tm, err := Parse("{{lastPlayed}} on {{favouritePlatform}}")
	require.NoError(t, err)
	for _, tc := range []struct {
		n, size int
		want    []int
	}{
		{7, 3, []int{3, 3, 1}},
		{6, 3, []int{3, 3}},
		{2, 5, []int{2}},
		{1, 1, []int{1}},
	} {
		t.Run(fmt.Sprintf("%d by %d", tc.n, tc.size), func(t *testing.T) {
			batches, err := Build(tm, recipients(tc.n), Options{BatchSize: tc.size})
			require.NoError(t, err)
			var sizes []int
			k := 0
			for _, b := range batches {
				sizes = append(sizes, len(b))
				for _, m := range b {
					// Order is kept across batches.
					assert.Equal(t, fmt.Sprintf("L%d", k), m.ListenerID)
					k++
				}
			}
			assert.Equal(t, tc.want, sizes)
		})
	}
	batches, err := Build(tm, recipients(2), Options{BatchSize: 1})
	require.NoError(t, err)
	assert.Equal(t, "11 April 2026 on Deezer", batches[1][0].Body)
}

func TestBatchGroupsDoNotOverlap(t *testing.T) {
	msgs := []Message{{ListenerID: "a"}, {ListenerID: "b"}, {ListenerID: "c"}}
	batches, err := Batch(msgs, 2)
	require.NoError(t, err)
	_ = append(batches[0], Message{ListenerID: "z"})
	assert.Equal(t, "c", batches[1][0].ListenerID)
}

func TestBuildErrors(t *testing.T) {
	tm, err := Parse("{{incentive}}")
	require.NoError(t, err)
	_, err = Build(tm, nil, Options{BatchSize: 2})
	assert.ErrorIs(t, err, ErrNoRecipients)
	_, err = Build(tm, recipients(1), Options{BatchSize: 0})
	assert.ErrorIs(t, err, ErrBadBatchSize)
	_, err = Build(nil, recipients(1), Options{BatchSize: 1})
	assert.ErrorIs(t, err, ErrEmptyTemplate)
	_, err = Build(tm, []Recipient{{ListenerID: "a"}, {ListenerID: "a"}}, Options{BatchSize: 1, Incentive: "x"})
	assert.EqualError(t, err, `reengage: listener "a" is listed twice`)
	_, err = Build(tm, []Recipient{{}}, Options{BatchSize: 1, Incentive: "x"})
	assert.EqualError(t, err, "reengage: recipient 0 has no listener id")
	_, err = Build(tm, recipients(3), Options{BatchSize: 1})
	assert.EqualError(t, err, `reengage: listener "L0" has no value for {{incentive}}`)
	_, err = Batch(nil, 3)
	assert.ErrorIs(t, err, ErrNoRecipients)
	_, err = Batch([]Message{{}}, -1)
	assert.ErrorIs(t, err, ErrBadBatchSize)
}

func FuzzParseAndRender(f *testing.F) {
	for _, s := range []string{"{{incentive}}", "{{x}}", "{{", "}}{{lastPlayed}}{{", "a\n{{ favouritePlatform }}\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := Parse(s)
		if err != nil {
			return
		}
		if _, err := tm.Render(Recipient{ListenerID: "L", LastPlayed: played, FavouritePlatform: "p"}, Options{Incentive: "i"}); err != nil {
			t.Fatalf("parsed template %q failed to render: %v", s, err)
		}
	})
}
