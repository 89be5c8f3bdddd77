# copy-to-root.sh: build-image's --copy-to-root, the copy nixpkgs' buildImage
# makes with rsync -a -k (or -K with keepContentsDirlinks), written for a
# machine without rsync (sourced after common.sh).
#
# copy_tree SRC DEST MODE copies what directory SRC holds into directory
# DEST, merging with what DEST has; MODE is
#   k      rsync -k: a symlink to a directory in SRC is copied as that
#          directory (followed, its contents copied) when it leads inside
#          SRC or into a store path (--root's under --root) of the
#          closure of the build's inputs ($work/copy-closure, a name a
#          line: input_closure), where nixpkgs' copy in a Nix build finds
#          it; other symlinks stay symlinks (one leading elsewhere on this
#          machine too: a root file system's /var/run -> /run copied this
#          machine's /run; one into another store path, through a link
#          that does not name it, such as a profile's, copied a path the
#          build never had, said in one line; a link to the store
#          directory copied every path: kept, and under --root one to a
#          directory that holds it too, said in one line); a
#          symlink in DEST where SRC has a directory is replaced; a link
#          to a directory that holds it, or holds a link followed on the
#          way to it (a loop), is an error. A SRC inside --root is
#          followed as in a chroot to it (copy_rooted)
#   K      rsync -K: every symlink in SRC stays a symlink; a symlink to a
#          directory in DEST where SRC has a directory is kept and filled,
#          when it leads to a directory inside DEST (never outside it)
#   merge  nothing is followed on either side: SRC's entries replace
#          DEST's, directories merge (an overlay's upper directory over
#          its lower ones, for --run-as-root)
# Files keep their mode bits; owners are not copied (the layer's owner is
# set when it is packed); a later copy replaces what an earlier one put at
# the same name. A fifo, device or socket is made anew (cp -R, GNU's and
# busybox's), as rsync -a makes it: cp without -R read one as a file, and
# a fifo's read waited for ever, a device's read /dev/zero or a disk into
# the layer. Directory modes are applied last, deepest first, so a
# read-only source directory (the store's 0555) can still be filled.

# copy_quietly ERRFILE SRC DEST MODE is copy_tree with its stderr in
# ERRFILE, for its caller to make one line of a failure (die_first): a
# step of its own (run_step), so the redirection is its subshell's and
# this shell's traps still write to the workflow's stderr.
copy_quietly() {
	exec 2>"$1"
	shift
	copy_tree "$@"
}

copy_tree() {
	ct_src=$1 ct_dest=$2 ct_mode=$3
	ct_dest_phys=$(cd -P -- "$ct_dest" && pwd -P) || die "cannot enter \"$ct_dest\""
	: >"$work/copy-modes"
	: >"$work/copy-follow"
	# GNU cp keeps modes and times without owners.
	ct_preserve=
	! cp_preserves mode,timestamps || ct_preserve=gnu
	# Under --root, a store path's symlinks lead where they lead in a
	# chroot to the root: find -L followed them on the host, and copied
	# the host's /nix/store/P (or its /etc) for a link naming it.
	ct_logical=
	if [ "$ct_mode" = k ] && [ -n "${root_prefix-}" ]; then
		case $ct_src in "$root_prefix"/*) ct_logical=${ct_src#"$root_prefix"} ;; esac
	fi
	if [ -n "$ct_logical" ]; then
		copy_rooted "$ct_logical" "" 0 || return 1
	else
		ct_src_phys=$(cd -P -- "$ct_src" && pwd -P) || return 1
		# Where a followed link may lead (k), besides SRC: a path in the
		# store the build reads (--root's, never this machine's other
		# store), not the store directory itself: a link to it copied
		# every path of the store, gigabytes and others' secrets.
		ct_stores=
		if [ "$ct_mode" = k ]; then
			ct_stores=$(cd -P -- "${root_prefix-}$store_dir" 2>/dev/null && pwd -P) || ct_stores=
		fi
		copy_dir "$ct_src_phys" "" "" || return 1
		# The directories of followed links, one level of links deeper
		# each round: the links they hold are followed in the next. A
		# record is the target, the name, the links followed to it (where
		# each is, a line each) and a line ".".
		ct_rounds=0
		while [ -s "$work/copy-follow" ]; do
			ct_rounds=$((ct_rounds + 1))
			[ $ct_rounds -le 40 ] || {
				printf '%s: --copy-to-root: too many levels of symbolic links to directories\n' "$prog" >&2
				return 1
			}
			mv -- "$work/copy-follow" "$work/copy-follow.now" && : >"$work/copy-follow" || return 1
			while IFS= read -r ct_phys && IFS= read -r ct_rel; do
				ct_chain=
				while IFS= read -r ct_link && [ "$ct_link" != . ]; do
					ct_chain="$ct_chain$ct_link
"
				done
				# A directory of --root's store (a tree outside the root led
				# there): its links lead where a chroot to the root finds
				# them, as a SRC inside it is copied; on this machine, a
				# link to /nix/store/Q was this machine's Q.
				case $ct_phys in "$ct_stores"/?*)
					if [ -n "${root_prefix-}" ]; then
						copy_rooted "$store_dir/${ct_phys#"$ct_stores"/}" "$ct_rel" 0 </dev/null || return 1
						continue
					fi
					;;
				esac
				copy_dir "$ct_phys" "$ct_rel" "$ct_chain" </dev/null || return 1
			done <"$work/copy-follow.now"
		done
	fi
	# Children before parents (find's order reversed): a directory's mode may take away the write bit its
	# children needed.
	awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' "$work/copy-modes" |
		while IFS= read -r ct_line; do
			# Split by hand: read with IFS=' ' strips the blanks that end
			# (or begin) a name, and "d " had d's mode applied. Five
			# digits or more name every bit: GNU chmod keeps a
			# directory's set-id bits for a shorter number (busybox's
			# does not), where rsync -a gives the source's mode.
			chmod "00${ct_line%% *}" "$ct_dest/${ct_line#* }" || exit 1
		done
}

# copy_rooted LOGICAL REL DEPTH [CHAIN] is copy_tree's mode k for the directory
# at LOGICAL, a path inside --root ($root_prefix), into $ct_dest/REL, as
# rsync -k copies it in a chroot to the root: each symlink of it that
# leads, resolved by in_root (inside the root), to a directory is copied
# as that directory (merged with what DEST has there, as a directory is),
# and so on down; its other entries as merge copies them (no symlink
# followed: a dangling one stays a symlink, as rsync keeps it). CHAIN
# (optional) is the logical places of the links followed on the way. A
# link to a directory that holds it or one of them is a loop, which
# fails at once (as copy_entries fails one without --root): followed, it
# copied the directory (the root, for a link to /) 40 times over before
# the bound of 40 links failed it.
copy_rooted() {
	[ "$3" -le 40 ] || {
		printf '%s: --copy-to-root: %s: too many levels of symbolic links\n' "$prog" "$(printable "$1")" >&2
		return 1
	}
	# The links to directories first: merge would copy one as a link,
	# removing the directory an earlier --copy-to-root put at its name.
	(cd -P -- "$root_prefix$1" && find . -type l) >"$work/copy-links.$3" || return 1
	# The store directory as a chroot to the root finds it.
	cr_store=$(in_root "$store_dir") || cr_store=$store_dir
	: >"$work/copy-dirlinks.$3"
	while IFS= read -r cr_l; do
		cr_l=${cr_l#./}
		# Resolved all through, inside the root: no symlink is left on
		# the host path, which is read as it is.
		cr_to=$(in_root "$1/$cr_l") || {
			printf '%s: --copy-to-root: %s: too many levels of symbolic links\n' "$prog" "$(printable "$1/$cr_l")" >&2
			return 1
		}
		[ -d "$root_prefix$cr_to" ] || continue
		# Each place on its own line, "/" ended: a prefix ends a component.
		case ${4-}$nl$1/$cr_l/ in
		*"$nl${cr_to%/}"/*)
			printf '%s: --copy-to-root: %s: a symlink loop: it leads to %s, which holds it\n' "$prog" "$(printable "$1/$cr_l")" "$(printable "$cr_to")" >&2
			return 1
			;;
		esac
		# Into the store, only a path of the inputs' closure; the store
		# directory itself, or one that holds it (/nix), never: followed,
		# every path of the root's store was copied.
		cr_why=
		case $cr_store/ in "${cr_to%/}"/*) cr_why="$(printable "$cr_to"), the store directory or a directory that holds it" ;; esac
		case $cr_to in "$cr_store"/?*)
			cr_name=${cr_to#"$cr_store"/}
			grep -qxF -- "${cr_name%%/*}" "$work/copy-closure" ||
				cr_why="$(printable "$store_dir/${cr_name%%/*}"), a store path outside the closure of the build's inputs (which a Nix build does not see)"
			;;
		esac
		if [ -n "$cr_why" ]; then
			printf '%s: --copy-to-root: %s leads to %s: kept as a link\n' "$prog" "$(printable "$1/$cr_l")" "$cr_why" >&2
			continue
		fi
		printf '%s\n' "$cr_l" >>"$work/copy-dirlinks.$3"
	done <"$work/copy-links.$3"
	(
		cd -P -- "$root_prefix$1" || exit 1
		find . ! -name . -exec sh -c "$printable_sh$copy_entries" copy-tree "$ct_dest" "$2" "$ct_dest_phys" rooted \
			"$work/copy-modes" "$prog" "$ct_preserve" "" "" "" "$(cat "$work/copy-dirlinks.$3")" "" "" {} +
	) || return 1
	while IFS= read -r cr_l; do
		cr_to=$(in_root "$1/$cr_l") || return 1
		printf '%s %s\n' "$(stat -c %a -- "$root_prefix$cr_to")" "${2:+$2/}$cr_l" >>"$work/copy-modes"
		copy_rooted "$cr_to" "${2:+$2/}$cr_l" $(($3 + 1)) "${4-}$nl$1/$cr_l/" || return 1
	done <"$work/copy-dirlinks.$3"
}

# copy_dir SRC_PHYS REL CHAIN copies what the directory SRC_PHYS holds
# into $ct_dest/REL ($ct_dest itself for ""), with copy_tree's settings;
# CHAIN names where the links followed to it are, a line each.
copy_dir() {
	(
		cd -P -- "$1" || exit 1
		find . ! -name . -exec sh -c "$printable_sh$copy_entries" copy-tree "$ct_dest" "$2" "$ct_dest_phys" "$ct_mode" \
			"$work/copy-modes" "$prog" "$ct_preserve" "$ct_src_phys" "$ct_stores" "$work/copy-follow" "" "$3" "$work/copy-closure" {} +
	)
}

# copy_entries runs under find -exec with DEST PREFIX DEST_PHYS MODE MODES
# PROG PRESERVE SRC_PHYS STORE_PHYS FOLLOW DIRLINKS CHAIN CLOSURE ENTRY...,
# CLOSURE the file of the store names a link may lead into, ENTRY in
# the directory that DEST/PREFIX copies, CHAIN where the links followed to
# it are; find lists a directory before what it holds. A link it follows
# (k) is made a directory, and a record of it is written to FOLLOW for
# copy_tree to fill it. Following a link to a directory that holds it, or
# holds a link followed on the way to it, would copy for ever: a loop (two
# links to each other's directory, followed in turn, doubled the copies
# each round). MODE rooted (copy_rooted's) is merge, but a symlink named
# in DIRLINKS (names in the directory, one a line: those copy_rooted found
# to lead to a directory; a string, not a file to grep, which cost a
# process per symlink) is made a directory, which copy_rooted fills.
copy_entries='
dest=$1 pfx=$2 dest_phys=$3 mode=$4 modes=$5 prog=$6 preserve=$7 src_phys=$8 store_phys=$9
follow=${10} dirlinks=${11} chain=${12} closure=${13}
shift 13
nl="
"
for e; do
	case $e in *"$nl"*) printf "%s: --copy-to-root: %s: names with a newline are not supported\n" "$prog" "$(printable "$e")" >&2; exit 1 ;; esac
	rel=${pfx:+$pfx/}${e#./}
	t=$dest/$rel
	followed=
	if [ "$mode" = k ] && [ -L "$e" ] && [ -d "$e" ]; then
		phys=$(cd -P -- "$e" && pwd -P) || exit 1
		at=$(pwd -P)/${e#./}
		while IFS= read -r l; do
			case $l in
			"$phys"/*)
				printf "%s: --copy-to-root: /%s links to %s, which holds it: a loop\n" "$prog" "$(printable "$rel")" "$(printable "$phys")" >&2
				exit 1
				;;
			esac
		done <<EOF || exit 1
$chain$at
EOF
		case $phys/ in "$src_phys"/*) followed=$phys ;; esac
		if [ -n "$store_phys" ]; then
			case $phys in "$store_phys"/?*)
				name=${phys#"$store_phys"/}
				if grep -qxF -- "${name%%/*}" "$closure"; then
					followed=$phys
				else
					printf "%s: --copy-to-root: /%s leads to %s, a store path outside the closure of the build'"'"'s inputs (which a Nix build does not see): kept as a link\n" "$prog" "$(printable "$rel")" "$(printable "$phys")" >&2
				fi
				;;
			esac
		fi
		case $phys$at in *"$nl"*) followed= ;; esac
	fi
	rooted_link=
	if [ "$mode" = rooted ] && [ -L "$e" ]; then
		case $nl$dirlinks$nl in *"$nl${e#./}$nl"*) rooted_link=y ;; esac
	fi
	if { [ -d "$e" ] && { [ ! -L "$e" ] || [ -n "$followed" ]; }; } || [ -n "$rooted_link" ]; then
		if [ -L "$t" ] && [ "$mode" = K ] && [ -d "$t" ]; then
			phys=$(cd -P -- "$t" && pwd -P) || exit 1
			case $phys/ in
			"$dest_phys"/*) continue ;;
			esac
			printf "%s: --keep-contents-dirlinks: /%s links to %s, outside the root\n" "$prog" "$(printable "$rel")" "$(printable "$phys")" >&2
			exit 1
		fi
		if [ -L "$t" ] || { [ -e "$t" ] && [ ! -d "$t" ]; }; then
			rm -f -- "$t" || exit 1
		fi
		[ -d "$t" ] || mkdir -- "$t" || exit 1
		# The mode is kept for later (a rooted link'"'"'s by copy_rooted: stat
		# would follow it on the host); until then the owner may write.
		[ -n "$rooted_link" ] ||
			printf "%s %s\n" "$(stat -L -c %a -- "$e")" "$rel" >>"$modes"
		chmod u+rwx -- "$t" || exit 1
		[ -z "$followed" ] || printf "%s\n%s\n%s%s\n.\n" "$followed" "$rel" "$chain" "$at" >>"$follow" || exit 1
		continue
	fi
	if [ -d "$t" ] && [ ! -L "$t" ]; then
		rm -rf -- "$t" || exit 1
	elif [ -L "$t" ] || [ -e "$t" ]; then
		rm -f -- "$t" || exit 1
	fi
	if [ "$preserve" = gnu ]; then
		cp -R -P --preserve=mode,timestamps -- "$e" "$t" || exit 1
	else
		# busybox cp: -p would copy owners too, with a complaint per file
		# where it cannot (not root).
		cp -R -P -- "$e" "$t" || exit 1
		[ -L "$t" ] || { chmod "0$(stat -c %a -- "$e")" "$t" && touch -r "$e" "$t"; } || exit 1
	fi
done
'

# input_closure PATH... writes to $work/copy-closure the names of the store
# paths (HASH-NAME, a line each) in the closure of the build's inputs: the
# --copy-to-root PATHs (a store path, or a directory outside the store,
# scanned for the store paths it names), within --closure-graph when
# given; mode k follows a link into the store only there.
input_closure() {
	for ic_c; do
		resolve_content "$ic_c"
		if [ -n "$content_logical" ]; then
			set -- "$@" "$content_logical"
		else
			set -- "$@" --extra-root "$content_phys"
		fi
		shift
	done
	run_step closure-scan $verbose --store-dir "$store_dir" --root "$root_dir" ${closure_graph:+--graph "$closure_graph"} "$@" \
		</dev/null >"$work/copy-closure.json" || exit 1
	# The canonical graph has one node a line, its path first.
	awk -v p="{\"path\":\"$store_dir/" 'index($0, p) == 1 { n = substr($0, length(p) + 1); sub(/".*/, "", n); print n }' \
		"$work/copy-closure.json" >"$work/copy-closure" || die "--copy-to-root: cannot list the closure of the inputs"
}
