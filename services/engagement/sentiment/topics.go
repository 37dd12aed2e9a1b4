package sentiment

import (
	"errors"
	"sort"
	"strings"
	"unicode"
)

// TopicOptions tunes Topics. The zero value is usable.
type TopicOptions struct {
	// Max is the number of topics returned; 0 means 10.
	Max int
	// MinCount is the number of texts a phrase must appear in; 0 means 2.
	MinCount int
	// MaxWords is the longest topic phrase in words; 0 means 3. Longer RAKE
	// candidates in short feedback are usually whole clauses, not topics.
	MaxWords int
	// KeepSentimentWords keeps VADER lexicon words inside phrases. By
	// default they delimit phrases like stop words do, so "great new album"
	// gives the topic "new album" and its sentiment comes from the scores,
	// not from the topic's name.
	KeepSentimentWords bool
}

// Topic is a key phrase of the corpus.
type Topic struct {
	Phrase string `json:"phrase"`
	// Count is the number of texts the phrase appears in.
	Count int `json:"count"`
	// Score is the phrase's RAKE score: the sum of its words' deg/freq.
	Score float64 `json:"score"`
	// MeanCompound is the mean VADER compound of the texts containing it.
	MeanCompound float64 `json:"meanCompound"`
	Label        Label   `json:"label"`
	// Sample is the text containing the phrase whose compound is closest to
	// MeanCompound (the earliest such text on ties): a representative quote.
	Sample string `json:"sample"`
}

// ErrNoTopics is returned when no phrase reaches TopicOptions.MinCount.
var ErrNoTopics = errors.New("sentiment: no phrase occurs often enough to be a topic")

// Topics extracts key phrases from scored texts with RAKE (Rose, Engel,
// Cramer & Cowley, "Automatic Keyword Extraction from Individual Documents",
// in Text Mining: Applications and Theory, Wiley 2010):
//
//  1. each text is split into candidate phrases at stop words, phrase
//     delimiters (punctuation) and, unless KeepSentimentWords, VADER
//     lexicon words; numbers are dropped;
//  2. over all candidates in the corpus, each word w gets freq(w), the
//     number of candidate occurrences containing it, and deg(w), the sum of
//     the lengths (in words) of those candidates; its score is deg(w)/freq(w);
//  3. a phrase scores the sum of its words' scores.
//
// RAKE ranks the candidates of one document. Over many short texts the same
// subject comes inside different candidates ("live show", "another live
// show"), so a topic is any run of 1..MaxWords consecutive words inside a
// candidate; a run is dropped when a longer run containing it is found in
// exactly as many texts ("live" inside "live show"). Topics are ranked by
// Count (texts containing the phrase), then RAKE score, then alphabetically.
// Words are lower-cased and not stemmed ("song" and "songs" differ).
func (a *Analyzer) Topics(scored []Scored, opt TopicOptions) ([]Topic, error) {
	if len(scored) == 0 {
		return nil, ErrNoTexts
	}
	if opt.Max <= 0 {
		opt.Max = 10
	}
	if opt.MinCount <= 0 {
		opt.MinCount = 2
	}
	if opt.MaxWords <= 0 {
		opt.MaxWords = 3
	}
	var lex map[string]float64
	if !opt.KeepSentimentWords {
		lex = a.lexicon
	}

	freq := map[string]int{}
	deg := map[string]int{}
	// docs maps a phrase to the indices of the texts containing it, once each.
	docs := map[string][]int{}
	for i, s := range scored {
		seen := map[string]bool{}
		for _, cand := range candidates(s.Body, lex) {
			for _, w := range cand {
				freq[w]++
				deg[w] += len(cand)
			}
			for _, p := range ngrams(cand, opt.MaxWords) {
				if !seen[p] {
					seen[p] = true
					docs[p] = append(docs[p], i)
				}
			}
		}
	}
	// A phrase found in exactly the texts of a longer phrase containing it
	// ("live" inside "live show") says nothing more: drop it.
	subsumed := map[string]bool{}
	for q, idx := range docs {
		if len(idx) < opt.MinCount || !strings.Contains(q, " ") {
			continue
		}
		for _, p := range ngrams(strings.Fields(q), opt.MaxWords) {
			if p != q && len(docs[p]) == len(idx) {
				subsumed[p] = true
			}
		}
	}

	topics := make([]Topic, 0, len(docs))
	for p, idx := range docs {
		if len(idx) < opt.MinCount || subsumed[p] {
			continue
		}
		score := 0.0
		for _, w := range strings.Fields(p) {
			score += float64(deg[w]) / float64(freq[w])
		}
		mean := 0.0
		for _, i := range idx {
			mean += scored[i].Score.Compound
		}
		mean /= float64(len(idx))
		sample := idx[0]
		for _, i := range idx[1:] {
			if abs(scored[i].Score.Compound-mean) < abs(scored[sample].Score.Compound-mean) {
				sample = i
			}
		}
		topics = append(topics, Topic{
			Phrase: p, Count: len(idx), Score: score,
			MeanCompound: mean, Label: Classify(mean), Sample: scored[sample].Body,
		})
	}
	if len(topics) == 0 {
		return nil, ErrNoTopics
	}
	sort.Slice(topics, func(i, j int) bool {
		a, b := topics[i], topics[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Phrase < b.Phrase
	})
	if len(topics) > opt.Max {
		topics = topics[:opt.Max]
	}
	return topics, nil
}

// ngrams returns the runs of 1..n consecutive words of words, joined by
// spaces.
func ngrams(words []string, n int) []string {
	var out []string
	for i := range words {
		for j := i + 1; j <= len(words) && j-i <= n; j++ {
			out = append(out, strings.Join(words[i:j], " "))
		}
	}
	return out
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// candidates splits a text into RAKE candidate phrases, each a run of
// content words. Letters, digits and apostrophes make words; spaces
// separate words inside a phrase; anything else ends the phrase.
func candidates(text string, lex map[string]float64) [][]string {
	var out [][]string
	var cur []string
	var word strings.Builder
	flushPhrase := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	flushWord := func() {
		if word.Len() == 0 {
			return
		}
		w := strings.Trim(word.String(), "'")
		word.Reset()
		if w == "" || isNumber(w) || stopWords[w] {
			flushPhrase()
			return
		}
		if _, ok := lex[w]; ok {
			flushPhrase()
			return
		}
		cur = append(cur, w)
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			word.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '\u2019':
			word.WriteByte('\'')
		case unicode.IsSpace(r):
			flushWord()
		default:
			flushWord()
			flushPhrase()
		}
	}
	flushWord()
	flushPhrase()
	return out
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
