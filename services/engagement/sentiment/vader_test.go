package sentiment

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// referenceREADME holds the example sentences of the reference VADER
// implementation and the compound scores it prints for them, copied from
// the "Output for the above example code" section of the README of
// github.com/cjhutto/vaderSentiment (README.rst, as stored at commit
// 0180de61728c715aec95831e97e4cc5a2f5541b6).
//
// govader agrees with every compound score to 4 decimals. Known divergences,
// which this test does not check because only compound is used here: the
// pos/neu proportions of "At least it isn't a horrible book." (reference
// pos 0.363, govader 0.322) and of the emoji sentence (reference pos 0.279,
// govader 0.254).
var referenceREADME = []struct {
	text     string
	compound float64
}{
	{"VADER is smart, handsome, and funny.", 0.8316},
	{"VADER is smart, handsome, and funny!", 0.8439},
	{"VADER is very smart, handsome, and funny.", 0.8545},
	{"VADER is VERY SMART, handsome, and FUNNY.", 0.9227},
	{"VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342},
	{"VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", 0.9469},
	{"VADER is not smart, handsome, nor funny.", -0.7424},
	{"The book was good.", 0.4404},
	{"At least it isn't a horrible book.", 0.431},
	{"The book was only kind of good.", 0.3832},
	{"The plot was good, but the characters are uncompelling and the dialog is not great.", -0.7042},
	{"Today SUX!", -0.5461},
	{"Today only kinda sux! But I'll get by, lol", 0.5249},
	{"Make sure you :) or :D today!", 0.8633},
	{"Catch utf-8 emoji such as such as 💘 and 💋 and 😁", 0.7003},
	{"Not bad at all", 0.431},
}

func TestScoreAgreesWithReferenceVADER(t *testing.T) {
	a := NewAnalyzer()
	for _, tc := range referenceREADME {
		t.Run(tc.text, func(t *testing.T) {
			// The README prints 4 decimals; agreement to 3 is the claim.
			assert.InDelta(t, tc.compound, a.Score(tc.text).Compound, 0.0005)
		})
	}
}

func TestScoreCollapsesWhitespaceLikePythonSplit(t *testing.T) {
	a := NewAnalyzer()
	want := a.Score("The book was only kind of good.").Compound
	assert.InDelta(t, want, a.Score("The  book was only\tkind of\ngood.").Compound, 1e-12)
}

func TestScoreOddInputsAreNeutralNotPanics(t *testing.T) {
	a := NewAnalyzer()
	for _, s := range []string{"", "   ", "\n\t", "!!!", "\xff\xfe", "but", "not", "least", "kind of", "at least", ":) :(", "🙂🙂🙂"} {
		assert.NotPanics(t, func() {
			sc := a.Score(s)
			assert.GreaterOrEqual(t, sc.Compound, -1.0)
			assert.LessOrEqual(t, sc.Compound, 1.0)
		}, s)
	}
	assert.Equal(t, Score{Neutral: 1}, a.Score("  "))
}

func FuzzScore(f *testing.F) {
	a := NewAnalyzer()
	for _, tc := range referenceREADME {
		f.Add(tc.text)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := a.Score(s).Compound
		if c < -1 || c > 1 || c != c {
			t.Fatalf("compound %v out of range for %q", c, s)
		}
	})
}
