package tarsafe

import (
	"archive/tar"
	"fmt"
	"strconv"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
)

// CheckOwner refuses a header whose uid or gid is no Linux id (0 to
// cli.MaxID): a crafted base-256 or PAX value, negative or past 32 bits,
// which a Writer writes back as given (GNU tar refuses to read 4294967301,
// "out of range") and chown(2) cuts to 32 bits (4294967301 became 5,
// 4294967295 left the owner as it was). A PAX record is read as written:
// on a 32-bit architecture (386, arm) archive/tar wraps its value into an
// int (4294967301 read as 5, 4294967294 as -2). There a negative id from
// a base-256 number is read as the 32-bit id it wraps to.
func CheckOwner(h *tar.Header) error {
	for _, id := range []struct {
		name string
		v    int
	}{{"uid", h.Uid}, {"gid", h.Gid}} {
		v := int64(id.v)
		if s, ok := h.PAXRecords[id.name]; ok {
			// archive/tar refused a record that is no 64-bit number.
			v, _ = strconv.ParseInt(s, 10, 64)
		} else if strconv.IntSize == 32 && v < 0 {
			v = int64(uint32(v))
		}
		if v < 0 || v > cli.MaxID {
			return fmt.Errorf("%s %d is not an id from 0 to %d: %w", id.name, v, int64(cli.MaxID), errdefs.ErrInvalidInput)
		}
	}
	return nil
}
