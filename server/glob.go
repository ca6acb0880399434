package server

// Glob patterns as KEYS, SCAN MATCH and the other Redis commands read them:
//
//	*       any run of bytes, including none
//	?       any one byte
//	[abc]   one of the bytes listed; [^abc] one byte not listed
//	[a-z]   a byte in a range; the ends may come in either order ([z-a])
//	\x      the byte x itself, outside or inside a class
//
// Matching is by bytes, case-sensitive, and reproduces redis-server 7.0 on
// the odd inputs too, because a client cannot tell the difference otherwise:
//
//   - An unclosed class ("[abc") takes the rest of the pattern as its set.
//   - In "[a-]" the '-' makes a range a..']', so the ']' does not close it.
//   - Range ends compare as signed chars, as in redis-server built for
//     x86-64: bytes 0x80-0xff sort below 0x00, so "[a-\xff]" holds \xff
//     and 0x00-'a' but not 'b'-'~'.
//   - A trailing lone '\' matches a '\'.
//   - "*" matches every key, the empty one too, but "**" does not match
//     the empty key (KEYS and SCAN special-case the pattern "*").
//   - Patterns nesting more than maxGlobNesting stars stop matching, Redis's
//     guard against abusive patterns.

// maxGlobNesting is how deep star backtracking may recurse before the
// match fails, as in Redis.
const maxGlobNesting = 1000

// globMatch reports whether s matches the glob pattern.
func globMatch(pattern, s []byte) bool {
	skip := false
	return globMatchAt(pattern, s, &skip, 0)
}

// matchesAll reports whether pattern is the single star that KEYS and SCAN
// treat as "no filter".
func matchesAll(pattern []byte) bool { return len(pattern) == 1 && pattern[0] == '*' }

// globMatchAt matches s against pattern. *skipLonger is set once the
// remainder after some star failed to match at every position of the rest
// of s: then no earlier star can help by swallowing more, and the whole
// match fails at once, keeping the cost polynomial.
func globMatchAt(pattern, s []byte, skipLonger *bool, nesting int) bool {
	if nesting > maxGlobNesting {
		return false
	}
	p := 0
	i := 0
	for p < len(pattern) && i < len(s) {
		switch pattern[p] {
		case '*':
			for p+1 < len(pattern) && pattern[p+1] == '*' {
				p++
			}
			if p == len(pattern)-1 {
				return true
			}
			for ; i < len(s); i++ {
				if globMatchAt(pattern[p+1:], s[i:], skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
			}
			*skipLonger = true
			return false
		case '?':
			i++
		case '[':
			var ok bool
			ok, p = matchClass(pattern, p+1, s[i])
			if !ok {
				return false
			}
			i++
		case '\\':
			if p+1 < len(pattern) {
				p++
			}
			fallthrough
		default:
			if pattern[p] != s[i] {
				return false
			}
			i++
		}
		p++
		if i == len(s) {
			for p < len(pattern) && pattern[p] == '*' {
				p++
			}
			break
		}
	}
	return p == len(pattern) && i == len(s)
}

// matchClass matches the byte b against the class whose body starts at
// pattern[p] (just after '['). It returns whether b is in the class and
// the index of the class's last byte: its ']', or the pattern's last byte
// when the class is not closed.
func matchClass(pattern []byte, p int, b byte) (bool, int) {
	negate := p < len(pattern) && pattern[p] == '^'
	if negate {
		p++
	}
	in := false
	for {
		switch {
		case p >= len(pattern):
			// Unclosed: the class ends with the pattern.
			return in != negate, len(pattern) - 1
		case pattern[p] == '\\' && p+1 < len(pattern):
			p++
			if pattern[p] == b {
				in = true
			}
		case pattern[p] == ']':
			return in != negate, p
		case p+2 < len(pattern) && pattern[p+1] == '-':
			lo, hi := int8(pattern[p]), int8(pattern[p+2])
			if lo > hi {
				lo, hi = hi, lo
			}
			if c := int8(b); lo <= c && c <= hi {
				in = true
			}
			p += 2
		default:
			if pattern[p] == b {
				in = true
			}
		}
		p++
	}
}
