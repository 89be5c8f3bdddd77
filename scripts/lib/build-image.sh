# build-image.sh: the steps build-image shares with its --run-as-root
# stage (sourced after common.sh and sandbox.sh).

# --extra-commands run in the layer's root at /build/layer, where nixpkgs'
# buildImage runs them ((cd layer; eval "$extraCommands") in its build
# directory), not streamLayeredImage's old_out (run_contained).
build_root=$build_top/layer

# closure_plan BASE ROOT... prints the layer plan of the store paths the
# ROOTs (files or directories outside the store: the layer root, the
# config, a packed layer) refer to, and of the store paths listed in
# $closure_paths (one a line: those --include-nix-db registers), with
# their closure, less the paths listed in the file BASE (those the base
# image holds), as one layer: [["/nix/store/...", ...]], or [] when none is
# left. nixpkgs appends the same paths to buildImage's layer (reference
# section 2.2). With $closure_graph (--closure-graph), the store's references
# come from that graph. With $nar_hash (--sbom), the graph, kept in
# $work/graph.json, has NAR hashes.
closure_plan() {
	cp_base=$1
	shift
	scan_closure "$work/graph.json" "$@"
	graph_paths "$work/graph.json" |
		awk -v p="$store_dir/" 'index($0, p) == 1' | sort >"$work/closure-paths"
	# One awk, no comm (which some busybox builds lack): a pipeline's
	# status is its last command's, so a missing first one left the
	# store paths out of the image, silently.
	awk 'BEGIN { printf "[" }
		FILENAME == ARGV[1] { base[$0] = 1; next }
		!($0 in base) { printf "%s\"%s\"", (n++ ? "," : "["), $0 }
		END { if (n) printf "]"; print "]" }' "$cp_base" "$work/closure-paths"
}

# graph_paths GRAPH prints the paths of the nodes of a closure graph
# closure-scan wrote, one a line: the canonical graph has one node a line,
# its path first, and store names hold no quote or backslash.
graph_paths() {
	sed -n 's/^{"path":"\([^"]*\)".*/\1/p' "$1"
}

# scan_closure OUT ROOT... writes to OUT the closure graph of the store
# paths the ROOTs (files or directories outside the store) refer to and
# of those listed in $closure_paths, the ROOTs themselves included as
# nodes; with $closure_graph, references come from that graph (its
# narSize and narHash checked against the files with $graph_verify), and with
# $nar_hash the graph has NAR hashes.
scan_closure() {
	sc_out=$1
	shift
	for sc_root; do
		set -- "$@" --extra-root "$sc_root"
		shift
	done
	sc_ifs=$IFS
	IFS='
'
	set -f
	for sc_path in ${closure_paths-}; do set -- "$@" "$sc_path"; done
	set +f
	IFS=$sc_ifs
	# What --include-nix-db's scan verified is not hashed again.
	[ -z "${graph_verify-}" ] || [ ! -s "$work/nix-db-graph.json" ] || set -- "$@" --verified "$work/nix-db-graph.json"
	run_step closure-scan $verbose ${nar_hash:+"$nar_hash"} --store-dir "$store_dir" --root "$root_dir" ${closure_graph:+--graph "$closure_graph" ${graph_verify-}} "$@" \
		</dev/null >"$sc_out" || exit 1
}

# store_graph ROOT... prints the closure graph of the store paths the
# ROOTs (files or directories outside the store) and $closure_paths name,
# with their NAR hashes when $nar_hash asks for them: only the store's
# nodes, so that closure-scan --graph takes it (--run-as-root's stage
# scans the script's files for its paths only).
store_graph() {
	scan_closure "$work/store-graph.all.json" "$@"
	store_nodes "$work/store-graph.all.json"
}

# pack_layer DIR PLAN OUT [FLAG...] writes the layer stream of DIR's layer
# (layer-pack --changes, the plan's store paths appended) to OUT.
pack_layer() {
	pl_dir=$1 pl_plan=$2 pl_out=$3
	shift 3
	run_step layer-pack $verbose --changes "$pl_dir" --store-dir "$store_dir" --root "$root_dir" \
		--customisation-comment '' "$@" <"$pl_plan" >"$pl_out" || exit 1
}
