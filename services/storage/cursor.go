package storage

import (
	"encoding/base64"
	"encoding/json"
)

// EncodeCursor writes a page position as an opaque, URL-safe cursor.
func EncodeCursor(position any) string {
	b, _ := json.Marshal(position)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor written by EncodeCursor into position.
func DecodeCursor(cursor string, position any) error {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, position)
}
