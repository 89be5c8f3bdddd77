// Package offlinux says whether this build takes, on Linux, the paths
// that decide what the tools read and write off Linux: the component walk
// without openat2 or O_PATH (imgkit/storefs) and copies through user
// space (imgkit/kcopy). Built with the tag dockertools_portable, a tool's
// test suite then checks on Linux that they read the same files and write
// the same bytes as Linux's paths:
//
//	go test -tags dockertools_portable ./layer-pack/
//
// The tests of those packages switch each fallback on and off themselves,
// without the tag, as imgkit/cli's tests switch its own (named temporaries,
// a plain open of an output written in place: they change how a tool
// waits and is cancelled, which its Linux tests check, not its bytes).
package offlinux
