# args.sh: reading a workflow's command line (POSIX sh, sourced by
# common.sh). Each workflow parses its own options; these are the pieces
# they share: one spelling of each option (split_opts, quote), the usage
# errors of a missing value or an unknown argument (need_value,
# unknown_arg), an id's range (check_id), and the guards against yash
# losing bytes of an argument or of a text file the command line names
# (check_args_decoded, which common.sh runs before anything else, and
# read_text). Checks that the tools make (flags, --config) are tools.sh's;
# image names are image-names.sh's.

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

# need_value OPTION ARGC: a usage error unless OPTION has a value after it.
need_value() { [ "$2" -ge 2 ] || usage_error "$1 needs a value"; }

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
