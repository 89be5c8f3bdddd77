# creds.sh: registry credentials, --creds USER:PASS and --creds-file FILE
# (pull-image, prefetch-image, push-image; POSIX sh, sourced by common.sh).
# The secret is read once (take_creds) and handed to the tools on a
# descriptor from a named pipe (creds_pipe), written by a builtin
# (put_line): never in a command line any user can read, never in a file
# on disk.

# take_creds OPTION VALUE takes --creds USER:PASS or --creds-file FILE
# (pull-image, prefetch-image, push-image): it sets creds, and creds_given
# to the option. FILE is read here, once: a descriptor or a pipe is spent
# by one read, and prefetch-image passes the credentials on twice. The
# tools get them as --creds-file /dev/fd/3 from a pipe (creds_pipe), never
# in their command line, which any user can read (ps, /proc/PID/cmdline)
# for as long as the pull or push runs. The workflow's own command line
# (its subshells' too) holds what it was given: --creds-file keeps the
# secret out of every one.
take_creds() {
	[ -z "$creds_given" ] || [ "$creds_given" = "$1" ] || usage_error "--creds and --creds-file exclude each other"
	creds_given=$1
	case $1 in
	--creds) creds=$2 ;;
	# At most a byte past what the tools read (a FILE that does not end,
	# /dev/zero, would fill memory); the tool says it is too long. A
	# descriptor is read itself: a named pipe opened again waits for a
	# writer, which may be gone (creds_pipe's, prefetch-image's to
	# pull-image, has written its line and gone).
	*) creds=$(read_creds_file "$2") || die "--creds-file \"$2\": cannot read it" ;;
	esac
}

# read_creds_file FILE prints what take_creds reads of FILE.
read_creds_file() {
	case $1 in
	/dev/stdin) head -c 65537 2>/dev/null ;;
	/dev/fd/[0-9]) head -c 65537 2>/dev/null <&"${1#/dev/fd/}" ;;
	*) head -c 65537 -- "$1" 2>/dev/null ;;
	esac
}

# creds_pipe sets creds_in to what gives a tool its credentials on
# descriptor 3 (CMD ... --creds-file /dev/fd/3 3<"$creds_in"): /dev/null
# when the workflow was given none, else a named pipe, made in $work (or
# $TMPDIR), that a writer in the background fills with "$creds" and a
# newline for the one command that opens it, and removes once it is open.
# Not a here-document: mksh writes one into a file of $TMPDIR that lives
# as long as the command (a whole pull, and is left behind when the
# workflow is killed), zsh into one of /tmp, bash one past 64 KiB: the
# secret on disk. A pipe holds it in memory only.
creds_pipe() {
	creds_in=/dev/null
	[ -n "$creds_given" ] || return 0
	cp_base=${work:-${TMPDIR:-/tmp}}
	cp_dir=$(mktemp -d "$cp_base/.$prog-creds.XXXXXX" 2>/dev/null) ||
		die "cannot create a temporary directory in \"$cp_base\""
	mkfifo -m 600 "$cp_dir/creds.pipe" 2>/dev/null ||
		{ rmdir "$cp_dir"; die "cannot create a named pipe in \"$cp_base\""; }
	creds_in=$cp_dir/creds.pipe
	# The redirection waits for the reader; 2>/dev/null: a reader that
	# read nothing (a tool refusing its other flags) is no error.
	{ rm -rf "$cp_dir"; put_line "$creds"; } >"$creds_in" 2>/dev/null &
}

# put_line VALUE writes VALUE and a newline with a builtin: printf, or
# mksh's print (its printf is a program, whose command line any user
# reads). command -V says "builtin" or "built-in", each shell its way.
put_line() {
	case $(command -V printf 2>/dev/null) in
	*built*) printf '%s\n' "$1" ;;
	*) print -r -- "$1" ;;
	esac
}
