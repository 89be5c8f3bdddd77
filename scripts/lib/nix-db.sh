# nix-db.sh: --include-nix-db, the Nix database of the contents' closure
# in the image (nixpkgs' includeNixDB, reference section 4.5), for the layered
# workflows and build-image (sourced after common.sh and contents.sh).
#
# nixpkgs runs nix-store --load-db on closureInfo { rootPaths = contents; }
# in the layer's root, then sets every registrationTime; here closure-scan
# --nar-hash gives the same closure with Nix's narHash (Nix's own when it
# knows the paths, else computed from the files) and nix-db writes the same
# database without Nix. Only the contents' closure is registered, not
# what only the config names, as in nixpkgs.

db_paths= db_extras=

# note_db_content records the content resolve_content resolved last: a
# store path is a root of the database's closure and gets a garbage
# collector root; a directory outside the store is scanned for the store
# paths it names, which are registered with their closure.
note_db_content() {
	if [ -n "$content_logical" ]; then
		db_paths=$db_paths$content_logical$nl
	else
		db_extras=$db_extras$content_phys$nl
	fi
}

# write_nix_db DIR writes nix/var/nix/db and nix/var/nix/gcroots/docker
# under DIR, the image's root. With $closure_graph (--closure-graph, Nix's
# exportReferencesGraph), the closure and its narHashes come from it
# (checked against the files with --verify). Its graph,
# $work/nix-db-graph.json, is what the later scans of the same
# --closure-graph take as --verified: each store path is hashed once.
#
# The database registers only paths the image holds. A layered image's
# store layers are the closure of its customisation root, which the
# database (and its gcroots links) names: every registered path. A --plan
# (or --no-store-paths, an empty one) gives them instead, so nix-db checks
# every registered path is in it or in the base image (--holds): a plan
# that left one out made Nix in the image take a missing path as valid.
# A --pipeline's plan, made after the commands, is checked then
# (nix_db_check_plan). --format stream with --no-store-paths is a
# customisation layer another step joins to its store layers (the Nix
# library's, whose plan is the closure of that layer, so of what its
# database names, but for a layeringPipeline's remove_paths): not an
# image.
write_nix_db() {
	wn_dir=$1
	set -- --nar-hash --store-dir "$store_dir" --root "$root_dir"
	# --verify checks the graph's narSize and narHash against the files.
	[ -z "$closure_graph" ] || set -- "$@" --graph "$closure_graph" ${graph_verify-}
	set -f
	old_ifs=$IFS
	IFS=$nl
	for p in $db_paths; do set -- "$@" "$p"; done
	for e in $db_extras; do set -- "$@" --extra-root "$e"; done
	IFS=$old_ifs
	set +f
	run_step closure-scan $verbose "$@" </dev/null >"$work/nix-db-graph.json" || exit 1
	if [ -n "${plan-}" ]; then
		nix_db_run "$wn_dir" "$plan" "--plan $plan"
	elif [ -n "${no_store-}" ] && [ "${format-}" != stream ]; then
		echo '[]' >"$work/no-store-plan.json"
		nix_db_run "$wn_dir" "$work/no-store-plan.json" --no-store-paths
	else
		nix_db_run "$wn_dir"
	fi
}

# nix_db_check_plan PLAN checks that the store layers of PLAN (a
# --pipeline's, whose remove_paths may leave a path out) and the base
# image hold every path the database registers: nix-db --check reads the
# same graph with --holds, writes nothing, and fails as it would have
# for a --plan.
nix_db_check_plan() {
	nix_db_run --check "$1" "--pipeline $pipeline"
}

# nix_db_run DIR|--check [HOLDS LABEL] runs nix-db on write_nix_db's
# graph, writing into DIR (or, with --check, nothing); with HOLDS, a plan
# of the store layers, every registered path must be in it or in the
# base image (--holds), and LABEL is what nix-db's error calls it: what
# the caller gave (--plan FILE, --pipeline FILE, --no-store-paths), not
# this script's files in $work.
nix_db_run() {
	if [ "$1" = --check ]; then
		set -- "${2-}" "${3-}" --check
	else
		set -- "${2-}" "${3-}" -o "$1"
	fi
	set -- "$@" --store-dir "$store_dir"
	if [ -n "$1" ]; then
		set -- "$@" --holds "$1" "--holds-label=$2"
		if [ -n "$from_image" ]; then
			[ -s "$work/base-plan.json" ] || nix_db_base_plan >"$work/base-plan.json" || exit 1
			set -- "$@" --holds "$work/base-plan.json" "--holds-label=--from-image $from_image"
		fi
	fi
	shift 2
	set -f
	old_ifs=$IFS
	IFS=$nl
	for p in $db_paths; do set -- "$@" --gc-root "$p"; done
	for e in $db_extras; do set -- "$@" --exclude "$e"; done
	IFS=$old_ifs
	set +f
	run_step nix-db $verbose "$@" "$work/nix-db-graph.json" || exit 1
}

# nix_db_check_layer TAR checks the Nix database the --customisation-layer
# TAR holds, if any (its builder's: the Nix library's, or one made by
# hand), as write_nix_db checks this script's: every path it registers
# must be in the store layers (--plan's; --no-store-paths', none) or the
# base image. The base's paths (a read of the whole base image) are
# listed only when the plan alone does not pass. --format stream with
# --no-store-paths is a layer another step joins to its store layers, as
# in write_nix_db: not checked here.
nix_db_check_layer() {
	if [ -n "$plan" ]; then
		set -- "$1" "$work/plan.json" "--plan $plan"
	elif [ "${format-}" != stream ]; then
		echo '[]' >"$work/no-store-plan.json"
		set -- "$1" "$work/no-store-plan.json" --no-store-paths
	else
		return 0
	fi
	set -- --check --layer "$1" --holds "$2" "--holds-label=$3"
	if [ -n "$from_image" ]; then
		run_step nix-db "$@" 2>/dev/null && return 0
		[ -s "$work/base-plan.json" ] || nix_db_base_plan >"$work/base-plan.json" || exit 1
		set -- "$@" --holds "$work/base-plan.json" "--holds-label=--from-image $from_image"
	fi
	run_step nix-db $verbose "$@" || exit 1
}

# nix_db_base_plan prints the store paths the base image (--from-image, of
# the platform being built) holds as a layer plan of one layer.
nix_db_base_plan() {
	nb_platform=$(run_step manifest-gen ${arch:+--architecture "$arch"} ${variant:+--variant "$variant"} --print-platform) || return 1
	run_step tar-merge --store-paths --store-dir "$store_dir" --platform "$nb_platform" -- "$from_image" >"$work/nix-db-base-paths" || return 1
	store_paths_plan "$work/nix-db-base-paths"
}

# store_paths_plan FILE prints the store paths tar-merge --store-paths
# listed in FILE, one a line, as a layer plan of one layer (nix-db
# --holds). A name there that is no store path's (a quote or a backslash
# in it, which JSON would read otherwise) is no registered path: left
# out. The Nix library's plan builder (nix/builder.sh) uses it too.
store_paths_plan() {
	awk 'BEGIN { printf "[[" }
		{ name = $0; sub(/.*\//, "", name) }
		name ~ /^[0-9a-z]+-[0-9A-Za-z+._?=-]+$/ { printf "%s\"%s\"", (n++ ? "," : ""), $0 }
		END { print "]]" }' "$1"
}
