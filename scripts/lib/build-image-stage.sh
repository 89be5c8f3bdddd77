#!/bin/sh
# build-image-stage.sh: build-image's --run-as-root stage, run as root of
# its own user namespace in the stage directory: see run-as-root.sh.
# build-image passes its settings in the environment (BI_*), its texts in
# files of $BI_WORK (run-as-root.sh, extra-commands.sh, db-paths.txt: an
# environment string holds at most 128 KiB) and the base image, if any,
# on stdin, and reads the layer stream from $BI_WORK/layers.tar afterwards.
set -eu
prog=build-image
here=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
. "$here/lib/common.sh"
. "$here/lib/sandbox.sh"
. "$here/lib/copy-to-root.sh"
. "$here/lib/run-as-root.sh"
. "$here/lib/build-image.sh"

work=$BI_WORK verbose=$BI_VERBOSE store_dir=$BI_STORE_DIR root_dir=$BI_ROOT_DIR closure_graph=$BI_CLOSURE_GRAPH nar_hash=$BI_NAR_HASH graph_verify=$BI_VERIFY pass_env_args=$BI_PASS_ENV
closure_paths=$(cat "$work/db-paths.txt")
# The commands' text exactly: yash, which starts here in the C locale
# (common.sh's, exported), cut it at its first byte past ASCII.
read_text "$work/extra-commands.sh" --extra-commands
extra_cmds=$text
root_prefix=${root_dir%/}
rootfs=$work/rootfs
# The caller's temporary directory may be out of this namespace's reach.
TMPDIR=$work
export TMPDIR
# Files the script gave subordinate owners can be removed only from
# inside the namespace: here, on every exit.
# HUP, INT and TERM end it quietly, its EXIT trap run: build-image, which
# a signal to the process group reached too or which sent it (on_signal,
# stop_children), stops every process under it and says "interrupted"
# once. (Its sandboxes die with it: bwrap --die-with-parent.)
on_exit 'chmod -R u+w "$rootfs" 2>/dev/null; rm -rf "$rootfs"'
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$rootfs"

set --
if [ -n "$BI_FROM_IMAGE" ]; then
	set -- --snapshot "$work/snapshot"
	run_step tar-merge $verbose --unpack "$rootfs" --snapshot "$work/snapshot" ${BI_IMAGE_REF:+--image "$BI_IMAGE_REF"} ${BI_PLATFORM:+--platform "$BI_PLATFORM"} \
		-- - || exit 1
fi
# What the base holds in the store before the script runs: not packed again.
: >"$work/base-paths"
if [ -d "$rootfs$store_dir" ] && [ ! -L "$rootfs$store_dir" ]; then
	ls -A "$rootfs$store_dir" | sed "s|^|$store_dir/|" >"$work/base-paths"
fi
run_step copy_quietly "$work/merge-err" "$work/new" "$rootfs" merge ||
	die_first "$work/merge-err" "--copy-to-root: merging the contents into the image failed"
[ ! -s "$work/merge-err" ] || cat -- "$work/merge-err" >&2
# The trusted inputs' closure: the new contents, the config, the paths
# --include-nix-db registers and those the script and the commands name
# in their text (a Nix string's context) or the commands' environment
# (--pass-env: commands_env_refs; a link they made to such a path
# dangled in the image) and --run-as-root-shell's, within
# --closure-graph when
# given. Only these store paths are bound into the script's sandbox, as
# a Nix build sees only its inputs' closure: the base image's /bin/sh
# runs the script and must not read the rest of this machine's store
# (copying a secret there into the layer). And the layer's files are
# scanned only for these paths, as Nix scans a build's output only for its
# inputs' hashes: naming another store path in a file does not copy it
# into the image.
printf '%s\n' "$BI_SHELL" >"$work/shell.txt"
: >"$work/commands-env.txt"
[ -z "$extra_cmds" ] || commands_env_refs "$work/commands-env.txt"
store_graph "$work/new" "$work/run-as-root.sh" "$work/shell.txt" "$work/extra-commands.sh" "$work/commands-env.txt" ${BI_CONFIG:+"$BI_CONFIG"} >"$work/trusted-graph.json"
# The graph made from --closure-graph (checked, with --verify) and this store.
closure_graph=$work/trusted-graph.json graph_verify=
graph_paths "$closure_graph" >"$work/trusted-paths"
# The shell's store path is bound only if the graph has it: else bwrap
# would say "No such file" of a file that is there.
if [ -n "$BI_SHELL" ]; then
	rs_path=${BI_SHELL#"$store_dir"/}
	rs_path=$store_dir/${rs_path%%/*}
	rs_graph="--closure-graph: the script's sandbox shows only the store paths of its graph"
	[ -n "$BI_CLOSURE_GRAPH" ] || rs_graph="this store (a store path's name is HASH-NAME)"
	grep -qxF -- "$rs_path" "$work/trusted-paths" || die "--run-as-root-shell \"$BI_SHELL\": $rs_path is not in $rs_graph"
fi
run_chrooted "$rootfs" "$work/run-as-root.sh" "$work/trusted-paths" "$BI_SHELL"
if [ -n "$extra_cmds" ]; then
	run_in_root "$rootfs" "$extra_cmds" || die "--extra-commands: the commands failed (status $?)"
fi
# The layer without store paths tells which store paths the script's
# files name (of the closure above); then the layer is packed with them.
echo '[]' >"$work/empty-plan.json"
pack_layer "$rootfs" "$work/empty-plan.json" "$work/probe.tar" "$@"
if [ -n "$BI_CONFIG" ]; then
	closure_plan "$work/base-paths" "$work/probe.tar" "$BI_CONFIG" >"$work/plan.json"
else
	closure_plan "$work/base-paths" "$work/probe.tar" >"$work/plan.json"
fi
pack_layer "$rootfs" "$work/plan.json" "$work/layers.tar" "$@"
