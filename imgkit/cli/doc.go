// Package cli is the glue every tool's main goes through: kong parsing, the
// exit-status convention, one-line errors, signal handling, the manual and
// the flags every tool has (Common: -v, -q, --check-flags, --version).
//
// Exit status: 0 when stdout is complete; 1 for a runtime failure (bad data,
// I/O, a digest mismatch, an unsafe archive); 2 for a usage error. Errors
// are printed as one line, "tool: context: cause".
//
// Usage errors have one wording whoever finds them, kong or the tool:
// "tool: " and the message, the flag first ("tar-merge: --compressor:
// \"xz\" is not one of none, gz (gzip), zstd"), then exit 2, before any
// input is read: kong parses the flags and runs the command's Validate
// method, where every check of the command line alone lives. --check-flags
// stops there, so that a workflow can have each of its steps check the
// flags it will be given before any work.
//
// A flag's value is the argument after it, whatever it starts with
// (--name -x names -x, as getopt reads it), and integers are decimal
// (010 is ten), as the shell, chown, tar and Nix read them.
//
// A command that writes a tar or a layer stream to stdout says so
// (BinaryStdout), and Run refuses to start it when stdout is a terminal:
// a usage error before any input is read, as tar and docker save refuse;
// so with one that reads such input from a terminal stdin (BinaryStdin).
//
// NotAnInput is the usage error of an output file (-o, --digest-file,
// --snapshot) whose name is that of a file the run reads (by another
// path, or through a symlink the input's name goes through), or that is
// stdin's file: renamed into place once complete, it replaced that input
// with status 0. A hard link or symlink to an input under another name is
// an output like any other: the rename replaces the link, and the input
// stays.
//
// A SIGKILL skips every cleanup: a temporary made beside an output with
// MkdirHeldTemp is held by a lock (flock) for as long as its run lives, so
// the next run's RemoveStaleTemps removes a dead run's and never a live
// one's; LockDir serialises the renames of outputs that belong together
// (heldtemp.go says how).
//
// --version prints the tool's name and Version: what make build set
// (git describe of the tree), else the module version of the build, else
// "devel".
//
// Signals: Process cancels the tool's context on SIGINT, SIGTERM or SIGHUP
// (see Main). Stdin that is a pipe is read through a descriptor of the
// tool's own, non-blocking, so that the cancellation ends a read whose
// writer stalled (stdinFor); a socket or a terminal is read as it is.
// Stdout that is a pipe is written so too (stdoutFor), so that the
// cancellation ends a write (or a splice) whose reader stopped reading; a
// broken pipe still ends the tool with SIGPIPE. An output file written in
// place (CreateAtomic: a FIFO, a terminal) is opened non-blocking, a FIFO
// tried again every 20 ms until its reader comes instead of waiting in
// open(2), and written through the poller. A file named as an input
// (IO.Open, IO.OpenNamed, OpenInput) is opened without waiting for a
// FIFO's writer, and a FIFO (or a terminal) is read through the poller, so
// that the cancellation ends a tool whose named pipe stalls, in open or in
// read; a regular file is read as os.Open's. Before starting a thread of
// its own, Process checks the limits on threads (ulimit -u, a pids
// cgroup): too few for a tool gives one line, few lowers GOMAXPROCS
// (fitThreads). A --jobs whose workers would hold more than half of the
// limit on open files is lowered (IO.FitJobs).
//
// Off Linux (macOS, FreeBSD) the tools read and write the same bytes, but
// wait as ordinary programs do: stdin, stdout, a FIFO named as an input
// and an output written in place are used as opened (reopening them
// through /proc to go through the poller is Linux's), so a cancellation
// does not end a read or write that a stalled pipe holds (SIGKILL does);
// temporaries have a name until they are renamed or removed (no
// O_TMPFILE: a tool killed with SIGKILL can leave one beside its output);
// ExchangeDirs is macOS's renamex_np RENAME_SWAP, and FreeBSD has none
// (a rebuild into an existing OCI layout is refused there, in one line);
// the thread limits are not read from /proc. The tests build the
// temporaries and the in-place open as off Linux too (eachWay).
//
// A tool's manual is its package comment. The tool embeds its doc.go and
// passes it to Main, so `--help` shows the same words as `go doc`.
package cli
