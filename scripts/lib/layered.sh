# layered.sh: the body of stream-layered-image and build-layered-image
# (sourced after common.sh, contents.sh, fakeroot.sh and nix-db.sh). The script calls
# layered_parse "$@", then layered_check, then layered_image OUT, where OUT
# is - (stdout) or a file; build-layered-image sets layered_build=1 first
# so that -o, --compressor and --sbom are accepted (and sources sbom.sh).

# The most layers runtimes accept: Docker's layer store refuses a chain
# deeper than 125 ("max depth exceeded", measured with docker load of 125
# and 126 layers; overlayfs itself stacks up to 128 lower directories).
runtime_layer_limit=125

layered_parse() {
	name= tag= repo_tag= config= from_image= max_layers=100 created= mtime= arch= variant=
	extra_cmds= fake_cmds= fakechroot= no_store= uid= gid= uname= gname= strategy= pipeline=
	store_dir=${NIX_STORE_DIR:-/nix/store} root_dir=/ contents= conf= out= compressor=gz verbose=
	cache= reuse= format=docker layer_compression= plan= custom_layer= sbom_formats= include_nix_db= closure_graph=
	nl='
'
	while [ $# -gt 0 ]; do
		case $1 in
		--*=*)
			opt=${1%%=*} val=${1#*=}
			shift
			set -- "$opt" "$val" "$@"
			continue
			;;
		-h | --help) usage; exit 0 ;;
		-v | --verbose) verbose=-v; shift; continue ;;
		-q | --quiet) verbose=-q; shift; continue ;;
		--enable-fakechroot) fakechroot=1; shift; continue ;;
		--no-store-paths) no_store=1; shift; continue ;;
		--include-nix-db) include_nix_db=1; shift; continue ;;
		--name | --tag | -t | --repo_tag | --repo-tag | --contents | --config | --from-image | \
			--max-layers | --created | --mtime | --architecture | --variant | --extra-commands | \
			--fake-root-commands | --uid | --gid | --uname | --gname | --store-dir | --root | --strategy | --pipeline | \
			--cache | --reuse | --format | --layer-compression | --plan | --customisation-layer | --closure-graph)
			need_value "$1" $#
			;;
		-o | --output | --compressor)
			[ -n "${layered_build-}" ] ||
				usage_error "$1: $prog writes the image to stdout; build-layered-image -o FILE writes a file"
			need_value "$1" $#
			;;
		--sbom)
			[ -n "${layered_build-}" ] ||
				usage_error "$1: $prog writes the image to stdout; build-layered-image -o FILE writes the SBOM beside the file"
			need_value "$1" $#
			;;
		-?*) usage_error "unknown flag $(printf '%s' "$1" | cut -c1-40)" ;;
		*)
			[ -z "$conf" ] || usage_error "more than one configuration: \"$conf\" and \"$1\""
			conf=$1
			shift
			continue
			;;
		esac
		case $1 in
		--name) name=$2 ;;
		--tag) tag=$2 ;;
		-t | --repo_tag | --repo-tag) repo_tag=$2 ;;
		--contents)
			case $2 in *"$nl"*) usage_error "--contents: a path with a newline is not supported" ;; esac
			contents=$contents$2$nl
			;;
		--config) config=$2 ;;
		--from-image) from_image=$2 ;;
		--max-layers) max_layers=$2 ;;
		--created) created=$2 ;;
		--mtime) mtime=$2 ;;
		--architecture) arch=$2 ;;
		--variant) variant=$2 ;;
		--extra-commands) extra_cmds=$2 ;;
		--fake-root-commands) fake_cmds=$2 ;;
		--uid) uid=$2 ;;
		--gid) gid=$2 ;;
		--uname) uname=$2 ;;
		--gname) gname=$2 ;;
		--store-dir) store_dir=$2 ;;
		--root) root_dir=$2 ;;
		--strategy) strategy=$2 ;;
		--pipeline) pipeline=$2 ;;
		--cache) cache=$2 ;;
		--reuse) reuse=$2 ;;
		--format) format=$2 ;;
		--layer-compression) layer_compression=$2 ;;
		--plan) plan=$2 ;;
		--customisation-layer) custom_layer=$2 ;;
		--closure-graph) closure_graph=$2 ;;
		-o | --output) out=$2 ;;
		--compressor) compressor=$2 ;;
		--sbom) sbom_formats=$(sbom_add "$sbom_formats" "$2") ;;
		esac
		shift 2
	done
	layered_flags_seen=$(printf '%s' "$name$tag$config$from_image$created$mtime$arch$variant$extra_cmds$fake_cmds$fakechroot$no_store$uid$gid$uname$gname$strategy$pipeline$contents$cache$reuse$layer_compression${format#docker}$plan$custom_layer$sbom_formats$include_nix_db$closure_graph" | cut -c1-1)
}

# layered_check validates everything that can be checked before any work,
# the layer budget first.
layered_check() {
	if [ -n "${layered_build-}" ]; then
		[ -n "$out" ] || usage_error "-o FILE is required"
		check_output "$out"
		case $compressor in none | gz | zstd) ;; *) usage_error "--compressor \"$compressor\": want none, gz or zstd" ;; esac
		sbom_check "$out"
	fi
	if [ -n "$repo_tag" ]; then
		[ -z "$name$tag" ] || usage_error "--repo_tag gives the name and tag; drop --name and --tag"
		name=${repo_tag%:*} tag=${repo_tag##*:}
		case $tag in */*) name=$repo_tag tag= ;; esac
		[ "$name" != "$repo_tag" ] || tag=latest
	fi
	if [ -n "$conf" ]; then
		[ -z "$layered_flags_seen" ] && [ "$max_layers" = 100 ] && [ "$store_dir$root_dir" = "${NIX_STORE_DIR:-/nix/store}/" ] ||
			usage_error "a configuration file (\"$conf\") takes no image flags: nixpkgs' conf.json gives them all"
		[ -f "$conf" ] || die "configuration \"$conf\": no such file"
		return 0
	fi
	[ -n "$name" ] || usage_error "--name is required (or a nixpkgs conf.json as the only argument)"
	check_uint --max-layers "$max_layers"
	if [ -n "$pipeline" ]; then
		# nixpkgs ignores maxLayers when a layeringPipeline is given; the
		# image is still bounded by what runtimes accept (popularity
		# refuses a plan past it before any layer is packed).
		max_layers=$runtime_layer_limit
	fi
	[ "$max_layers" -le $runtime_layer_limit ] ||
		usage_error "--max-layers $max_layers: runtimes refuse images of more than $runtime_layer_limit layers"
	[ "$max_layers" -ge 2 ] ||
		usage_error "--max-layers $max_layers: an image needs at least 2 layers (a store layer and the customisation layer)"
	[ -z "$uid" ] || check_uint --uid "$uid"
	[ -z "$gid" ] || check_uint --gid "$gid"
	case $strategy in '' | popularity | size) ;; *) usage_error "--strategy \"$strategy\": want popularity or size" ;; esac
	case $format in docker | oci | stream) ;; *) usage_error "--format \"$format\": want docker, oci or stream" ;; esac
	[ -z "$reuse" ] || [ -n "$cache" ] || usage_error "--reuse needs --cache (the layers it names are looked up there)"
	[ -z "$reuse" ] || [ "$format" = stream ] ||
		usage_error "--reuse writes layers by reference, which only --format stream (for push-blob) can carry"
	[ -z "$layer_compression" ] || [ "$format" = oci ] || usage_error "--layer-compression needs --format oci"
	[ -z "$plan" ] || [ -z "$sbom_formats" ] ||
		usage_error "--sbom is made from the closure graph the workflow computes, which --plan replaces"
	[ -z "$plan" ] || [ -z "$no_store$strategy$pipeline" ] ||
		usage_error "--plan gives the store layers: drop ${no_store:+--no-store-paths}${strategy:+--strategy}${pipeline:+--pipeline}"
	[ -z "$pipeline" ] || [ -z "$strategy" ] ||
		usage_error "--pipeline makes the store layers: drop --strategy"
	# popularity's rule: a value starting with "[" (after blanks) is the
	# pipeline itself, anything else a file.
	case ${pipeline#"${pipeline%%[![:space:]]*}"} in
	'' | \[*) ;;
	*) [ -f "$pipeline" ] || die "--pipeline \"$pipeline\": no such file" ;;
	esac
	# The pipeline run on an empty graph: every fault popularity finds in
	# it (an unknown function, a wrong argument) is reported now, before
	# any command runs.
	[ -z "$pipeline" ] || echo '[]' | popularity -q --pipeline "$pipeline" >/dev/null || exit 1
	[ -z "$custom_layer" ] || [ -z "$contents$extra_cmds$fake_cmds$fakechroot$include_nix_db" ] ||
		usage_error "--customisation-layer is packed already: drop --contents, --extra-commands, --fake-root-commands, --enable-fakechroot and --include-nix-db"
	[ -z "$custom_layer" ] || [ -n "$plan$no_store" ] ||
		usage_error "--customisation-layer needs --plan (or --no-store-paths): the closure of a packed layer is its builder's to give"
	[ -z "$plan" ] || [ -f "$plan" ] || die "--plan \"$plan\": no such file"
	[ -z "$closure_graph" ] || [ -f "$closure_graph" ] || die "--closure-graph \"$closure_graph\": no such file"
	[ -z "$custom_layer" ] || [ -f "$custom_layer/layer.tar" ] ||
		die "--customisation-layer \"$custom_layer\": no layer.tar in it"
	for t in "--created:$created" "--mtime:$mtime"; do
		case ${t#*:} in
		'' | now | [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] | [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T\ ][0-9]*) ;;
		*) usage_error "${t%%:*} \"${t#*:}\": want an ISO 8601 time such as 1970-01-01T00:00:01Z, or now" ;;
		esac
	done
	case $store_dir in /*) ;; *) usage_error "--store-dir \"$store_dir\": want an absolute path" ;; esac
	[ -d "$root_dir" ] || die "--root \"$root_dir\": no such directory"
	root_dir=$(cd -P -- "$root_dir" && pwd -P)
	root_prefix=${root_dir%/}
	[ -z "$config" ] || [ -f "$config" ] || die "--config \"$config\": no such file"
	[ -z "$from_image" ] || [ -f "$from_image" ] || die "--from-image \"$from_image\": no such file"
	[ -z "$fake_cmds" ] || command -v fakeroot >/dev/null 2>&1 ||
		die "--fake-root-commands needs fakeroot, which is not installed"
	[ -z "$fakechroot$fake_cmds" ] || [ -z "$fakechroot" ] || command -v proot >/dev/null 2>&1 ||
		die "--enable-fakechroot needs proot, which is not installed"
	set -f
	old_ifs=$IFS
	IFS=$nl
	for c in $contents; do
		resolve_content "$c"
		note_db_content
	done
	IFS=$old_ifs
	set +f
	base_layers=0
	if [ -n "$from_image" ]; then
		base_layers=$(manifest-gen --from-image "$from_image" --print-base-layers) || exit 1
	fi
	need=$((base_layers + 2))
	[ -z "$no_store" ] || need=$((base_layers + 1))
	[ "$max_layers" -ge $need ] || usage_error "--max-layers $max_layers: the base image \"$from_image\" has $base_layers layers, so the image needs at least $need (its layers$([ -n "$no_store" ] || printf ', a store layer') and the customisation layer)"
}

# pipe_image PRODUCER ARG... runs the shell function PRODUCER (a layer
# stream on its stdout) into manifest-gen -o "$target" ARG... POSIX sh has
# no pipefail: the producer's status goes through a file. One error line
# is shown: the producer's when it failed (manifest-gen's complaint about
# the cut stream follows from it), else manifest-gen's.
pipe_image() {
	producer=$1
	shift
	rm -f "$work/producer.status"
	status=0
	{
		$producer 2>"$work/producer.err" || echo $? >"$work/producer.status"
	} | manifest-gen $verbose -o "$target" "$@" 2>"$work/manifest-gen.err" || status=$?
	if [ -s "$work/producer.status" ] && [ -s "$work/producer.err" ]; then
		cat "$work/producer.err" >&2
		exit 1
	fi
	cat "$work/producer.err" "$work/manifest-gen.err" >&2
	if [ "$status" -ne 0 ]; then
		# manifest-gen ends quietly when the reader of stdout goes away.
		if [ "$target" = - ] && { [ "$status" -gt 128 ] || [ ! -s "$work/manifest-gen.err" ]; }; then
			die "writing the image to stdout: the reader went away"
		fi
		exit 1
	fi
	[ ! -s "$work/producer.status" ] || exit 1
}

produce_from_conf() { layer-pack $verbose --conf "$conf"; }

# layered_image TARGET writes the image to TARGET (- is stdout).
layered_image() {
	target=$1
	if [ -n "$conf" ]; then
		set --
		[ -z "$repo_tag" ] || set -- --name "$name" --tag "$tag"
		[ -z "${layered_build-}" ] || set -- "$@" --compressor "$compressor"
		pipe_image produce_from_conf --conf "$conf" "$@"
		return
	fi
	root=$work/root
	state=$work/fakeroot.state
	mkdir "$root"
	: >"$state"
	set -f
	old_ifs=$IFS
	IFS=$nl
	for c in $contents; do
		IFS=$old_ifs
		join_content "$root" "$c"
	done
	IFS=$old_ifs
	set +f
	# As nixpkgs' includeNixDB, before the commands, which may use it.
	[ -z "$include_nix_db" ] || write_nix_db "$root"
	[ -z "$extra_cmds" ] || run_extra_commands "$root" "$extra_cmds"
	[ -z "$fake_cmds" ] || run_fake_root_commands "$root" "$state" "$fake_cmds" "$fakechroot"
	# Store paths named by the config are in the image, as in nixpkgs,
	# where the config is a closure root; a private copy is read, once.
	cfg=
	if [ -n "$config" ]; then
		cfg=$work/config.json
		cp -- "$config" "$cfg" || die "--config \"$config\": cannot read it"
	fi
	layered_plan >"$work/plan.json"
	set -- --name "$name" --max-layers "$max_layers"
	[ -z "$tag" ] || set -- "$@" --tag "$tag"
	[ -z "$cfg" ] || set -- "$@" --config "$cfg"
	[ -z "$from_image" ] || set -- "$@" --from-image "$from_image"
	[ -z "$created" ] || set -- "$@" --created "$created"
	[ -z "$arch" ] || set -- "$@" --architecture "$arch"
	[ -z "$variant" ] || set -- "$@" --variant "$variant"
	set -- "$@" --format "$format"
	[ -z "$layer_compression" ] || set -- "$@" --layer-compression "$layer_compression"
	[ -z "${layered_build-}" ] || set -- "$@" --compressor "$compressor"
	if [ -n "$sbom_formats" ]; then
		[ -z "$no_store" ] || echo '[]' >"$work/graph.json"
		set -- "$@" --sbom-graph "$work/graph.json"
		for sb_f in $sbom_formats; do set -- "$@" "--sbom-$sb_f" "$work/image$(sbom_suffix "$sb_f")"; done
	fi
	pipe_image produce_layers "$@"
}

# produce_layers packs the plan and the customisation root (or layer).
produce_layers() {
	if [ -n "$custom_layer" ]; then
		set -- --customisation-tar "$custom_layer/layer.tar"
	else
		set -- --customisation-dir "$root" --fakeroot-state "$state"
	fi
	set -- "$@" --store-dir "$store_dir" --root "$root_dir" --customisation-comment "customisation layer"
	[ -z "$mtime" ] || set -- "$@" --mtime "$mtime"
	[ -z "$uid" ] || set -- "$@" --uid "$uid"
	[ -z "$gid" ] || set -- "$@" --gid "$gid"
	[ -z "$uname" ] || set -- "$@" --uname "$uname"
	[ -z "$gname" ] || set -- "$@" --gname "$gname"
	[ -z "$cache" ] || set -- "$@" --cache "$cache"
	[ -z "$reuse" ] || set -- "$@" --reuse "$reuse"
	if [ -n "$fakechroot" ]; then
		set -- "$@" --exclude ./dev --exclude ./proc --exclude ./sys --exclude ".$store_dir" --exclude ".$fakechroot_host"
	fi
	layer-pack $verbose "$@" <"$work/plan.json"
}

# layered_plan prints the layer plan: the closure of nixpkgs' roots (the
# config and the customisation root, so a store path named only by the
# config or by a symlink made in --fake-root-commands is in the image),
# those roots left out, split within the layer budget; or --plan.
layered_plan() {
	if [ -n "$no_store" ]; then
		echo '[]'
		return
	fi
	if [ -n "$plan" ]; then
		cat -- "$plan" || die "--plan \"$plan\": cannot read it"
		return
	fi
	set -- --store-dir "$store_dir" --root "$root_dir" ${closure_graph:+--graph "$closure_graph"} --extra-root "$root"
	[ -z "$cfg" ] || set -- "$@" --extra-root "$cfg"
	[ -z "$sbom_formats" ] || set -- "$@" --nar-hash
	closure-scan $verbose "$@" </dev/null >"$work/graph.json" || exit 1
	set -- --max "$max_layers" --base-layers "$base_layers" --exclude "$root"
	[ -z "$cfg" ] || set -- "$@" --exclude "$cfg"
	[ -z "$strategy" ] || set -- "$@" --strategy "$strategy"
	[ -z "$pipeline" ] || set -- "$@" --pipeline "$pipeline"
	popularity $verbose "$@" "$work/graph.json" || exit 1
}
