package catalog

import "strconv"

// appendNumber writes f as ECMAScript's Number.prototype.toString does
// (ECMA-262 §7.1.12.1, adopted by RFC 8785 §3.2.2.3). Go's shortest
// round-trip formatting yields the same digits as ECMAScript's "k as small as
// possible" rule; only where the decimal point and exponent go differs.
// f must be finite: the parser refuses overflowing numbers before this.
func appendNumber(out []byte, f float64) []byte {
	if f == 0 { // also -0, which ECMAScript prints as "0"
		return append(out, '0')
	}
	if f < 0 {
		out = append(out, '-')
		f = -f
	}
	// 'e' with precision -1 gives the shortest digits d.ddddde±XX.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	var digits []byte
	i := 0
	for ; e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits = append(digits, e[i])
		}
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	k := len(digits)
	n := exp + 1 // the value is 0.digits × 10^n
	switch {
	case k <= n && n <= 21: // integer: digits then zeros
		out = append(out, digits...)
		for range n - k {
			out = append(out, '0')
		}
	case 0 < n && n <= 21: // point inside the digits
		out = append(out, digits[:n]...)
		out = append(out, '.')
		out = append(out, digits[n:]...)
	case -6 < n && n <= 0: // small: 0.000digits
		out = append(out, "0."...)
		for range -n {
			out = append(out, '0')
		}
		out = append(out, digits...)
	default: // exponential: d[.ddd]e±x
		out = append(out, digits[0])
		if k > 1 {
			out = append(out, '.')
			out = append(out, digits[1:]...)
		}
		out = append(out, 'e')
		if n-1 >= 0 {
			out = append(out, '+')
		}
		out = strconv.AppendInt(out, int64(n-1), 10)
	}
	return out
}
