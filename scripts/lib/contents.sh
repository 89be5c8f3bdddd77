# contents.sh: --contents, joined into the customisation root the way
# nixpkgs' symlinkJoin does it with lndir (sourced after common.sh).
#
# lndir's rules, kept here: a directory becomes a real directory (merged
# when several contents have it); a file becomes a symlink to the file in
# the content path; a symlink is copied as it is (its target text), so a
# symlink to a directory stays a symlink; the first content to provide a
# name keeps it; names ending in ~ and the revision-control directories
# RCS, SCCS, CVS, CVS.adm, .svn and BitKeeper are left out; where an
# earlier content put a non-directory, a later content's directory of that
# name is skipped with a warning.
#
# Links point at the logical store path (/nix/store/..., even under --root),
# so they resolve inside the image, where the path's closure is packed. A
# content path outside the store directory cannot be linked to from the
# image: its files are copied instead of linked (modes kept, owner 0:0),
# and a directory it is the first to provide takes its mode (a root file
# system's /tmp stays 1777, its /root 0700), given after the commands
# (join_modes), deepest first: until then the owner may write it, as
# nixpkgs' commands may write every directory of symlinkJoin's tree.

# resolve_content PATH sets content_phys (where to read it) and
# content_logical (the store path links name, or "" outside the store).
# Errors name the flag $content_flag (default --contents), and say
# $content_missing and $content_not_dir (default lndir's words).
# A symlink naming a store path resolves logically (under --root), one
# link at a time, as Nix resolves a ./result link. Once the path is in the
# store under --root, every symlink on it resolves as in a chroot to the
# root (in_root): a crafted store cannot lead the join out of the root.
# Without --root, a path named in the store must stay there: a store path
# that is (or holds) a symlink to /etc led the copy to this machine's
# /etc, where a Nix build finds its sandbox's.
resolve_content() {
	p=$(abs_path "$1")
	lp= via_store=
	hops=0
	while :; do
		if [ "$root_dir" != / ]; then
			case $p in
			"$store_dir"/*) lp=$p ;;
			"$root_prefix$store_dir"/*) lp=${p#"$root_prefix"} ;;
			esac
			if [ -n "$lp" ]; then
				lp=$(in_root "$lp") || die "${content_flag:---contents} \"$1\": too many levels of symbolic links"
				p=$root_prefix$lp
				break
			fi
		fi
		case $p in "$store_dir"/?*) via_store=$p ;; esac
		[ -L "$p" ] || break
		hops=$((hops + 1))
		[ $hops -le 40 ] || die "${content_flag:---contents} \"$1\": too many levels of symbolic links"
		t=$(readlink "$p")
		case $t in
		/*) p=$t ;;
		*) p=${p%/*}/$t ;;
		esac
	done
	[ -e "$p" ] || die "${content_flag:---contents} \"$1\": ${content_missing:-no such file or directory}"
	[ -d "$p" ] || die "${content_flag:---contents} \"$1\": ${content_not_dir:-not a directory (lndir joins directories)}"
	content_phys=$(cd -P -- "$p" && pwd -P) || die "${content_flag:---contents} \"$1\": cannot enter it"
	content_logical=
	if [ -n "$lp" ]; then
		# Resolved inside the root: the store directory is where a chroot
		# to the root finds it.
		sd=$(in_root "$store_dir") || sd=$store_dir
		case $lp in
		"$sd"/*) content_logical=$store_dir/${lp#"$sd"/} ;;
		esac
		return
	fi
	# The store's physical place, symlinks resolved, names it logically.
	store_phys=$(cd -P -- "$root_prefix$store_dir" 2>/dev/null && pwd -P) || store_phys=$root_prefix$store_dir
	case $content_phys in
	"$store_phys"/*) content_logical=$store_dir/${content_phys#"$store_phys"/} ;;
	*) [ -z "$via_store" ] || die "${content_flag:---contents} \"$1\": $(printable "$via_store") leads out of the store, to $(printable "$content_phys")" ;;
	esac
}

# in_root LOGICAL prints the absolute logical path LOGICAL with every
# symlink on it resolved as a process chrooted to --root would resolve it:
# an absolute target starts again at the root, ".." stops there. It fails
# after 40 symlinks, as the kernel does.
in_root() {
	ir_todo=${1#/} ir_cur= ir_hops=0
	while [ -n "$ir_todo" ]; do
		ir_c=${ir_todo%%/*}
		case $ir_todo in
		*/*) ir_todo=${ir_todo#*/} ;;
		*) ir_todo= ;;
		esac
		case $ir_c in
		'' | .) continue ;;
		..)
			ir_cur=${ir_cur%/*}
			continue
			;;
		esac
		if [ -L "$root_prefix$ir_cur/$ir_c" ]; then
			ir_hops=$((ir_hops + 1))
			[ $ir_hops -le 40 ] || return 1
			ir_t=$(readlink "$root_prefix$ir_cur/$ir_c")
			case $ir_t in /*) ir_cur= ;; esac
			ir_todo=${ir_t#/}${ir_todo:+/$ir_todo}
		else
			ir_cur=$ir_cur/$ir_c
		fi
	done
	printf '%s\n' "${ir_cur:-/}"
}

# join_content DEST PATH joins one --contents PATH into DEST.
join_content() {
	resolve_content "$2"
	jc_preserve=
	! cp_preserves mode || jc_preserve=gnu
	# Its stderr aside, for one line of a failure (die_first); in the
	# subshell, so that this shell's traps still write to the workflow's.
	(
		exec 2>"$work/join-err"
		cd -P -- "$content_phys" &&
			find . \( -name '*~' -o -type d \( -name RCS -o -name SCCS -o -name CVS -o -name CVS.adm \
				-o -name .svn -o -name BitKeeper \) \) -prune -o ! -name . -exec sh -c "$printable_sh$escape_name_sh$join_entries" \
				join-content "$1" "$content_logical" "$prog" "$jc_preserve" "$work/join-modes" {} +
	) || {
		need_work
		die_first "$work/join-err" "--contents \"$2\": joining it into the customisation root failed"
	}
	need_work
	[ ! -s "$work/join-err" ] || cat -- "$work/join-err" >&2
}

# join_modes DEST open|final [STATE] gives the directories the joins made
# for contents outside the store their modes. open, once every content
# is joined, before the Nix database and the commands: each gets its mode
# with the owner's rwx added, so that the steps after it, as a user that
# is not root, can write it, as nixpkgs' commands write lndir's 0755
# directories (given first, a 0555 one refused them: "Permission
# denied"). final, after the commands: each gets its mode, children before
# parents (the joins' order reversed), unless the commands gave it
# another mode (theirs stays), removed it or put something else at its
# name (chmod would follow a symlink they made, out of DEST). With STATE
# (--fake-root-commands ran), under fakeroot with its state, so that
# the state's mode, which layer-pack takes, is the one given (a chown
# there saved the open mode). join_entries writes "MODE NAME" lines, a
# backslash and a newline in NAME as \\ and \n, which printf %b reads back.
join_modes() {
	[ -s "$work/join-modes" ] || return 0
	jm_records=$work/join-modes
	if [ "$2" = final ]; then
		jm_records=$work/join-modes.final
		awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' "$work/join-modes" >"$jm_records" ||
			die "--contents: giving the copied directories their modes failed"
	fi
	if [ -n "${3-}" ]; then
		(cd -- "$1" && FAKEROOTDONTTRYCHOWN=1 fakeroot -i "$(fakeroot_state "$3")" -s "$(fakeroot_state "$3")" -- \
			sh -c "$join_modes_sh" join-modes . "$2" "$jm_records")
	else
		sh -c "$join_modes_sh" join-modes "$1" "$2" "$jm_records"
	fi || die "--contents: giving the copied directories their modes failed"
}

# join_modes_sh runs with DEST open|final RECORDS (see join_modes). Five
# digits or more name every bit: GNU chmod keeps a directory's set-id bits
# for a shorter number. A name is DEST's when cd -P finds it there: no
# symlink on the way.
join_modes_sh='
dest=$1 phase=$2
dest_phys=$(cd -P -- "$dest" && pwd -P) || exit 1
while IFS= read -r line; do
	mode=${line%% *}
	# The owner digit made 7, as stat %a prints it (no arithmetic: a
	# leading 0 is not octal in every shell).
	open=000$mode
	open=${open#"${open%????}"}
	open=${open%???}7${open#??}
	open=${open#0}
	name=$(printf "%b." "${line#* }")
	name=${name%.}
	if [ "$phase" = open ]; then
		chmod "000$open" "$dest/$name" || exit 1
		continue
	fi
	[ -d "$dest/$name" ] && [ ! -L "$dest/$name" ] || continue
	phys=$(cd -P -- "$dest/$name" && pwd -P && echo .) || continue
	phys=${phys%.}
	[ "${phys%?}" = "$dest_phys/$name" ] || continue
	[ "$(stat -c %a -- "$dest/$name")" = "$open" ] || continue
	chmod "00$mode" "$dest/$name" || exit 1
done <"$3"
'

# join_entries runs under find -exec with DEST LOGICAL PROG ENTRY...; find
# lists a directory before what it holds. A symlink is copied with cp -P,
# its target as it is: given to ln -s, a target such as --help or -x was
# read as ln's option (its usage text went to stdout, into the image
# stream, and the link was missing), and $(readlink) cut a trailing
# newline off a target. A file of a content outside the store is copied
# with -R, which makes a fifo, device or socket anew (GNU's and busybox's
# cp): without it cp read one as a file, and a fifo's read waited for
# ever, a device's read /dev/zero or a disk into the image. Its mode is
# kept whole: cp alone took the umask's bits and the set-id bits away. A
# directory it makes for such a content is written to MODES for
# join_modes.
join_entries='
nl="
"
dest=$1 logical=$2 prog=$3 preserve=$4 modes=$5
shift 5
for e; do
	rel=${e#./}
	t=$dest/$rel
	parent=${t%/*}
	if [ -L "$parent" ] || [ ! -d "$parent" ]; then
		continue # below a name an earlier content gave to a non-directory
	fi
	if [ -d "$e" ] && [ ! -L "$e" ]; then
		if [ -L "$t" ] || { [ -e "$t" ] && [ ! -d "$t" ]; }; then
			printf "%s: --contents: %s: is a link instead of a directory; skipped\n" "$prog" "$(printable "/$rel")" >&2
		elif [ ! -d "$t" ]; then
			mkdir "$t" || exit 1
			[ -n "$logical" ] || printf "%s %s\n" "$(stat -c %a -- "$e")" "$(escape_name "$rel")" >>"$modes" || exit 1
		fi
	elif [ -L "$t" ] || [ -e "$t" ]; then
		continue # the first content keeps the name
	elif [ -L "$e" ]; then
		cp -P "$e" "$t" || exit 1
	elif [ -z "$logical" ]; then
		if [ "$preserve" = gnu ]; then
			cp -R -P --preserve=mode -- "$e" "$t" || exit 1
		else
			cp -R -P -- "$e" "$t" && chmod "0$(stat -c %a -- "$e")" "$t" || exit 1
		fi
	else
		ln -s "$logical/$rel" "$t" || exit 1
	fi
done
'
# escape_name_sh defines escape_name NAME, which prints NAME with each
# backslash doubled and each newline as \n, on one line (most names have
# neither: printed as they are).
escape_name_sh='
escape_name() {
	case $1 in
	*\\* | *"$nl"*) ;;
	*)
		printf %s "$1"
		return
		;;
	esac
	en_rest=$1
	while [ -n "$en_rest" ]; do
		en_c=${en_rest%"${en_rest#?}"}
		en_rest=${en_rest#?}
		case $en_c in
		\\) printf %s "\\\\" ;;
		"$nl") printf %s "\\n" ;;
		*) printf %s "$en_c" ;;
		esac
	done
}
'
