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
# exportReferencesGraph), the closure and its narHashes come from it.
write_nix_db() {
	wn_dir=$1
	set -- --nar-hash --store-dir "$store_dir" --root "$root_dir" ${closure_graph:+--graph "$closure_graph"}
	set -f
	old_ifs=$IFS
	IFS=$nl
	for p in $db_paths; do set -- "$@" "$p"; done
	for e in $db_extras; do set -- "$@" --extra-root "$e"; done
	IFS=$old_ifs
	run_step closure-scan $verbose "$@" </dev/null >"$work/nix-db-graph.json" || exit 1
	IFS=$nl
	set -- -o "$wn_dir" --store-dir "$store_dir"
	for p in $db_paths; do set -- "$@" --gc-root "$p"; done
	for e in $db_extras; do set -- "$@" --exclude "$e"; done
	IFS=$old_ifs
	set +f
	run_step nix-db $verbose "$@" "$work/nix-db-graph.json" || exit 1
}
