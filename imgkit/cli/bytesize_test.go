package cli

import "testing"

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true},
		{"64GiB", 64 << 30, true},
		{"64G", 64 << 30, true},
		{"512MiB", 512 << 20, true},
		{"1T", 1 << 40, true},
		{"0", 0, true},
		{"10KiB", 10 << 10, true},
		{"", 0, false},
		{"GiB", 0, false},
		{"-1", 0, false},
		{"1.5G", 0, false},
		{"12iB", 0, false},
		{"9000000000T", 0, false},
		{"64gb", 0, false},
	} {
		var b ByteSize
		err := b.UnmarshalText([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && int64(b) != tc.want) {
			t.Errorf("%q: %d, %v; want %d, ok %v", tc.in, b, err, tc.want, tc.ok)
		}
	}
}
