# messages.sh: how a workflow speaks and ends (POSIX sh, sourced by
# common.sh, which every workflow sources). An error is one line on stderr,
# "prog: context: cause" (die; warn for a line that does not end the
# workflow), a usage error one line that points to --help and exits 2
# (usage_error); --help prints the script's header comment (usage). Every
# value a message quotes goes through printable first: it may come from the
# command line or an input, and must be shown, not obeyed by the terminal.
# The other files' checks end the workflow through these, so common.sh
# sources this one first.

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
