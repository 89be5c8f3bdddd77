# copy-to-root.sh: build-image's --copy-to-root, the copy nixpkgs' buildImage
# makes with rsync -a -k (or -K with keepContentsDirlinks), written for a
# machine without rsync (sourced after common.sh).
#
# copy_tree SRC DEST MODE copies what directory SRC holds into directory
# DEST, merging with what DEST has; MODE is
#   k      rsync -k: a symlink to a directory in SRC is copied as that
#          directory (followed, its contents copied); other symlinks stay
#          symlinks; a symlink in DEST where SRC has a directory is replaced
#   K      rsync -K: every symlink in SRC stays a symlink; a symlink to a
#          directory in DEST where SRC has a directory is kept and filled,
#          when it leads to a directory inside DEST (never outside it)
#   merge  nothing is followed on either side: SRC's entries replace
#          DEST's, directories merge (an overlay's upper directory over
#          its lower ones, for --run-as-root)
# Files keep their mode bits; owners are not copied (the layer's owner is
# set when it is packed); a later copy replaces what an earlier one put at
# the same name. Directory modes are applied last, deepest first, so a
# read-only source directory (the store's 0555) can still be filled.

copy_tree() {
	ct_src=$1 ct_dest=$2 ct_mode=$3
	ct_dest_phys=$(cd -P -- "$ct_dest" && pwd -P) || die "cannot enter \"$ct_dest\""
	: >"$work/copy-modes"
	# GNU cp keeps modes and times without owners; busybox's (the Nix
	# library's builders' in Nix's sandbox) takes no --preserve=LIST.
	ct_preserve=
	! cp --preserve=mode,timestamps -- "$work/copy-modes" "$work/copy-probe" 2>/dev/null || ct_preserve=gnu
	rm -f -- "$work/copy-probe"
	set -- find
	[ "$ct_mode" != k ] || set -- find -L
	(
		cd -P -- "$ct_src" || exit 1
		# find -L reports a symlink loop and fails: rsync -k would copy
		# forever.
		"$@" . ! -name . -exec sh -c "$printable_sh$copy_entries" copy-tree "$ct_dest" "$ct_dest_phys" "$ct_mode" "$work/copy-modes" "$prog" "$ct_preserve" {} +
	) || return 1
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

# copy_entries runs under find -exec with DEST DEST_PHYS MODE MODES PROG PRESERVE
# ENTRY...; find lists a directory before what it holds.
copy_entries='
dest=$1 dest_phys=$2 mode=$3 modes=$4 prog=$5 preserve=$6
shift 6
nl="
"
for e; do
	case $e in *"$nl"*) printf "%s: --copy-to-root: %s: names with a newline are not supported\n" "$prog" "$(printable "$e")" >&2; exit 1 ;; esac
	rel=${e#./}
	t=$dest/$rel
	if [ -d "$e" ] && { [ ! -L "$e" ] || [ "$mode" = k ]; }; then
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
		# The mode is kept for later; until then the owner may write.
		printf "%s %s\n" "$(stat -L -c %a -- "$e")" "$rel" >>"$modes"
		chmod u+rwx -- "$t" || exit 1
		continue
	fi
	if [ -d "$t" ] && [ ! -L "$t" ]; then
		rm -rf -- "$t" || exit 1
	elif [ -L "$t" ] || [ -e "$t" ]; then
		rm -f -- "$t" || exit 1
	fi
	if [ "$preserve" = gnu ]; then
		cp -P --preserve=mode,timestamps -- "$e" "$t" || exit 1
	else
		# busybox cp: -p would copy owners too, with a complaint per file
		# where it cannot (not root).
		cp -P -- "$e" "$t" || exit 1
		[ -L "$t" ] || { chmod "0$(stat -c %a -- "$e")" "$t" && touch -r "$e" "$t"; } || exit 1
	fi
done
'
