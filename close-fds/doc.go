// close-fds runs a command with none of the descriptors it was given but
// stdin, stdout, stderr and the ones named by --keep: every other one is
// closed as the command starts (marked close-on-exec, then exec'd into).
//
// Usage:
//
//	close-fds [--keep FD]... [--] COMMAND [ARG...]
//
// The workflows in scripts/ put it before bubblewrap, whose sandboxes run
// code of the image's or the user's (--run-as-root, --extra-commands,
// --fake-root-commands). bwrap closes none of the descriptors it
// inherits, and a POSIX shell can name and close only 3 to 9: a
// descriptor the workflow's caller left open above 9 (a file of the host
// it may read, a socket) would reach the code in the sandbox, where it
// gives what the sandbox hides. runc and Docker close such descriptors
// for the same reason; close-fds does it where a shell cannot.
//
// # Input
//
// COMMAND is looked up on PATH as a shell looks it up (a name with a
// slash is taken as it is), and replaces close-fds in the same process:
// its pid, environment and resource limits are close-fds' caller's
// (close-fds reads no input and writes nothing). A signal the caller
// ignored is ignored by COMMAND only if it is SIGINT or SIGHUP (Go's
// runtime takes the others): SIGPIPE and SIGQUIT, which a shell's
// background command or a Python caller may ignore, are back to their
// default, as in a fresh Nix build.
//
// --keep FD (repeatable, or a comma-separated list) keeps descriptor FD
// open for COMMAND, as bwrap's --args FD and --seccomp FD need: it must
// be one the caller gave (open, not close-on-exec), and above 2 (0, 1
// and 2 are always kept).
//
// # Errors
//
// A --keep that is not an open descriptor above 2, or no COMMAND, is a
// usage error (exit 2). A COMMAND not found, or one that cannot be
// executed, exits 1 with one line, as does a descriptor that cannot be
// closed; COMMAND never runs with more than it was meant to have.
package main
