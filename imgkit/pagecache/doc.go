// Package pagecache reads regular files that the page cache holds without
// the Go scheduler's work around a blocking system call.
//
// A goroutine that enters an ordinary system call (unix.Read, unix.Pread,
// (*os.File).ReadAt) tells the scheduler, which lets another thread take
// its processor if the call lasts; a read of 256 KiB to 1 MiB from the
// page cache lasts long enough (tens to hundreds of microseconds of
// copying) that the handoff happens on most of them, and the thread that
// returns must then find a processor again. The tools that read a whole
// store (closure-scan, layer-pack) make a hundred thousand such reads per
// image: the handoffs, the thread wake-ups and the runtime's bookkeeping
// cost them about 5% of their CPU time (measured on the bench store).
//
// ReadAt and Read first ask the kernel with RWF_NOWAIT (preadv2(2)), as a
// raw system call that does not tell the scheduler: with that flag the
// kernel copies what the page cache holds and returns rather than wait for
// a disk, a lock or a network, so the call is CPU work like any other and
// holds its processor only while it copies. That is the promise io_uring
// relies on to read inline from the submitting thread, and only a
// filesystem that makes it (FMODE_NOWAIT: ext4, XFS and Btrfs among them)
// takes the flag; on any other the kernel refuses it at once (EOPNOTSUPP:
// tmpfs on the development machine's 6.18 kernel), so a read that could
// wait is never made without the scheduler knowing.
// Whenever the kernel does not answer that way (the data is not cached:
// EAGAIN; a filesystem or kernel without RWF_NOWAIT; any error), they make
// the ordinary blocking call, which tells the scheduler and gives the
// authoritative result or error. The bytes read are the same either way;
// only who waits differs.
//
// Only regular files: on a pipe, a socket or a device RWF_NOWAIT means
// something else or nothing. Off Linux there is no RWF_NOWAIT: ReadAt and
// Read make the ordinary call.
package pagecache
