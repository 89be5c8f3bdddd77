# build-image.sh: the steps build-image shares with its --run-as-root
# stage (sourced after common.sh).

# closure_plan BASE ROOT... prints the layer plan of the store paths the
# ROOTs (files or directories outside the store: the layer root, the
# config, a packed layer) refer to, and of the store paths listed in
# $closure_paths (one a line: those --include-nix-db registers), with
# their closure, less the paths listed in the file BASE (those the base
# image holds), as one layer: [["/nix/store/…", …]], or [] when none is
# left. nixpkgs appends the same paths to buildImage's layer (reference
# §2.2). With $closure_graph (--closure-graph), the store's references
# come from that graph. With $nar_hash (--sbom), the graph, kept in
# $work/graph.json, has NAR hashes.
closure_plan() {
	cp_base=$1
	shift
	for cp_root; do
		set -- "$@" --extra-root "$cp_root"
		shift
	done
	cp_ifs=$IFS
	IFS='
'
	set -f
	for cp_path in ${closure_paths-}; do set -- "$@" "$cp_path"; done
	set +f
	IFS=$cp_ifs
	closure-scan $verbose ${nar_hash:+"$nar_hash"} --store-dir "$store_dir" --root "$root_dir" ${closure_graph:+--graph "$closure_graph"} "$@" \
		</dev/null >"$work/graph.json" || exit 1
	# The canonical graph has one node a line, its path first; store
	# names hold no quote or backslash.
	sed -n 's/^{"path":"\([^"]*\)".*/\1/p' "$work/graph.json" |
		awk -v p="$store_dir/" 'index($0, p) == 1' | sort >"$work/closure-paths"
	sort "$cp_base" >"$work/base-paths.sorted"
	comm -23 "$work/closure-paths" "$work/base-paths.sorted" |
		awk 'BEGIN { printf "[" } { printf "%s\"%s\"", (NR == 1 ? "[" : ","), $0 } END { if (NR) printf "]"; print "]" }'
}

# pack_layer DIR PLAN OUT [FLAG...] writes the layer stream of DIR's layer
# (layer-pack --changes, the plan's store paths appended) to OUT.
pack_layer() {
	pl_dir=$1 pl_plan=$2 pl_out=$3
	shift 3
	layer-pack $verbose --changes "$pl_dir" --store-dir "$store_dir" --root "$root_dir" \
		--customisation-comment '' "$@" <"$pl_plan" >"$pl_out" || exit 1
}
