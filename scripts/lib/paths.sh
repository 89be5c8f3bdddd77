# paths.sh: the files and directories a workflow is given, checked before
# any work (POSIX sh, sourced by common.sh): its inputs (need_file,
# need_image_file, need_dir, abs_path, --root: place_root), its output,
# a file renamed into place that must not be a device, a descriptor or
# one of the inputs (check_output, not_input), and stdout, which must be
# open, and no terminal for a tar (need_stdout, binary_stdout,
# to_stdout). Each is refused in the workflow's one line, where a tool's
# later complaint, or the shell's, would name a temporary copy or say
# nothing at all.

# need_stdout WHAT: exit 1 unless stdout is open, for a workflow that
# writes WHAT there. Started with stdout closed (cmd >&-), the workflow's
# tools could not tell: Go's runtime opens /dev/null in place of a closed
# standard descriptor before any of their code runs, so WHAT went there
# and the workflow exited 0 with nothing written. Called once the command
# line is checked, before any work.
need_stdout() {
	{ true 8>&1; } 2>/dev/null || die "writing $1 to stdout: stdout is closed"
}

# binary_stdout WHAT HOW: need_stdout WHAT, and a usage error when stdout
# is a terminal, before any work: WHAT is a tar, which the tools refuse to
# write to a terminal as tar and docker save do (cli.BinaryStdout), and
# the workflow says so in its own name before its first step instead of
# its last step after the others' work. HOW says where to send it.
binary_stdout() {
	need_stdout "$1"
	[ ! -t 1 ] || usage_error "refusing to write $1 to a terminal: $2"
}

# to_stdout OUT: whether the output OUT is this workflow's stdout: -, or a
# name of it the tools write through (-o /dev/stdout), which need_stdout
# must check as it checks -. The tools cannot: a caller's /dev/null opened
# read-write (Python's subprocess.DEVNULL) and the one Go's runtime puts
# on a closed stdout look the same.
to_stdout() {
	case $1 in
	- | /dev/stdout | /dev/fd/1 | /proc/self/fd/1) return 0 ;;
	esac
	return 1
}

# check_output FILE [FLAG]: a usage error unless FILE is new or a regular
# file (a symlink to one is fine). The result is written beside FILE and
# renamed over it, which would turn a device such as /dev/null into a
# regular file; and FILE must not lead into /proc: /dev/stdout (a symlink
# to /proc/self/fd/1) or /dev/fd/1 with stdout redirected to a file is
# that file's descriptor, and the rename would replace the symlink (as
# root, /dev/stdout for the whole machine), leaving the file empty. FLAG
# (default -o) names what gave FILE. A tool's -o - is stdout; here it is
# refused, not taken as a file named "-".
check_output() {
	[ "$1" != - ] ||
		usage_error "${2:--o} -: the result is a file renamed into place, not stdout: give a file name"
	[ ! -e "$1" ] || [ -f "$1" ] ||
		usage_error "${2:--o} \"$1\" exists and is not a regular file; the result is renamed into place: give a file name"
	co_dir=$(cd -P -- "$(dirname -- "$1")" 2>/dev/null && pwd -P) || co_dir=
	co_link=
	[ ! -L "$1" ] || co_link=$(readlink -- "$1")
	case "$co_dir/ $co_link" in
	/proc/* | *" /proc/"*)
		usage_error "${2:--o} \"$1\" is an open descriptor (it leads into /proc); the result is renamed into place: give a file name" ;;
	esac
}

# abs_path PATH prints PATH made absolute against the working directory,
# without resolving symlinks.
abs_path() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}

# need_file WHAT FILE: exit 1 unless FILE is a regular file (or a
# symlink to one), saying what it is instead, as the tools word it: a
# directory given for a file read "no such file". A missing FILE that
# looks like JSON is the document given for its file (nixpkgs takes
# config as a value: --config '{"Cmd":...}'), and the line says so.
need_file() {
	if [ -f "$2" ]; then
		return 0
	elif [ -d "$2" ]; then
		die "$1 \"$2\": is a directory"
	elif [ -e "$2" ]; then
		die "$1 \"$2\": not a regular file"
	fi
	case $2 in
	'{'* | '['*) die "$1 \"$2\": no such file (give a file holding the JSON, not the JSON itself)" ;;
	esac
	die "$1 \"$2\": no such file"
}

# need_image_file WHAT FILE: need_file for an image archive, saying of a
# directory (an OCI layout directory, which --format oci-dir writes) how
# to give it, as the tools say it (imgkit/archive.NotADir).
need_image_file() {
	[ ! -d "$2" ] || die "$1 \"$2\": a directory, not an image archive (an OCI layout directory is read as a tar of it: tar -cf FILE -C DIR .)"
	need_file "$1" "$2"
}

# need_dir WHAT DIR: need_file's twin for a directory (or a symlink to
# one): exit 1 saying "not a directory" of anything else that exists,
# "no such directory" of what does not.
need_dir() {
	[ -d "$2" ] || [ ! -e "$2" ] || die "$1 \"$2\": not a directory"
	[ -d "$2" ] || die "$1 \"$2\": no such directory"
}

# not_input OUT FILE...: a usage error when the output OUT would replace
# one of the inputs FILE. The result is renamed over OUT once complete: when
# OUT's name is the input's (by another path, or a symlink the input's
# name goes through) it replaced the input it was made from, with status
# 0 (build-layered-image --from-image img.tar -o img.tar). The same file
# (test -ef: every shell the workflows run under has it, though POSIX does
# not name it) under another name, a hard link or a symlink to it, is
# another directory entry, which the rename replaces while the input
# stays: an output like any other (imgkit/cli.NotAnInput, the same rule).
not_input() {
	ni_out=$1
	shift
	for ni_in; do
		[ -n "$ni_in" ] && [ "$ni_out" -ef "$ni_in" ] || continue
		ni_name=$ni_in ni_hops=0
		while :; do
			# The same entry: the same directory and last element.
			[ "$(dirname -- "$ni_in")" -ef "$(dirname -- "$ni_out")" ] && [ "$(basename -- "$ni_in")" = "$(basename -- "$ni_out")" ] &&
				usage_error "-o \"$ni_out\" is the input \"$ni_name\" too: the output would replace it; give another name"
			[ -L "$ni_in" ] || break
			ni_hops=$((ni_hops + 1))
			[ $ni_hops -le 40 ] || usage_error "-o \"$ni_out\" is the input \"$ni_name\" too: the output would replace it; give another name"
			ni_t=$(readlink -- "$ni_in")
			case $ni_t in
			/*) ni_in=$ni_t ;;
			*) ni_in=$(dirname -- "$ni_in")/$ni_t ;;
			esac
		done
	done
}

# place_root checks --root ($root_dir): a directory, made physical (its
# symlinks resolved), with $root_prefix, what a logical path is prefixed
# with to be found on the host ("" for /).
place_root() {
	need_dir --root "$root_dir"
	root_dir=$(cd -P -- "$root_dir" && pwd -P)
	root_prefix=${root_dir%/}
}
