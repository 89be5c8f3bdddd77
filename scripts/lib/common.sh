# common.sh: helpers shared by the workflows in scripts/ (POSIX sh). It is
# sourced, not run: the script sets prog (its name) and here (its
# directory) first.
#
# Conventions it carries out (STYLE.md): errors are one line,
# "prog: context: cause"; a usage error exits 2, any other failure 1; a
# script's temporary files live in one directory removed on every exit;
# HUP, INT or TERM ends the running step at once (run_step, on_signal).

# usage prints the help: the script's header comment. Output that cannot
# be written (stdout on a full disk, or closed) is a failure in the
# workflow's one line, not sed's own complaint. A reader that went away
# (--help | head) killed sed with SIGPIPE, which says nothing: the
# workflow then ends quietly with sed's status, as the tools do (SIGPIPE
# ends them), not with a line whose cause is empty.
usage() {
	need_stdout "the help"
	u_err=
	{ u_err=$(sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0" 2>&1 >&3); } 3>&1 || {
		u_status=$?
		[ -n "$u_err" ] || [ "$u_status" -le 128 ] || exit "$u_status"
		die "writing the help to stdout: ${u_err#sed: }"
	}
}

usage_error() {
	printf '%s: %s (see %s --help)\n' "$prog" "$(printable "$1")" "$prog" >&2
	exit 2
}

# unknown_arg ARG is the usage error of an argument the workflow does not
# take, worded as the tools word it (kong): "unknown flag --x", or
# "unexpected argument x" for a word that is no flag; cut to 40
# characters.
unknown_arg() {
	ua_cut=$(printf '%s' "$1" | cut -c1-40)
	case $1 in
	-?*) usage_error "unknown flag $ua_cut" ;;
	*) usage_error "unexpected argument $ua_cut" ;;
	esac
}

die() {
	printf '%s: %s\n' "$prog" "$(printable "$1")" >&2
	exit 1
}

# die_first ERRFILE CONTEXT ends the workflow with one line for a step that
# failed with its stderr in ERRFILE: its first line when it is the
# workflow's own ("PROG: ...", already printable), another program's (cp's,
# find's) after CONTEXT, or CONTEXT alone when it printed nothing. Two
# lines, the cause and then "copying it failed", were one error told
# twice.
die_first() {
	df_line=$(sed -n 1p -- "$1" 2>/dev/null) || df_line=
	case $df_line in
	"$prog: "*)
		printf '%s\n' "$df_line" >&2
		exit 1
		;;
	'') die "$2" ;;
	*) die "$2: $df_line" ;;
	esac
}

warn() { printf '%s: %s\n' "$prog" "$(printable "$1")" >&2; }

# printable MSG prints MSG as the tools print an error (errdefs.Printable):
# one line, its control characters written as Go escapes (\n, \t, \x1b,
# and C1's \u009b, a terminal's one-byte CSI) and invalid UTF-8 as U+FFFD
# (one for each run of bad bytes), so that a value from the command line
# or an input (a --name with a newline, an escape sequence that would
# rewrite the terminal's line) is shown, not obeyed; past 4096 bytes it
# is cut, at a character's start, with its length. Its work stops at the
# cut: a message of many lines does not grow it further (awk's strings
# are copied at each append).
# printable_sh is its definition, for the scripts find runs (join_entries,
# copy_entries), which are shells of their own.
printable_sh='
printable() {
	printf "%s" "$1" | LC_ALL=C awk -v max=4096 '\''
		BEGIN {
			for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i
			for (i = 1; i < 32; i++) esc[sprintf("%c", i)] = sprintf("\\x%02x", i)
			esc[sprintf("%c", 127)] = "\\x7f"
			esc["\a"] = "\\a"; esc["\b"] = "\\b"; esc["\t"] = "\\t"; esc["\v"] = "\\v"
			esc["\f"] = "\\f"; esc["\r"] = "\\r"
			bad = sprintf("%c%c%c", 239, 191, 189)
		}
		# cont(J): byte J of the line continues a UTF-8 sequence.
		function cont(j, x) { x = ord[substr($0, j, 1)]; return x >= 128 && x < 192 }
		# seq(I, B): the length of the valid UTF-8 sequence that byte I
		# (B) starts, 0 for none (as Go decodes: no overlong forms,
		# surrogates or values past U+10FFFF).
		function seq(i, b, lo, hi, x) {
			if (b < 194 || b > 244) return 0
			if (b < 224) return cont(i + 1) ? 2 : 0
			lo = 128; hi = 191
			if (b == 224) lo = 160
			if (b == 237) hi = 159
			if (b == 240) lo = 144
			if (b == 244) hi = 143
			x = ord[substr($0, i + 1, 1)]
			if (x < lo || x > hi) return 0
			if (b < 240) return cont(i + 2) ? 3 : 0
			return cont(i + 2) && cont(i + 3) ? 4 : 0
		}
		{
			if (NR > 1 && length(out) <= max) out = out "\\n"
			n = length($0)
			run = 0
			for (i = 1; i <= n && length(out) <= max; i += w) {
				c = substr($0, i, 1)
				b = ord[c]
				w = 1
				if (b < 128) {
					out = out ((c in esc) ? esc[c] : c)
					run = 0
				} else if (!(w = seq(i, b))) {
					if (!run) out = out bad
					run = 1
					w = 1
				} else {
					run = 0
					x = ord[substr($0, i + 1, 1)]
					out = out ((b == 194 && x < 160) ? sprintf("\\u%04x", x) : substr($0, i, w))
				}
			}
			total += n + (NR > 1)
		}
		END {
			if (length(out) > max) {
				k = max
				while (k > max - 4 && k > 0 && (x = ord[substr(out, k + 1, 1)]) >= 128 && x < 192) k--
				out = substr(out, 1, k) "... (" total " bytes)"
			}
			printf "%s", out
		}'\''
}
'
eval "$printable_sh"

# exit_as STATUS: end as a tool that failed with STATUS (and said why)
# asks: its usage error (2) is the script's usage error, any other failure
# a runtime failure (1).
exit_as() {
	[ "$1" -ne 2 ] || exit 2
	exit 1
}

# check_args_decoded ARG... stops the workflow where yash lost one of its
# arguments, ARG... (the script's). yash decodes its arguments in the
# locale it starts in, before any line of the script: one it cannot
# decode (a Latin-1 file name under a UTF-8 locale, any byte past ASCII
# under C) it makes an empty string, with a warning of its own, and the
# workflow ran on with "" (--extra-commands that ran nothing, a name the
# tools then refused in other words). No locale set here can undo it;
# Linux keeps the bytes given in /proc/$$/cmdline, whose last $# entries
# are the arguments: one empty here and not there was lost.
check_args_decoded() {
	[ -n "${YASH_VERSION-}" ] && [ "$#" -gt 0 ] && [ -r "/proc/$$/cmdline" ] || return 0
	cad_lens=$(od -An -v -tu1 "/proc/$$/cmdline" | awk -v n="$#" '
		{ for (i = 1; i <= NF; i++) if ($i == 0) { len[++k] = l; l = 0 } else l++ }
		END { for (i = k - n + 1; i <= k; i++) printf "%d ", len[i] }')
	cad_i=0
	for cad_arg; do
		cad_i=$((cad_i + 1))
		cad_len=${cad_lens%% *}
		cad_lens=${cad_lens#* }
		[ -n "$cad_arg" ] || [ "$cad_len" = 0 ] ||
			die "argument $cad_i: yash could not decode its bytes in this locale (${LC_ALL:-${LC_CTYPE:-${LANG:-C}}}) and made it empty; run the workflow with another sh (dash, bash), or, for UTF-8 text, yash in a UTF-8 locale"
	done
}
check_args_decoded "$@"

# read_text FILE WHAT sets text to the bytes of FILE (WHAT names it in
# the line), trailing newlines kept (the dot). A shell that cannot hold
# them stops the workflow with one line: yash cuts a command substitution
# at the first byte its locale cannot decode (any past ASCII in the C
# locale) and may leave the rest unread, and the workflow ran a script or
# commands cut short ("echo caf" for "echo caf\303\251 > f") without a
# word. A NUL byte, which most shells drop (bash with a warning of its
# own) and no Nix string holds (nixpkgs' runAsRoot), is refused first, in
# words of its own: another sh would not help. Both checks are cmp's
# (diffutils): without it every script was said to hold a NUL byte.
read_text() {
	cat -- "$1" >/dev/null 2>&1 || die "$2: cannot read it"
	command -v cmp >/dev/null 2>&1 || die "$2: reading it needs cmp (diffutils), which is not installed"
	tr -d '\000' <"$1" | cmp -s - "$1" || die "$2: holds a NUL byte, which no shell script holds"
	text=$(cat -- "$1" && echo .) || text=
	text=${text%.}
	printf '%s' "$text" | cmp -s - "$1" ||
		die "$2: this shell cannot hold its bytes (yash reads none its locale cannot decode, none past ASCII in the C locale): run $prog with another sh"
}

# The tools come from PATH, else from the bin/ directory `make build` fills
# (appended, so tools already on PATH always win).
PATH=$PATH:$here/../bin

# Nothing of the caller's environment may reach the output: files made here
# get the modes Nix builds use, and tools sort by bytes, not by locale.
umask 022
LC_ALL=C
export LC_ALL
# GNU tools follow POSIX to the letter when POSIXLY_CORRECT is set: chmod
# MODE -- FILE takes "--" for a file (--copy-to-root failed), and options
# after operands are names; a Nix build has no such variable.
unset POSIXLY_CORRECT
# Nor may it move a directory: with CDPATH set (an interactive shell's
# setting, often exported), cd DIR goes to a DIR that CDPATH finds before
# ./DIR and prints its name, which $(cd DIR && pwd) then holds twice.
unset CDPATH

# need_value OPTION ARGC: a usage error unless OPTION has a value after it.
need_value() { [ "$2" -ge 2 ] || usage_error "$1 needs a value"; }

# check_final_ref checks the name and tag pull-image writes into the
# archive (final_name, final_tag) before any download, by manifest-gen,
# which writes them (a name it refuses stopped the pull only once blobs
# came in). An empty tag ("$TAG" unset) is refused: manifest-gen would
# read it as no tag and tag the image by its config's digest. A tag in
# the name (nixpkgs' finalImageName = "nginx:1") is refused in the
# workflow's words: manifest-gen's named its own --name and --tag.
check_final_ref() {
	[ -n "$final_tag" ] || usage_error "--final-image-tag \"\": want a tag (leave it out for latest)"
	case ${final_name##*/} in
	*:*) usage_error "--final-image-name \"$final_name\": a name without a tag; the tag goes in --final-image-tag" ;;
	esac
	name_lower_case "--final-image-name" "$final_name"
	# With no upper case in its path, the name is as valid as given (the
	# pull writes it so, --repo-tag) as lower-cased (--name, whose words
	# the errors use).
	check_flags manifest-gen --name "$final_name" --tag "$final_tag"
}

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

# refuse_name OPTION VALUE WANT refuses VALUE, an image name holding an
# @ or a scheme, saying what it should be (WANT). It is shown only when
# its one @ is followed by a digest: alice:TOKEN@ghcr.io/app (a URL's
# user and password, as git takes them) would go to the terminal, or a
# CI job's log, as pullImage refuses it unshown.
refuse_name() {
	case $2 in
	*://* | *@*@*) ;;
	*@sha256:* | *@sha384:* | *@sha512:* | *@blake3:*) usage_error "$1 \"$2\": $3" ;;
	esac
	usage_error "$1 holds an @ not followed by a digest, or a scheme (not shown: it may hold credentials): $3"
}

# split_repo_tag sets name and tag from repo_tag (-t, --repo_tag
# NAME:TAG, nixpkgs' stream script's option), when it was given
# (repo_tag_seen): the tag is what follows the last colon that is not
# part of a registry host's port (a colon followed by a slash), latest
# when there is none. An empty one ("$TAG" unset), or an empty half of
# it ("NAME:", ":TAG"), is a usage error: it would give the default's
# name or tag without a word (nixpkgs writes "NAME:", which docker load
# refuses). A digest ("NAME@sha256:...") names no tag: refused here, in -t's
# words (split, it reached manifest-gen as --name "NAME@sha256"). It sets
# tag_seen: the tag goes to manifest-gen, as --repo-tag NAME:TAG, which
# writes it as given (nixpkgs' script does) and checks it; upper case in
# the repository's path (not a registry host's: docker's rule), which
# docker load refuses, is refused here in -t's words first.
split_repo_tag() {
	[ -n "$repo_tag_seen" ] || return 0
	[ -n "$repo_tag" ] || usage_error "--repo_tag \"\": want NAME[:TAG]"
	[ -z "$name$tag$tag_seen" ] || usage_error "--repo_tag gives the name and tag; drop --name and --tag"
	case $repo_tag in *@*) usage_error "--repo_tag \"$repo_tag\": a digest names no tag: want NAME[:TAG]" ;; esac
	name=${repo_tag%:*} tag=${repo_tag##*:} tag_seen=1
	case $tag in */*) name=$repo_tag tag= ;; esac
	[ "$name" != "$repo_tag" ] || tag=latest
	[ -n "$name" ] && [ -n "$tag" ] || usage_error "--repo_tag \"$repo_tag\": want NAME[:TAG]"
	name_lower_case "--repo_tag \"$repo_tag\"" "$name" ", or give it as --name, which is lower-cased as nixpkgs lower-cases name"
}

# name_lower_case WHAT NAME [HINT]: a usage error when NAME, a name written
# into an image as given (-t, --final-image-name: nixpkgs writes them so),
# has upper case in its repository path, which docker load and skopeo
# refuse ("repository name must be lowercase"); a registry host's (the
# first component, with a dot or colon, or localhost) may have it, as
# docker's rule is. Refused, not lower-cased: that is another name.
name_lower_case() {
	nl_path=$2
	case ${2%%/*} in
	*.* | *:* | localhost) nl_path=${2#*/} ;;
	esac
	case $nl_path in
	*[ABCDEFGHIJKLMNOPQRSTUVWXYZ]*)
		usage_error "$1: \"$2\" is not a repository name docker accepts: upper case outside the registry host (nixpkgs would write it as given, and docker load refuse it); write it in lower case${3-}"
		;;
	esac
}

# split_opts ARG... prints the ARGs quoted for eval, each --opt=value as
# the two words --opt and value, up to a lone "--": a workflow's option
# loop then knows one spelling of each option. Use:
#	eval "set -- $(split_opts "$@")"
split_opts() {
	so_split=1
	for so_arg; do
		if [ -n "$so_split" ]; then
			case $so_arg in
			--) so_split= ;;
			--*=*) quote "${so_arg%%=*}"; so_arg=${so_arg#*=} ;;
			esac
		fi
		quote "$so_arg"
	done
}

# quote WORD prints WORD single-quoted for eval, and a space: any byte
# stands for itself, newlines and quotes included.
quote() {
	q_rest=$1 q_out=
	while :; do
		case $q_rest in
		*\'*) q_out=$q_out${q_rest%%\'*}"'\\''" q_rest=${q_rest#*\'} ;;
		*) break ;;
		esac
	done
	printf "'%s%s' " "$q_out" "$q_rest"
}

# check_flags CMD [ARG...] has a step check the flags it will be given,
# before any work: CMD is a tool, or a function that runs one with the
# workflow's flags after its own arguments, and is run with --check-flags
# (the tool parses and validates its command line, and reads nothing).
# The tools are the validators: a usage error is the tool's own line, and
# the workflow exits 2.
check_flags() {
	cf_cmd=$1
	shift
	"$cf_cmd" --check-flags "$@" </dev/null >/dev/null || exit_as $?
}

# pipe_into PRODUCER CONSUMER [ARG...] runs PRODUCER (a function or a
# command) into CONSUMER ARG... and returns CONSUMER's status; it needs
# $work. POSIX sh has no pipefail: PRODUCER's status goes through a file.
# One error explains a failed run. When PRODUCER fails, its own line does
# (its stderr is left alone, so a progress bar keeps its terminal) and the
# workflow exits as it asks (exit_as); CONSUMER's complaint about the cut
# stream, which follows from it, is dropped. A PRODUCER ended by SIGPIPE
# (141) stopped because CONSUMER did: CONSUMER's stderr, kept in
# $work/consumer.err, is shown.
pipe_into() {
	pi_producer=$1
	shift
	rm -f "$work/producer.status"
	pi_status=0
	# The redirections into $work are quiet: when the directory is removed
	# during the run (with the directory of -o, where it is made), that is
	# said once, below, not by the shell at each file it cannot create.
	# Inside the pipe (pi_inner), need_work leaves the line to this one.
	{
		pi_inner=1
		"$pi_producer" || echo $? 2>/dev/null >"$work/producer.status"
	} |
		{ pi_inner=1; "$@" 2>"$work/consumer.err"; } 2>/dev/null || pi_status=$?
	need_work
	pi_failed=$(cat "$work/producer.status" 2>/dev/null || :)
	[ -z "$pi_failed" ] || [ "$pi_failed" = 141 ] || exit_as "$pi_failed"
	cat "$work/consumer.err" >&2
	# CONSUMER may be run_step TOOL (pull-image's manifest-gen): TOOL is named.
	[ "$1" != run_step ] || shift
	[ "$pi_status" -ne 0 ] || [ -z "$pi_failed" ] || die "$1 stopped reading, and exited 0"
	ret "$pi_status"
}

# need_work exits with the workflow's one line when its temporary
# directory ($work, once made) is gone: removed during the run, with the
# directory of -o, where it is made. The next redirection into it would
# fail with the shell's own "cannot create ...: Directory nonexistent" (and
# no line of the workflow's), and a step may have skipped what it could
# no longer put there (join_content). run_step checks after each step
# that succeeded (one that failed said why). In a side of pipe_into's
# pipe it exits 1 without the line, which pipe_into then says once.
need_work() {
	if [ -n "${work-}" ] && [ ! -d "$work" ]; then
		[ -z "${pi_inner-}" ] || exit 1
		die "the temporary directory \"$work\" was removed during the run"
	fi
}

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

# check_id OPTION VALUE: a usage error unless VALUE is a Linux id, 0 to
# 4294967294 (4294967295 is chown's "leave it"), as the tools take them.
check_id() {
	case $2 in
	'' | *[!0-9]*) usage_error "$1 \"$2\": want a non-negative integer" ;;
	esac
	# Ten digits at most, compared in halves of five, each after a 1 (no
	# octal, no leading zeros): mksh's numbers are 32 bits, and there
	# "$2" -le 4294967294 refused every id below 2147483648.
	[ ${#2} -le 10 ] || usage_error "$1 \"$2\": want an id from 0 to 4294967294"
	ci_n=0000000000$2
	ci_n=${ci_n#"${ci_n%??????????}"}
	ci_hi=1${ci_n%?????} ci_lo=1${ci_n#?????}
	[ "$ci_hi" -lt 142949 ] || { [ "$ci_hi" -eq 142949 ] && [ "$ci_lo" -le 167294 ]; } ||
		usage_error "$1 \"$2\": want an id from 0 to 4294967294"
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
# directory given for a file read "no such file".
need_file() {
	if [ -f "$2" ]; then
		return 0
	elif [ -d "$2" ]; then
		die "$1 \"$2\": is a directory"
	elif [ -e "$2" ]; then
		die "$1 \"$2\": not a regular file"
	fi
	die "$1 \"$2\": no such file"
}

# need_dir WHAT DIR: need_file's twin for a directory (or a symlink to
# one): exit 1 saying "not a directory" of anything else that exists,
# "no such directory" of what does not.
need_dir() {
	[ -d "$2" ] || [ ! -e "$2" ] || die "$1 \"$2\": not a directory"
	[ -d "$2" ] || die "$1 \"$2\": no such directory"
}

# check_config reads the --config file ($config) with manifest-gen, under
# the name the user gave, before any work: the build reads a private copy
# (read once: it is a closure root too), and a fault in it was found only
# once the contents were joined and the commands run, naming the copy in
# the temporary directory ('reading --config "/tmp/.build-image.X/
# config.json": ...'). An image of one empty layer is made with it, into
# /dev/null.
check_config() {
	[ -n "$config" ] || return 0
	echo '[[]]' | layer-pack -q --store-dir "$store_dir" |
		manifest-gen -q --name config-check --config "$config" -o /dev/null || exit 1
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

# make_work DIR creates the script's temporary directory inside DIR and
# removes it on every exit, with $work_also when a workflow sets it (a
# second temporary directory elsewhere). Workflows that chmod or fakeroot
# files inside them make them writable again first. What cannot be
# removed (a stage's tree of subordinate ids, which build-image has named)
# is left without rm's lines: the workflow says one.
make_work() {
	# The trap comes first: a signal handled once mktemp has made the
	# directory, before the trap was set, left it behind.
	work= work_also=
	on_exit 'chmod -R u+w ${work:+"$work"} ${work_also:+"$work_also"} 2>/dev/null; rm -rf ${work:+"$work"} ${work_also:+"$work_also"} 2>/dev/null'
	# Its name is canonical: tools given paths inside it print them as given.
	work=$(cd -P -- "$1" 2>/dev/null && mktemp -d "$(pwd -P)/.${prog}.XXXXXX" 2>/dev/null) ||
		die "cannot create a temporary directory in \"$1\""
	plain_modes "$work"
}

# need_tools TOOL...: exit 1, in one line, unless every TOOL (the tools
# the workflow runs) is found: a workflow run from a checkout before make
# build, or copied without the tools, ended at its first step in the
# shell's own words ("515: exec: manifest-gen: not found", status 127).
# Called once the command line is parsed, before the first step (which
# may be a tool's --check-flags).
need_tools() {
	for nt_tool; do
		command -v "$nt_tool" >/dev/null 2>&1 ||
			die "$nt_tool: not found on PATH nor in bin/ beside scripts/ (make build puts the tools there; make install PREFIX=DIR, in DIR/bin)"
	done
}

# check_address_space stops the workflow with one line where an
# address-space limit (ulimit -v) is too low for the tools to start: a Go
# program reserves far more address space than it uses (below about
# 1 GiB none starts), and the first tool run printed the Go runtime's
# stack ("fatal error: failed to reserve page summary memory") instead.
# Without such a limit it costs nothing; with one, one tool is started.
# It runs as this file is sourced, before a workflow runs any tool.
check_address_space() {
	# shellcheck disable=SC3045 # a shell without ulimit -v fails it: no check
	cas_v=$(ulimit -v 2>/dev/null) || return 0
	case $cas_v in unlimited | '') return 0 ;; esac
	for cas_tool in manifest-gen tar-merge close-fds; do
		command -v "$cas_tool" >/dev/null 2>&1 || continue
		"$cas_tool" --version >/dev/null 2>&1 ||
			die "the address-space limit (ulimit -v $cas_v KiB) is too low for the tools to start (a Go program reserves far more than it uses); limit memory with a cgroup (systemd-run -p MemoryMax=, a container's limit) instead"
		return 0
	done
}

# on_exit CMDS sets the EXIT trap to CMDS, keeping the status the shell
# exits with: mksh ended a shell that exits from a signal's trap
# (on_signal's exit 130) with the EXIT trap's own last status, 0, so an
# interrupted workflow seemed to succeed. CMDS run without set -e, which
# applies in the trap too: a command of them that failed (chmod -R on a
# file system that takes no mode changes) ended the shell there, with
# status 1, the rest of the cleanup skipped. HUP, INT and TERM are
# ignored while CMDS run: one that came during the cleanup (a CI job's
# timeout, a ^C as a build ends) ran its trap, whose exit ended the shell
# in the middle of this one, the temporary directory left behind.
on_exit() {
	trap 'ox_status=$?; trap "" HUP INT TERM; set +e; '"$1"'; exit "$ox_status"' EXIT
}

# plain_modes DIR makes what is created in DIR take the modes a Nix build
# gives (the umask's, 022, and nothing else), as the image's modes come
# from disk: a directory made in a setgid directory is setgid, and one made
# in a directory with a default ACL takes that ACL's modes instead of the
# umask's (a user's TMPDIR or output directory can be either, and DIR
# inherited it). DIR loses its setgid bit and its default ACL (setfacl);
# if a probe still gets other modes, the workflow stops.
plain_modes() {
	chmod g-s -- "$1" || die "cannot create a temporary directory in \"${1%/*}\""
	! command -v setfacl >/dev/null 2>&1 || setfacl -k -- "$1" 2>/dev/null || :
	pm_probe=$1/.modes
	mkdir -- "$pm_probe" && : >"$pm_probe/f" ||
		die "cannot create a temporary directory in \"${1%/*}\""
	pm_got=$(ls -ld -- "$pm_probe" "$pm_probe/f" | cut -c1-10 | paste -s -d ' ' -)
	rm -rf -- "$pm_probe"
	[ "$pm_got" = 'drwxr-xr-x -rw-r--r--' ] ||
		die "\"${1%/*}\": files made there get other modes than the umask's ($pm_got, a default ACL, and no setfacl to clear it?): the image would take them"
}

# Signals. A shell runs a trap only once its foreground command has ended:
# INT or TERM sent to a workflow would wait for the running step (a slow
# pull, a build script). So the workflows run their long steps with
# run_step, as background children the shell waits for; a trapped signal
# interrupts that wait at once, and on_signal ends the step and everything
# it started, then exits with 128 + the signal's number. The EXIT trap
# removes the temporary files, so no partial output is left.
# HUP (the terminal or ssh session went away) is one too: untrapped, it
# killed the shell alone, leaving the step running and its files behind.
# The tools run as steps know it (DOCKERTOOLS_STEP_OF, imgkit/cli's
# StepEnv): stopped by a signal, they clean up and exit 128 + its number
# without a line, which on_signal says once; a workflow run as another's
# step (prefetch-image runs pull-image) is as quiet. Set before the traps,
# which read step_of.
step_of=${DOCKERTOOLS_STEP_OF-}
DOCKERTOOLS_STEP_OF=$prog
export DOCKERTOOLS_STEP_OF
trap 'on_signal 1' HUP
trap 'on_signal 2' INT
trap 'on_signal 15' TERM

# run_step CMD [ARG...] runs CMD (a tool, or a function of the workflow)
# as a background child with the workflow's stdin (an asynchronous
# command's is /dev/null), waits for it and returns its status. A closed
# stdin, which cannot be passed on, is made an empty one. The workflows
# run every tool so, even inside a step: killed by a signal it cannot
# catch (the kernel's OOM killer sends SIGKILL; a crash is SIGSEGV or
# SIGABRT), a tool has no chance to
# say why it stopped, and the shell's own report of a command in its
# foreground is a bare "Killed". Waited for (wait's stderr dropped), it is
# reported in the workflow's one line instead (killed).
{ true 9<&0; } 2>/dev/null || exec </dev/null
# Descriptor 7 is the workflow's stderr while wait_quiet waits, and closed
# at any other time (a caller's is not passed on): see on_signal.
exec 7>&-
run_step() {
	rs_status=0
	run_quiet "$@" || rs_status=$?
	killed "$rs_status" "$1"
	[ "$rs_status" -ne 0 ] || need_work
	ret "$rs_status"
}

# run_quiet CMD [ARG...] runs CMD as run_step does, but says nothing of a
# kill: for a sandbox (bwrap), whose status is that of the user's commands
# in it (128 + N when they were killed by signal N), for its caller to
# report. Run in the foreground, a sandbox ended by a signal had the shell
# print its own "Terminated" or "Hangup" in a shell that traps the signal
# (build-image's --run-as-root stage), which waits for it.
run_quiet() {
	spawn "$@" 9<&0
	step_pid=$spawn_pid
	wait_quiet "$step_pid"
}

# spawn CMD [ARG...] starts CMD in the background, its stdin descriptor 9,
# which the caller gives (spawn CMD 9<&0: an asynchronous command's stdin
# is /dev/null unless redirected), and sets spawn_pid. A function, not a
# brace group ({ CMD <&9 9<&- & } 9<&0): zsh (5.9) lost the status of a
# job started in a group inside a function, and its wait said 127 (no
# such job) for a step that a signal killed at once. A program is exec'd
# in its subshell, which yash keeps otherwise for a command with
# redirections: the program's parent was that subshell, not this shell,
# and a sandbox (bwrap --die-with-parent) outlived a stage that SIGKILL
# ended.
spawn() {
	if is_function "$1"; then
		"$@" <&9 9<&- &
	else
		(exec "$@" <&9 9<&-) &
	fi
	spawn_pid=$!
}

# is_function NAME: whether NAME is a function (or a builtin) of this
# shell, not a program: command -v prints a function's name alone, a
# program's path (each shell words command -V's answer its own way).
is_function() {
	case $1 in */*) return 1 ;; esac
	[ "$(command -v "$1" 2>/dev/null)" = "$1" ]
}

# wait_quiet PID waits for PID, a child, and returns its status, 128 + N
# when signal N killed it, whatever the shell: yash reports 384 + N
# (POSIX asks only for more than 128), which is the same modulo 256, as
# the status of a shell that exits with it. wait's stderr, where most
# shells report a child killed by a signal ("Killed"), is dropped. yash
# and zsh run a trap that interrupts the wait with that redirection in
# force: the workflow's stderr is in descriptor 7 there, for on_signal.
wait_quiet() {
	wq_status=0
	wait "$1" 7>&2 2>/dev/null || wq_status=$?
	ret $((wq_status & 255))
}

# ret STATUS ends a function with STATUS, in place of return STATUS in a
# function whose failure the caller may leave to set -e: yash (2.52),
# where such a function returned non-zero, exited without running the
# EXIT trap, leaving the temporary files behind. A failing command (the
# subshell's exit) ends the shell as set -e should.
ret() {
	[ "$1" -eq 0 ] || (exit "$1")
}

# killed STATUS WHAT says that WHAT was killed by a signal when STATUS (past
# 128) says so; not for PIPE, a reader that went away (pipe_into), nor
# when WHAT is a function of the workflow: its status is its last
# command's, a tool in it was reported by its own run_step, and a status
# of commands the user gave (--extra-commands) is its caller's to report.
# HUP, INT and TERM are said here only when they stopped WHAT alone (a
# tool, which then says nothing itself): one that stops the workflow runs
# on_signal, which exits before the step's wait returns here.
killed() {
	[ "$1" -gt 128 ] || return 0
	[ "$1" -ne 141 ] || return 0
	! is_function "$2" || return 0
	warn "$2: killed by signal $(kill -l "$1" 2>/dev/null || echo $(($1 - 128)))"
}

# exec_tool CMD [ARG...]: the workflow becomes CMD, a tool, which then says
# itself that a signal stopped it (no workflow is left to say it), unless
# the workflow is another's step.
exec_tool() {
	[ -n "$step_of" ] || unset DOCKERTOOLS_STEP_OF
	exec "$@"
}

# on_signal N is the trap of signal N.
on_signal() {
	trap '' HUP INT TERM
	stop_children 2>/dev/null
	# Interrupting wait_quiet in yash or zsh, the trap has wait's stderr
	# (/dev/null); the workflow's is in descriptor 7.
	if [ -z "$step_of" ]; then
		{ printf '%s: interrupted\n' "$prog" >&7; } 2>/dev/null || printf '%s: interrupted\n' "$prog" >&2
	fi
	exit $((128 + $1))
}

# stop_children ends every process this shell started, with theirs. Each
# generation is stopped (SIGSTOP) before the next one is listed, so none
# starts another unseen; then all are sent TERM (the tools remove what
# they were writing) and CONT. It returns once they are gone, so that the
# EXIT trap removes the temporary files after the processes writing them
# and none outlives the workflow; any left after about 10 seconds is
# killed. ps lists them (-o pid, ppid: POSIX; stat, for the zombies, is
# everywhere); without ps, only the last step is told, and waited for.
# Background children ignore INT (POSIX), and the tools keep ignoring it,
# so TERM is what they see even when a terminal's ^C reached the group.
stop_children() {
	sc_gen=$$ sc_all=
	while [ -n "$sc_gen" ] && sc_ps=$(ps -A -o pid= -o ppid= 2>/dev/null); do
		sc_gen=$(printf '%s\n' "$sc_ps" | awk -v gen=" $sc_gen " 'index(gen, " " $2 " ") { printf " %s", $1 }')
		[ -z "$sc_gen" ] || kill -STOP $sc_gen 2>/dev/null || :
		sc_all=$sc_all$sc_gen
	done
	[ -n "$sc_all" ] || sc_all=${step_pid-}
	[ -n "$sc_all" ] || return 0
	# Some are gone already, such as ps: kill fails for them, and set -e
	# must not end the trap.
	kill -TERM $sc_all 2>/dev/null || :
	kill -CONT $sc_all 2>/dev/null || :
	sc_round=0
	while sc_live=$(ps -A -o pid= -o stat= 2>/dev/null |
		awk -v all=" $sc_all " 'index(all, " " $1 " ") && $2 !~ /^Z/ { printf " %s", $1 }') && [ -n "$sc_live" ]; do
		sc_round=$((sc_round + 1))
		[ "$sc_round" -ne 100 ] || kill -KILL $sc_live 2>/dev/null || :
		sleep 0.1 2>/dev/null || sleep 1
	done
	wait || : # reaps the direct children
}

check_address_space

# cp_preserves LIST: whether cp takes --preserve=LIST, as GNU's does;
# busybox's (the Nix library's builders' in Nix's sandbox) takes no list.
cp_preserves() {
	: >"$work/preserve-probe" || return 1
	cpp_status=0
	cp --preserve="$1" -- "$work/preserve-probe" "$work/preserve-probe2" 2>/dev/null || cpp_status=1
	rm -f -- "$work/preserve-probe" "$work/preserve-probe2"
	return $cpp_status
}

# store_nodes GRAPH prints the closure graph GRAPH (closure-scan's) without
# its extra roots, for closure-scan --graph: the canonical graph has one
# node a line, and nothing refers to an extra root, which is no store path.
store_nodes() {
	awk -v p="{\"path\":\"$store_dir/" 'index($0, p) == 1 { sub(/,$/, ""); n[++c] = $0 }
		END { print "["; for (i = 1; i <= c; i++) print n[i] (i < c ? "," : ""); print "]" }' "$1"
}
