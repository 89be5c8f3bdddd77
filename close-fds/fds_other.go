//go:build !linux

package main

// markRanges marks every descriptor above 2 but those of keep
// close-on-exec (close_range(2) is Linux's).
func markRanges(keep []int) error { return markListed(keep) }
