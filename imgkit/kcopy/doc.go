// Package kcopy copies bytes from one file to another without them
// entering user space: copy_file_range(2) between two regular files (a
// reflink where the filesystem has them), splice(2) when one end is a
// pipe. The tools' large copies (a file into a layer stream, a layer from
// the stream into an archive) then cost the kernel's page moves rather
// than a read and a write through a buffer each.
//
// Go's own io.Copy does this for two regular files only: (*os.File).ReadFrom
// splices from sockets, never from a file or a pipe, so a tool writing to
// a pipe (every filter of a workflow) would copy each byte twice more.
//
// CopyN is io.CopyN with that path: it takes it when both ends have a
// file descriptor underneath them, found through the wrappers the tools
// put around files (see CopyN), and otherwise copies through user space as
// io.CopyN does. The bytes written are the same either way.
//
// A pipe in non-blocking mode (a tool's stdin and stdout pipes, and the
// FIFOs it is given, are: imgkit/cli) makes a kernel call fail with
// EAGAIN when it is not ready; the copy then waits with poll(2), for a
// tenth of a second at most before it asks the checks again, or, for a
// source that says it is Polled (a tool's stdin, or a FIFO named as an
// input, read through the runtime's poller), in the runtime's poller,
// which holds no thread meanwhile.
//
// Off Linux there is no splice(2) and CopyN copies through user space
// (io.CopyN), and Direct is false: the same bytes, read and written once
// more. The tests copy both ways on Linux, and the build tag
// dockertools_portable (imgkit/internal/offlinux) makes a whole tool copy
// so.
package kcopy
