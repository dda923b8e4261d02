package community

import "unicode/utf8"

// Text from outside (remote profiles and posts, comments, reasons) is cut to the
// domain's limits rather than refused, since peers' limits differ from ours. Cuts fall
// on rune boundaries so that what is stored stays valid UTF-8.

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s
}
