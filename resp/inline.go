package resp

// splitArgs splits an inline request line (without its line ending) into
// arguments by the rules of Redis's sdssplitargs, appending their bytes to
// dst and their places in dst to spans. ok is false for unbalanced quotes.
//
// The rules: blanks (C isspace: space, \t, \n, \v, \f, \r) separate
// arguments, but only space, \t, \n and \r end an unquoted one. A double
// quote may open anywhere in an argument; inside it \xHH is a byte, \n \r \t
// \b \a are control characters, and a backslash before any other byte stands
// for that byte. Inside single quotes only \' is an escape. A closing quote
// must be followed by a blank or the end of the line.
func splitArgs(dst []byte, spans []span, line []byte) (_ []byte, _ []span, ok bool) {
	// at returns the byte at i, or 0 past the end as C's terminating NUL.
	// The line holds no NUL: Reader never lets one into an inline line.
	at := func(i int) byte {
		if i < len(line) {
			return line[i]
		}
		return 0
	}
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return dst, spans, true
		}
		from := len(dst)
		inDouble, inSingle := false, false
		for done := false; !done; {
			c := at(i)
			switch {
			case inDouble:
				switch {
				case c == '\\' && at(i+1) == 'x' && isHex(at(i+2)) && isHex(at(i+3)):
					dst = append(dst, unhex(at(i+2))<<4|unhex(at(i+3)))
					i += 3
				case c == '\\' && at(i+1) != 0:
					i++
					dst = append(dst, unescape(line[i]))
				case c == '"':
					if next := at(i + 1); next != 0 && !isSpace(next) {
						return dst, spans, false
					}
					done = true
				case c == 0:
					return dst, spans, false
				default:
					dst = append(dst, c)
				}
			case inSingle:
				switch {
				case c == '\\' && at(i+1) == '\'':
					i++
					dst = append(dst, '\'')
				case c == '\'':
					if next := at(i + 1); next != 0 && !isSpace(next) {
						return dst, spans, false
					}
					done = true
				case c == 0:
					return dst, spans, false
				default:
					dst = append(dst, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					dst = append(dst, c)
				}
			}
			if i < len(line) {
				i++
			}
		}
		spans = append(spans, span{from, len(dst)})
	}
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}
