# builder.sh: the builder of every derivation of the Nix library
# (nix/default.nix), run by its shell as
#
#   SHELL -e builder.sh KIND PATH OUT ARG...
#
# KIND says what to build, PATH is the builder's whole PATH (the tools and
# the workflows first; builders get none from Nix), OUT the output path
# (given as builtins.placeholder "out": a structured-attrs build has no
# $out). Each kind runs a workflow of scripts/ or a tool, writing into the
# build directory, then moves the result to OUT, so that no workflow makes
# its temporary files in the store directory.
set -eu
kind=$1 PATH=$2 out=$3
shift 3
export PATH
prog="dockertools builder ($kind)"
tmp=${TMPDIR:-${NIX_BUILD_TOP:-/tmp}}
# A structured-attrs build's .attrs.json. Nix 2.8 names it by the host's
# build directory (/tmp/nix-build-...), which in its sandbox is at
# NIX_BUILD_TOP (/build): there, then.
attrs=${NIX_ATTRS_JSON_FILE-}
[ -z "$attrs" ] || [ -e "$attrs" ] || attrs=$NIX_BUILD_TOP/.attrs.json

fail() {
	printf '%s: %s\n' "$prog" "$1" >&2
	exit 1
}

case $kind in
output | customisation | plan | image | nix-shell-stream | stdout)
	# A tool that cannot start says only "not found" (a dynamically linked
	# one in Nix's sandbox, which has no /lib): say what it is here.
	closure-scan --version >/dev/null 2>&1 ||
		fail "the tools cannot run here: closure-scan is not on PATH, or it cannot start (in Nix's sandbox a dynamically linked tool finds no libc: make install builds them static, CGO_ENABLED=0)"
	# make install's workflows are run by /bin/sh (tools.nix patches
	# theirs), which Nix's sandbox has only when sandbox-paths gives it.
	w=$(command -v stream-layered-image) || fail "stream-layered-image is not on PATH"
	[ -e /bin/sh ] || [ "$(head -c 9 "$w")" != '#!/bin/sh' ] ||
		fail "no /bin/sh here, which the tools' workflows are run by: in Nix's sandbox, give one with sandbox-paths = /bin/sh=BUSYBOX/bin/busybox (Nix's installers and NixOS do), or build with sandbox = false"
	;;
esac

case $kind in
busybox-utils)
	# BUSYBOX: a copy of it in bin/, with a link to it for each applet
	# (the builders' utilities in Nix's sandbox). A copy, not links to BUSYBOX: a
	# fixed-output derivation (pullImage) must not name its inputs, and an
	# image pulled may well hold the busybox the library was given. There
	# is no PATH yet: busybox runs each command.
	bb=$1
	"$bb" mkdir -p "$tmp/result/bin"
	"$bb" cp "$bb" "$tmp/result/bin/busybox"
	for a in $("$bb" --list); do
		case $a in
		busybox) ;;
		*) "$bb" ln -s busybox "$tmp/result/bin/$a" ;;
		esac
	done
	"$bb" mv "$tmp/result" "$out"
	;;
text)
	# A file (passAsFile text), executable when asked: writeText, writeScript.
	cp -- "$textPath" "$out"
	[ "${1-}" != executable ] || chmod 0555 "$out"
	;;
output)
	# CMD ARG...: a workflow that writes its result with -o FILE.
	"$@" -o "$tmp/result"
	mv -- "$tmp/result" "$out"
	;;
customisation)
	# stream-layered-image's flags for the customisation root: its one
	# layer, packed as the workflow packs it, becomes OUT/layer.tar with
	# OUT/checksum (nixpkgs' customisation-layer derivation), so that Nix
	# records the store paths its symlinks name as this output's
	# references. With --include-nix-db the build has structured attrs,
	# whose "graph" is the contents' closure as Nix knows it (with
	# narHash): the database is made from it.
	if [ -n "$attrs" ]; then
		roots=
		prev=
		for a; do
			[ "$prev" != --contents ] || roots="$roots $a"
			prev=$a
		done
		# shellcheck disable=SC2086 # store paths hold no blanks
		closure-scan --graph "$attrs" --key graph --nar-hash $roots </dev/null >"$tmp/closure-graph.json"
		set -- "$@" --closure-graph "$tmp/closure-graph.json"
	fi
	stream-layered-image -q --name customisation-layer --tag layer --no-store-paths --format stream "$@" \
		>"$tmp/layer.stream"
	mkdir "$tmp/unpacked" "$out"
	(cd "$tmp/unpacked" && tar -xf "$tmp/layer.stream" layers/000.tar stream.json) ||
		fail "cannot unpack the customisation layer from its stream (tar)"
	mv -- "$tmp/unpacked/layers/000.tar" "$out/layer.tar"
	sed -n 's/.*"diff_id":"sha256:\([0-9a-f]\{64\}\)".*/\1/p' "$tmp/unpacked/stream.json" >"$out/checksum"
	[ -s "$out/checksum" ] || fail "no diff_id in the customisation layer's stream"
	;;
plan)
	# [--nix-db] MAX STRATEGY FROM-IMAGE [ARCH VARIANT] PIPELINE EXCLUDE...:
	# popularity's layer plan of the closure Nix exported as "graph"
	# (structured attrs), the excluded roots (the config and the
	# customisation layer) left out; with a PIPELINE file
	# (layeringPipeline), MAX and STRATEGY unused. With a FROM-IMAGE, ARCH
	# and VARIANT ("" for the default) pick the image of a multi-platform
	# base whose layers count. With --nix-db (includeNixDB with a
	# pipeline, whose remove_paths may leave a path out), the plan and the
	# base image must hold every path of the contents' closure, exported
	# as "db", which the customisation layer's database registers: nix-db
	# --check --holds checks it, writing nothing, as the CLI's --pipeline does.
	db=
	[ "$1" != --nix-db ] || { db=1; shift; }
	max=$1 strategy=$2 from=$3 arch= variant=
	shift 3
	base=0
	if [ -n "$from" ]; then
		arch=$1 variant=$2
		shift 2
		base=$(manifest-gen --from-image "$from" ${arch:+--architecture "$arch"} ${variant:+--variant "$variant"} --print-base-layers)
	fi
	pipeline=$1
	shift
	for x; do
		set -- "$@" --exclude "$x"
		shift
	done
	if [ -n "$pipeline" ]; then
		set -- --pipeline "$pipeline" "$@"
	else
		set -- --max "$max" --strategy "$strategy" "$@"
	fi
	popularity --key graph --base-layers "$base" "$@" "$attrs" >"$out"
	if [ -n "$db" ]; then
		# The workflows' own listing of the base's paths as a plan
		# (store_paths_plan); the labels are what nix-db's error calls
		# the plans, this build's files: what the user gave.
		w=$(command -v stream-layered-image) || fail "stream-layered-image is not on PATH"
		. "${w%/*}/../libexec/dockertools/lib/nix-db.sh"
		set -- --holds "$out" --holds-label layeringPipeline
		if [ -n "$from" ]; then
			platform=$(manifest-gen ${arch:+--architecture "$arch"} ${variant:+--variant "$variant"} --print-platform)
			tar-merge --store-paths --platform "$platform" -- "$from" >"$tmp/base-paths"
			store_paths_plan "$tmp/base-paths" >"$tmp/base-plan.json"
			set -- "$@" --holds "$tmp/base-plan.json" --holds-label fromImage
		fi
		nix-db --check --key db "$@" "$attrs"
	fi
	;;
image)
	# TAG ROOT... -- BUILD-IMAGE-FLAG...: build-image with the closure of
	# the ROOTs (the copies, the config, the scripts) as Nix exported it,
	# narHashes kept for --include-nix-db.
	tag=$1
	shift
	roots=
	while [ "$1" != -- ]; do
		roots="$roots $1"
		shift
	done
	shift
	# shellcheck disable=SC2086 # store paths hold no blanks
	closure-scan --graph "$attrs" --key graph --nar-hash $roots </dev/null >"$tmp/closure-graph.json"
	build-image -o "$tmp/result" --tag "$tag" --closure-graph "$tmp/closure-graph.json" "$@"
	mv -- "$tmp/result" "$out"
	;;
nix-shell-stream)
	# DRV SHELL: the stream script of a nix-shell image (passAsFile text),
	# with the store paths a build of DRV reads (drv-env's list) named in
	# a comment after its first line, so that they are its references.
	drv-env -o "$tmp/env" --shell "$2" "$1" || fail "drv-env cannot read \"$1\""
	{
		sed -n 1p "$textPath"
		echo "# The inputs it packs, kept alive by their naming here:"
		sed 's/^/#   /' "$tmp/env/inputs"
		sed 1d "$textPath"
	} >"$out"
	chmod 0555 "$out"
	;;
links)
	# NAME TARGET...: a directory of symlinks NAME -> TARGET (usrBinEnv,
	# binSh, caCertificates).
	umask 022
	mkdir -p "$tmp/result"
	while [ $# -ge 2 ]; do
		mkdir -p "$tmp/result/$(dirname -- "$1")"
		ln -s -- "$2" "$tmp/result/$1"
		shift 2
	done
	mv -- "$tmp/result" "$out"
	;;
conf)
	# PLAN: nixpkgs' conf.json (streamLayeredImage's conf): the text
	# before store_layers (passAsFile head), the layer plan PLAN ("" for
	# none: []), the text after (tail).
	{
		cat -- "$headPath"
		if [ -n "$1" ]; then cat -- "$1"; else printf '[]'; fi
		cat -- "$tailPath"
	} >"$out"
	;;
stdout)
	# CMD ARG...: what CMD prints (shadow-setup).
	"$@" >"$out"
	;;
*)
	fail "unknown kind \"$kind\""
	;;
esac
