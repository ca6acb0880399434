package resp

import (
	"math/big"
	"strings"
)

// Redis computes INCRBYFLOAT in C's long double, which on x86-64 is the x87
// extended format: a 64-bit mantissa and a 15-bit exponent. A big.Float of
// precision 64, rounding to nearest even, computes the same sums; these
// bound its exponent (big.Float's MantExp form, 0.5 <= |mant| < 1) to the
// format's range.
const (
	ldMantBits = 64
	ldMaxExp   = 16384  // LDBL_MAX is just below 2^16384
	ldMinExp   = -16444 // the smallest subnormal is 2^-16445
	ldMaxDec   = 4933   // no long double has this many integer digits
	ldMinDec   = -4951  // below 10^-4951 strtold underflows to zero
)

// IncrByFloat adds incr to cur as Redis's INCRBYFLOAT does and returns the
// new value as Redis stores and replies it, appended to dst. exists is false
// for a missing key, which counts as 0 (an existing empty value is not a
// float). The error text is MsgNotFloat when cur or incr does not parse
// (see ParseFloat for the syntax) and MsgNaNOrInfinity when the sum is not
// finite.
//
// Parsing, the sum and the printing (%.17Lf, trimmed) follow x86-64 Redis
// exactly, including values beyond float64's range such as 1e400. Where
// they can differ: subnormal long doubles (below about 3.4e-4932) keep full
// precision here, and Redis built where long double is wider (aarch64's
// 128-bit) rounds differently in the last digits.
func IncrByFloat(dst, cur []byte, exists bool, incr []byte) ([]byte, string) {
	var v, d big.Float
	v.SetPrec(ldMantBits)
	if exists && !parseLongDouble(&v, cur) {
		return dst, MsgNotFloat
	}
	if !parseLongDouble(&d, incr) {
		return dst, MsgNotFloat
	}
	if v.IsInf() || d.IsInf() {
		return dst, MsgNaNOrInfinity
	}
	v.Add(&v, &d)
	if v.MantExp(nil) > ldMaxExp {
		return dst, MsgNaNOrInfinity
	}
	start := len(dst)
	dst = v.Append(dst, 'f', 17)
	return trimFloat(dst, start), ""
}

// parseLongDouble sets z to b read as strtold reads it, rounded to a long
// double, and reports false where string2ld fails: bad syntax, overflow, or
// underflow to zero. NaN has no syntax that scanFloat accepts.
func parseLongDouble(z *big.Float, b []byte) bool {
	n, ok := scanFloat(b)
	if !ok {
		return false
	}
	z.SetPrec(ldMantBits).SetMode(big.ToNearestEven)
	if n.inf {
		z.SetInf(n.neg)
		return true
	}
	digits := strings.TrimLeft(n.mant, "0")
	if digits == "" {
		z.SetInt64(0)
		if n.neg {
			z.Neg(z)
		}
		return true
	}
	var m big.Int
	frac := int64(len(n.mant) - n.point) // digits after the point
	if n.hex {
		m.SetString(digits, 16)
		exp2 := n.exp - 4*frac
		if top := int64(m.BitLen()) + exp2; top > ldMaxExp+1 || top < ldMinExp-1 {
			return false // well outside the range: refuse before scaling
		}
		z.SetInt(&m)
		z.SetMantExp(z, int(exp2))
	} else {
		m.SetString(digits, 10)
		exp10 := n.exp - frac // the value is digits × 10^exp10
		if int64(len(digits))-1+exp10 >= ldMaxDec || int64(len(digits))+exp10 <= ldMinDec {
			return false
		}
		var p big.Int
		p.Exp(big.NewInt(10), big.NewInt(abs(exp10)), nil)
		if exp10 >= 0 {
			m.Mul(&m, &p)
			z.SetInt(&m)
		} else {
			var num, den big.Float
			num.SetInt(&m) // exact: precision grows to fit
			den.SetInt(&p)
			z.Quo(&num, &den) // one rounding, to 64 bits
		}
	}
	if e := z.MantExp(nil); e > ldMaxExp || e < ldMinExp {
		return false
	}
	if n.neg {
		z.Neg(z)
	}
	return true
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
