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
# Links point at the logical store path (/nix/store/…, even under --root),
# so they resolve inside the image, where the path's closure is packed. A
# content path outside the store directory cannot be linked to from the
# image: its files are copied instead of linked (modes kept, owner 0:0).

# resolve_content PATH sets content_phys (where to read it) and
# content_logical (the store path links name, or "" outside the store).
# A symlink naming a store path resolves logically (under --root), one
# link at a time, as Nix resolves a ./result link.
resolve_content() {
	p=$(abs_path "$1")
	hops=0
	while :; do
		case $p in
		"$store_dir"/*) [ "$root_dir" = / ] || p=$root_dir$p ;;
		esac
		[ -L "$p" ] || break
		hops=$((hops + 1))
		[ $hops -le 40 ] || die "--contents \"$1\": too many levels of symbolic links"
		t=$(readlink "$p")
		case $t in
		/*) p=$t ;;
		*) p=${p%/*}/$t ;;
		esac
	done
	[ -e "$p" ] || die "--contents \"$1\": no such file or directory"
	[ -d "$p" ] || die "--contents \"$1\": not a directory (lndir joins directories)"
	content_phys=$(cd -P -- "$p" && pwd -P) || die "--contents \"$1\": cannot enter it"
	# The store's physical place, symlinks resolved, names it logically.
	store_phys=$(cd -P -- "$root_prefix$store_dir" 2>/dev/null && pwd -P) || store_phys=$root_prefix$store_dir
	case $content_phys in
	"$store_phys"/*) content_logical=$store_dir/${content_phys#"$store_phys"/} ;;
	*) content_logical= ;;
	esac
}

# join_content DEST PATH joins one --contents PATH into DEST.
join_content() {
	resolve_content "$2"
	(
		cd -P -- "$content_phys" &&
			find . \( -name '*~' -o -type d \( -name RCS -o -name SCCS -o -name CVS -o -name CVS.adm \
				-o -name .svn -o -name BitKeeper \) \) -prune -o ! -name . -exec sh -c "$join_entries" \
				join-content "$1" "$content_logical" "$prog" {} +
	) || die "--contents \"$2\": joining it into the customisation root failed"
}

# join_entries runs under find -exec with DEST LOGICAL PROG ENTRY...; find
# lists a directory before what it holds.
join_entries='
dest=$1 logical=$2 prog=$3
shift 3
for e; do
	rel=${e#./}
	t=$dest/$rel
	parent=${t%/*}
	if [ -L "$parent" ] || [ ! -d "$parent" ]; then
		continue # below a name an earlier content gave to a non-directory
	fi
	if [ -d "$e" ] && [ ! -L "$e" ]; then
		if [ -L "$t" ] || { [ -e "$t" ] && [ ! -d "$t" ]; }; then
			printf "%s: --contents: %s: is a link instead of a directory; skipped\n" "$prog" "/$rel" >&2
		elif [ ! -d "$t" ]; then
			mkdir "$t" || exit 1
		fi
	elif [ -L "$t" ] || [ -e "$t" ]; then
		continue # the first content keeps the name
	elif [ -L "$e" ]; then
		ln -s "$(readlink "$e")" "$t" || exit 1
	elif [ -n "$logical" ]; then
		ln -s "$logical/$rel" "$t" || exit 1
	else
		cp -P "$e" "$t" || exit 1
	fi
done
'
