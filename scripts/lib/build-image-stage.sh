#!/bin/sh
# build-image-stage.sh: build-image's --run-as-root stage, run as root of
# its own user namespace in the stage directory: see run-as-root.sh.
# build-image passes its settings in the environment (BI_*) and the base
# image, if any, on stdin, and reads the layer stream from
# $BI_WORK/layers.tar afterwards.
set -eu
prog=build-image
here=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
. "$here/lib/common.sh"
. "$here/lib/copy-to-root.sh"
. "$here/lib/run-as-root.sh"
. "$here/lib/build-image.sh"

work=$BI_WORK verbose=$BI_VERBOSE store_dir=$BI_STORE_DIR root_dir=$BI_ROOT_DIR closure_graph=$BI_CLOSURE_GRAPH nar_hash=$BI_NAR_HASH
closure_paths=$BI_CLOSURE_PATHS
root_prefix=${root_dir%/}
rootfs=$work/rootfs
# The caller's temporary directory may be out of this namespace's reach.
TMPDIR=$work
export TMPDIR
# Files the script gave subordinate owners can be removed only from
# inside the namespace: here, on every exit.
trap 'chmod -R u+w "$rootfs" 2>/dev/null; rm -rf "$rootfs"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$rootfs"

set --
if [ -n "$BI_FROM_IMAGE" ]; then
	set -- --snapshot "$work/snapshot"
	tar-merge $verbose --unpack "$rootfs" --snapshot "$work/snapshot" ${BI_IMAGE_REF:+--image "$BI_IMAGE_REF"} \
		-- - || exit 1
fi
# What the base holds in the store before the script runs: not packed again.
: >"$work/base-paths"
if [ -d "$rootfs$store_dir" ] && [ ! -L "$rootfs$store_dir" ]; then
	ls -A "$rootfs$store_dir" | sed "s|^|$store_dir/|" >"$work/base-paths"
fi
copy_tree "$work/new" "$rootfs" merge || die "--copy-to-root: merging the contents into the image failed"
run_chrooted "$rootfs" "$BI_SCRIPT"
if [ -n "$BI_EXTRA_COMMANDS" ]; then
	run_in_root "$rootfs" "$BI_EXTRA_COMMANDS" || die "--extra-commands: the commands failed (status $?)"
fi
# The layer without store paths tells which store paths the script's
# files name; then the layer is packed with them. As Nix scans a build's
# output only for the hashes of the build's inputs, the files are scanned
# only for the store paths of the trusted inputs' closure: the new
# contents, the config, the paths --include-nix-db registers and those
# the script and the commands name in their text (a Nix string's
# context). Else the base image, whose /bin/sh runs the script and sees
# the whole store read-only, could name any store path of this machine
# and have it copied into the image. With --closure-graph that graph
# is the closure already.
if [ -z "$closure_graph" ]; then
	printf '%s\n' "$BI_SCRIPT" >"$work/script.txt"
	printf '%s\n' "$BI_EXTRA_COMMANDS" >"$work/extra-commands.txt"
	store_graph "$work/new" "$work/script.txt" "$work/extra-commands.txt" ${BI_CONFIG:+"$BI_CONFIG"} >"$work/trusted-graph.json"
	closure_graph=$work/trusted-graph.json
fi
echo '[]' >"$work/empty-plan.json"
pack_layer "$rootfs" "$work/empty-plan.json" "$work/probe.tar" "$@"
if [ -n "$BI_CONFIG" ]; then
	closure_plan "$work/base-paths" "$work/probe.tar" "$BI_CONFIG" >"$work/plan.json"
else
	closure_plan "$work/base-paths" "$work/probe.tar" >"$work/plan.json"
fi
pack_layer "$rootfs" "$work/plan.json" "$work/layers.tar" "$@"
