//go:build !linux

package cli

// fitThreads does nothing where threads are not counted from /proc.
func fitThreads() string { return "" }
