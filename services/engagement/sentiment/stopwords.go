package sentiment

// stopWords is a general English stop list (function words, pronouns,
// auxiliaries, common adverbs and their contractions) written for topic
// extraction. It carries no sentiment; sentiment words are taken out of
// topics through the VADER lexicon instead. Contractions are listed with a
// straight apostrophe, to which candidates normalises curly ones.
var stopWords = func() map[string]bool {
	words := []string{
		"a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and",
		"any", "are", "aren't", "as", "at", "be", "because", "been", "before", "being", "below",
		"between", "both", "but", "by", "can", "can't", "cannot", "could", "couldn't", "did",
		"didn't", "do", "does", "doesn't", "doing", "don't", "down", "during", "each", "even",
		"ever", "every", "few", "for", "from", "further", "get", "gets", "got", "had", "hadn't",
		"has", "hasn't", "have", "haven't", "having", "he", "he'd", "he'll", "he's", "her",
		"here", "here's", "hers", "herself", "him", "himself", "his", "how", "how's", "i",
		"i'd", "i'll", "i'm", "i've", "if", "in", "into", "is", "isn't", "it", "it's", "its",
		"itself", "just", "let's", "like", "lot", "lots", "me", "more", "most", "much", "must",
		"mustn't", "my", "myself", "never", "no", "nor", "not", "now", "of", "off", "on",
		"once", "one", "only", "or", "other", "ought", "our", "ours", "ourselves", "out",
		"over", "own", "quite", "rather", "really", "same", "shall", "shan't", "she", "she'd",
		"she'll", "she's", "should", "shouldn't", "so", "some", "still", "such", "than",
		"that", "that's", "the", "their", "theirs", "them", "themselves", "then", "there",
		"there's", "these", "they", "they'd", "they'll", "they're", "they've", "thing",
		"things", "this", "those", "though", "through", "to", "too", "under", "until", "up",
		"us", "very", "was", "wasn't", "we", "we'd", "we'll", "we're", "we've", "were",
		"weren't", "what", "what's", "when", "when's", "where", "where's", "which", "while",
		"who", "who's", "whom", "why", "why's", "will", "with", "won't", "would", "wouldn't",
		"yet", "you", "you'd", "you'll", "you're", "you've", "your", "yours", "yourself",
		"yourselves", "im", "ive", "dont", "cant", "wont", "didnt", "doesnt", "isnt", "thats",
		"u", "ur", "pls", "please", "lol", "omg", "gonna", "wanna", "gotta", "yeah", "oh",
		"ok", "okay", "know", "think", "make", "made", "way", "always", "many", "back",
	}
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}()
