package oauthserver

// CacheAge is cacheAge, for the tests.
var CacheAge = cacheAge
