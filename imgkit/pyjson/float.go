package pyjson

import (
	"math"
	"strconv"
	"strings"
)

// FloatRepr returns Python's repr of f: the shortest digits that read back
// as f, in positional notation when the decimal exponent is from -4 to 15
// (always with a fraction: 100000.0) and in scientific notation otherwise
// (1e+16, 1.5e-05: no ".0", at least two exponent digits).
func FloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	// Go's shortest round-trip digits are the same as Python's (both are
	// the shortest string that reads back as f, ties to the nearest).
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	sign := ""
	if strings.HasPrefix(e, "-") {
		sign, e = "-", e[1:]
	}
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	decpt := x + 1 // digits[0] sits just before the decimal point at decpt 1
	if decpt <= -4 || decpt > 16 {
		out := digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		es := "+"
		if x < 0 {
			es, x = "-", -x
		}
		ex := strconv.Itoa(x)
		if len(ex) < 2 {
			ex = "0" + ex
		}
		return sign + out + "e" + es + ex
	}
	switch {
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt >= len(digits):
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	default:
		return sign + digits[:decpt] + "." + digits[decpt:]
	}
}
