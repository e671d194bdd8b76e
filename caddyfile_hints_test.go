package cookienormalizer

import "testing"

// TestNearest: the name meant by a typo is the one known name within two
// edits (and closer than the word is long); none when two are as near.
func TestNearest(t *testing.T) {
	known := []string{"expire", "path", "domain", "on_delete", "bat", "car"}
	for _, tc := range []struct{ word, want string }{
		{"expires", "expire"},
		{"expier", "expire"}, // two edits
		{"paths", "path"},
		{"ondelete", "on_delete"},
		{"on_dele", "on_delete"},
		{"on_del", ""}, // three edits
		{"cat", ""},    // bat and car, one edit each
		{"ba", "bat"},  // one edit, shorter than the word
		{"xy", ""},     // two edits from bat and car, as long as the word
		{"domian", "domain"},
		{"bogus", ""},
	} {
		if got := nearest(tc.word, known); got != tc.want {
			t.Errorf("nearest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}
