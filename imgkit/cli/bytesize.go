package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// ByteSize is a flag value counting bytes: a whole number, optionally
// followed by a binary unit, K, M, G or T, written alone or as KiB, MiB,
// GiB, TiB ("64GiB", "512M", "1048576"). kong parses it through
// UnmarshalText.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	shift  uint
}{{"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}}

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSuffix(string(text), "iB")
	shift := uint(0)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, shift = rest, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<63-1)>>shift || (shift == 0 && s != string(text)) {
		return fmt.Errorf("%q is not a size in bytes (a number, optionally with K, M, G or T, or KiB, MiB, GiB, TiB)", text)
	}
	*b = ByteSize(n << shift)
	return nil
}
