# common.sh: helpers shared by the workflows in scripts/ (POSIX sh). It is
# sourced, not run: the script sets prog (its name) and here (its
# directory) first.
#
# Conventions it carries out (STYLE.md): errors are one line,
# "prog: context: cause"; a usage error exits 2, any other failure 1; a
# script's temporary files live in one directory removed on every exit.

usage() { sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"; }

usage_error() {
	printf '%s: %s (see %s --help)\n' "$prog" "$1" "$prog" >&2
	exit 2
}

die() {
	printf '%s: %s\n' "$prog" "$1" >&2
	exit 1
}

warn() { printf '%s: %s\n' "$prog" "$1" >&2; }

# exit_as STATUS: end as a tool that failed with STATUS (and said why)
# asks: its usage error (2) is the script's usage error, any other failure
# a runtime failure (1).
exit_as() {
	[ "$1" -ne 2 ] || exit 2
	exit 1
}

# The tools come from PATH, else from the bin/ directory `make build` fills
# (appended, so tools already on PATH always win).
PATH=$PATH:$here/../bin

# Nothing of the caller's environment may reach the output: files made here
# get the modes Nix builds use, and tools sort by bytes, not by locale.
umask 022
LC_ALL=C
export LC_ALL

# need_value OPTION ARGC: a usage error unless OPTION has a value after it.
need_value() { [ "$2" -ge 2 ] || usage_error "$1 needs a value"; }

# check_uint OPTION VALUE: a usage error unless VALUE is a decimal integer.
check_uint() {
	case $2 in
	'' | *[!0-9]*) usage_error "$1 \"$2\": want a non-negative integer" ;;
	esac
	[ ${#2} -le 9 ] || usage_error "$1 \"$2\": too large"
}

# check_output FILE: a usage error unless FILE is new or a regular file
# (a symlink to one is fine). The result is written beside FILE and renamed
# over it, which would turn a device such as /dev/null into a regular file.
check_output() {
	[ ! -e "$1" ] || [ -f "$1" ] ||
		usage_error "-o \"$1\" exists and is not a regular file; the result is renamed into place: give a file name"
}

# abs_path PATH prints PATH made absolute against the working directory,
# without resolving symlinks.
abs_path() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}

# make_work DIR creates the script's temporary directory inside DIR and
# removes it on every exit, with $work_also when a workflow sets it (a
# second temporary directory elsewhere). Workflows that chmod or fakeroot
# files inside them make them writable again first.
make_work() {
	# Its name is canonical: tools given paths inside it print them as given.
	work=$(cd -P -- "$1" 2>/dev/null && mktemp -d "$(pwd -P)/.${prog}.XXXXXX" 2>/dev/null) ||
		die "cannot create a temporary directory in \"$1\""
	work_also=
	trap 'chmod -R u+w "$work" ${work_also:+"$work_also"} 2>/dev/null; rm -rf "$work" ${work_also:+"$work_also"}' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
