//go:build !linux

package main

// hugePages does nothing where madvise's MADV_HUGEPAGE is not (see
// huge_linux.go).
func hugePages[T any](s []T) {}
