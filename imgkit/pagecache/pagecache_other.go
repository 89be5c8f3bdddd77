//go:build !linux

package pagecache

// nowait never reads where there is no RWF_NOWAIT: ReadAt and Read make
// the ordinary call.
var nowait = func(fd int, b []byte, off int64) (int, bool) { return 0, false }
