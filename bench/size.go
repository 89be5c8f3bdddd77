package main

import (
	"fmt"
	"strconv"
	"strings"
)

// byteSize is a flag value in bytes that accepts K, M and G suffixes
// (powers of 1024): -scan-bytes 1G.
type byteSize int64

func (s *byteSize) String() string { return fmtBytes(int64(*s)) }

func (s *byteSize) Set(v string) error {
	mult := int64(1)
	switch strings.ToUpper(v[len(v)-min(1, len(v)):]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult > 1 {
		v = v[:len(v)-1]
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a size such as 64M or 1.5G", v)
	}
	*s = byteSize(n * float64(mult))
	return nil
}

// fmtBytes prints a size with a binary unit: 1.0 GiB, 64 MiB, 512 B.
func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// fmtRate prints a throughput in MB/s (10^6 bytes per second, as dd and
// the issues do).
func fmtRate(bytes int64, seconds float64) string {
	return fmt.Sprintf("%.0f MB/s", float64(bytes)/1e6/seconds)
}
