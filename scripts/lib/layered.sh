# layered.sh: the body of stream-layered-image and build-layered-image
# (sourced after common.sh, sandbox.sh, contents.sh, fakeroot.sh and
# nix-db.sh). The script calls layered_parse "$@", then layered_check,
# then layered_image OUT, where OUT is - (stdout), a file, or with
# --format oci-dir the directory -o DIR; build-layered-image sets
# layered_build=1 first so that -o, --compressor, --sbom and --format
# oci-dir are accepted (and sources sbom.sh).

# The workflow composes; the tools validate. Each step's flags are checked
# by its tool (check_flags) before any work: the layer limit of runtimes
# (125) and --created by manifest-gen, --mtime, --uid, --gid, --store-dir
# and --reuse's --cache by layer-pack, --strategy by popularity. What is
# checked here is the workflow's own: its arguments, and how the steps fit
# together (a layer budget that leaves room for the layers an image needs,
# --reuse only with a stream, a directory only from build-layered-image,
# what --plan, --pipeline and
# --customisation-layer replace). A --pipeline is checked by popularity
# itself, run on an empty graph before any work.

layered_parse() {
	name= tag= tag_seen= repo_tag= repo_tag_seen= config= from_image= max_layers=100 created= mtime= arch= variant=
	extra_cmds= fake_cmds= fakechroot= no_store= uid= gid= uname= gname= strategy= pipeline=
	store_dir=${NIX_STORE_DIR:-/nix/store} root_dir=/ contents= conf= out= compressor= verbose=
	cache= reuse= layer_tars= format=docker layer_compression= plan= custom_layer= sbom_formats= include_nix_db= closure_graph=
	cfg= work= base_layers=0 verify= graph_verify= pass_env=
	nl='
'
	eval "set -- $(split_opts "$@")"
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) usage; exit 0 ;;
		-v | --verbose) verbose=-v; shift; continue ;;
		-q | --quiet) verbose=-q; shift; continue ;;
		--enable-fakechroot) fakechroot=1; shift; continue ;;
		--no-store-paths) no_store=1; shift; continue ;;
		--include-nix-db) include_nix_db=1; shift; continue ;;
		--verify) verify=--verify graph_verify=--verify; shift; continue ;;
		--name | --tag | -t | --repo_tag | --repo-tag | --contents | --config | --from-image | \
			--max-layers | --created | --mtime | --architecture | --variant | --extra-commands | \
			--fake-root-commands | --uid | --gid | --uname | --gname | --store-dir | --root | --strategy | --pipeline | \
			--cache | --reuse | --layer-tars | --format | --layer-compression | --plan | --customisation-layer | --closure-graph | \
			--pass-env)
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
		-?*) unknown_arg "$1" ;;
		*)
			[ -z "$conf" ] || usage_error "more than one configuration: \"$conf\" and \"$1\""
			conf=$1
			shift
			continue
			;;
		esac
		case $1 in
		--name) name=$2 ;;
		--tag) tag=$2 tag_seen=1 ;;
		-t | --repo_tag | --repo-tag) repo_tag=$2 repo_tag_seen=1 ;;
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
		--pass-env) pass_env_add "$2" ;;
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
		--layer-tars) layer_tars=$2 ;;
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
	pass_env_args=$(pass_env_words)
	layered_flags_seen=$(printf '%s' "$name$tag$tag_seen$config$from_image$created$mtime$arch$variant$extra_cmds$fake_cmds$fakechroot$no_store$uid$gid$uname$gname$strategy$pipeline$contents$cache$reuse$layer_tars$layer_compression${format#docker}$plan$custom_layer$sbom_formats$include_nix_db$closure_graph$pass_env" | cut -c1-1)
}

# layered_check validates everything that can be checked before any work,
# the layer budget first.
layered_check() {
	need_tools layer-pack manifest-gen
	# popularity checks its flags (check_flags popularity_split) in every
	# run but a conf.json's, --plan's too; with --plan or --no-store-paths
	# nothing is scanned.
	[ -n "$conf" ] || need_tools popularity
	[ -n "$plan$conf$no_store" ] || need_tools closure-scan
	[ -z "$include_nix_db" ] || need_tools closure-scan nix-db
	# A --customisation-layer's database is checked against the plan.
	[ -z "$custom_layer" ] || need_tools nix-db
	# The base's store paths, which a --plan need not hold again.
	[ -z "$include_nix_db$custom_layer" ] || [ -z "$from_image" ] || [ -z "$plan$no_store$pipeline" ] || need_tools tar-merge
	[ -z "$extra_cmds$fake_cmds" ] || need_tools close-fds
	if [ -n "${layered_build-}" ]; then
		[ -n "$out" ] || usage_error "-o FILE is required"
		# manifest-gen checks the directory an oci-dir goes to.
		[ "$format" = oci-dir ] || check_output "$out"
		sbom_check "$out"
	fi
	split_repo_tag
	if [ -n "$conf" ]; then
		[ -z "$layered_flags_seen" ] && [ "$max_layers" = 100 ] && [ "$store_dir$root_dir" = "${NIX_STORE_DIR:-/nix/store}/" ] ||
			usage_error "a configuration file (\"$conf\") takes no image flags: nixpkgs' conf.json gives them all"
		check_flags manifest_gen
		need_file configuration "$conf"
		return 0
	fi
	[ -n "$name" ] || usage_error "--name is required (or a nixpkgs conf.json as the only argument)"
	case $format in
	docker | oci | stream) ;;
	oci-dir)
		[ -n "${layered_build-}" ] ||
			usage_error "--format oci-dir: $prog writes the image to stdout; build-layered-image -o DIR writes a directory"
		;;
	*) usage_error "--format \"$format\": want docker, oci, oci-dir or stream" ;;
	esac
	[ -z "$plan" ] || [ -z "$sbom_formats" ] ||
		usage_error "--sbom is made from the closure graph the workflow computes, which --plan replaces"
	[ -z "$plan" ] || [ -z "$no_store$strategy$pipeline" ] ||
		usage_error "--plan gives the store layers: drop ${no_store:+--no-store-paths}${strategy:+--strategy}${pipeline:+--pipeline}"
	[ -z "$pipeline" ] || [ -z "$strategy" ] ||
		usage_error "--pipeline makes the store layers: drop --strategy"
	# --verify checks a --closure-graph against the files; a rebuild's
	# reuse (build-layered-image's) too.
	[ -z "$verify" ] || [ -n "${layered_build-}" ] || [ -n "$closure_graph" ] ||
		usage_error "--verify: checks a --closure-graph against the files (give one), or a rebuild's reuse, which build-layered-image takes"
	[ -z "$custom_layer" ] || [ -z "$contents$extra_cmds$fake_cmds$fakechroot$include_nix_db" ] ||
		usage_error "--customisation-layer is packed already: drop --contents, --extra-commands, --fake-root-commands, --enable-fakechroot and --include-nix-db"
	[ -z "$custom_layer" ] || [ -n "$plan$no_store" ] ||
		usage_error "--customisation-layer needs --plan (or --no-store-paths): the closure of a packed layer is its builder's to give"
	# -o: manifest-gen checks that an oci-dir has a directory to go to.
	check_flags manifest_gen ${out:+-o "$out"}
	# nixpkgs ignores maxLayers when a layeringPipeline is given: the image
	# is bounded by what runtimes accept, as manifest-gen's default
	# --max-layers and popularity --pipeline check.
	[ -n "$pipeline" ] || [ "$max_layers" -ge 2 ] ||
		usage_error "--max-layers $max_layers: an image needs at least 2 layers (a store layer and the customisation layer)"
	check_flags layer_pack
	check_flags popularity_split
	# The tools take the stream script's created and mtime; these are
	# nixpkgs' parameters, which its conf step first rewrites.
	created=$(nix_conf_time --created "$created") || exit 1
	mtime=$(nix_conf_time --mtime "$mtime") || exit 1
	# A time that passes 9999 once in UTC is refused now, not after the work.
	[ -z "$created$mtime" ] || { check_flags manifest_gen ${out:+-o "$out"} && check_flags layer_pack; }
	[ -z "$reuse" ] || [ "$format" = stream ] ||
		usage_error "--reuse writes layers by reference, which only --format stream (for push-blob) can carry (--format oci-dir with --cache reuses the blobs of -o DIR itself)"
	# The pipeline run on an empty graph: every fault popularity finds in
	# it (a missing file, an unknown function, a wrong argument) is
	# reported now, before any command runs.
	[ -z "$pipeline" ] || echo '[]' | popularity_split -q >/dev/null || exit 1
	[ -z "$plan" ] || need_file --plan "$plan"
	[ -z "$closure_graph" ] || need_file --closure-graph "$closure_graph"
	[ -z "$custom_layer" ] || [ -f "$custom_layer/layer.tar" ] ||
		die "--customisation-layer \"$custom_layer\": no layer.tar in it"
	place_root
	[ -z "$config" ] || need_file --config "$config"
	check_config
	[ -z "$from_image" ] || need_image_file --from-image "$from_image"
	[ -z "${layered_build-}" ] || not_input "$out" "$from_image" "$config" "$plan" "$closure_graph" "$conf"
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
		# The platform picks the image of a multi-platform base.
		base_layers=$(run_step manifest-gen --from-image "$from_image" ${arch:+--architecture "$arch"} ${variant:+--variant "$variant"} --print-base-layers) || exit 1
	fi
	if [ -n "$pipeline" ]; then
		# popularity --pipeline checks the base layers against the runtime
		# limit.
		check_flags popularity_split
		return 0
	fi
	need=$((base_layers + 2))
	[ -z "$no_store" ] || need=$((base_layers + 1))
	[ "$max_layers" -ge $need ] || usage_error "--max-layers $max_layers: the base image \"$from_image\" has $base_layers layers, so the image needs at least $need (its layers$([ -n "$no_store" ] || printf ', a store layer') and the customisation layer)"
}

# nix_conf_time FLAG TIME prints TIME as nixpkgs' conf step passes created and
# mtime to its stream script (reference section 3.1): `date -Iseconds -d TIME` in
# the build's time zone, UTC, so whole seconds (a fraction is dropped, a
# time before 1970 goes to the earlier second) at +00:00, whatever offset
# TIME has. Unconverted, an offset or a fraction would stay in the
# config's created, and the image ID would not be nixpkgs'. "now" stays.
nix_conf_time() {
	case $2 in '' | now)
		printf '%s\n' "$2"
		return
		;;
	esac
	rfc3339_utc "$2" || TZ=UTC0 date -u -d "$2" '+%Y-%m-%dT%H:%M:%S+00:00' 2>/dev/null ||
		die "$1 \"$2\": date cannot read this time"
}

# rfc3339_utc TIME prints an ISO 8601 TIME of the forms manifest-gen and
# layer-pack take, YYYY-MM-DD(T| )HH:MM[:SS[.F]][Z|+-HH[[:]MM]] (no offset:
# UTC, as GNU date reads it with TZ=UTC0), as nix_conf_time says, by
# arithmetic: busybox's date, the one in the Nix library's builders in
# Nix's sandbox, reads few of them. Status 1 for anything else (a date
# that does not exist, an offset past 24:00, a free form GNU date reads).
rfc3339_utc() {
	case $1 in
	[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9][T\ ][0-2][0-9]:[0-5][0-9]*) ;;
	*) return 1 ;;
	esac
	r_s=$1
	r_y=$((1${r_s%%-*} - 10000)) r_s=${r_s#*-}
	r_mo=$((1${r_s%%-*} - 100)) r_s=${r_s#*-}
	r_d=$((1${r_s%"${r_s#??}"} - 100)) r_s=${r_s#???}
	r_h=$((1${r_s%%:*} - 100)) r_s=${r_s#*:}
	r_mi=$((1${r_s%"${r_s#??}"} - 100)) r_s=${r_s#??}
	r_se=0
	case $r_s in :[0-5][0-9]*)
		r_s=${r_s#:}
		r_se=$((1${r_s%"${r_s#??}"} - 100)) r_s=${r_s#??}
		# A fraction is dropped: the earlier second, before 1970 too.
		case $r_s in .[0-9]*)
			r_s=${r_s#.}
			r_s=${r_s#"${r_s%%[!0-9]*}"}
			;;
		esac
		;;
	esac
	case $r_s in
	'' | Z) r_off=0 ;;
	[+-][0-2][0-9] | [+-][0-2][0-9][0-5][0-9] | [+-][0-2][0-9]:[0-5][0-9])
		r_off=${r_s#?}
		r_om=${r_off#??}
		r_om=${r_om#:}
		r_off=$(((1${r_off%"${r_off#??}"} - 100) * 3600 + (1${r_om:-00} - 100) * 60))
		# GNU date reads an offset of 24:00 at most, and refuses the rest.
		[ "$r_off" -le 86400 ] || return 1
		[ "${r_s%"${r_s#?}"}" = + ] || r_off=$((-r_off))
		;;
	*) return 1 ;;
	esac
	[ "$r_h" -le 23 ] || return 1
	r_days=$(days_from_civil "$r_y" "$r_mo" "$r_d")
	# The date must exist: its day number gives it back.
	[ "$(civil_from_days "$r_days")" = "$(printf '%04d-%02d-%02d' "$r_y" "$r_mo" "$r_d")" ] || return 1
	# Days and seconds of the day apart, never seconds since 1970: mksh's
	# numbers are 32 bits, where a time past 2038 wrapped round to 1903.
	r_t=$((r_h * 3600 + r_mi * 60 + r_se - r_off))
	if [ "$r_t" -lt 0 ]; then
		r_days=$((r_days - 1)) r_t=$((r_t + 86400))
	elif [ "$r_t" -ge 86400 ]; then
		r_days=$((r_days + 1)) r_t=$((r_t - 86400))
	fi
	r_s=$(civil_from_days "$r_days")
	case $r_s in [0-9][0-9][0-9][0-9]-*) ;; *) return 1 ;; esac
	printf '%sT%02d:%02d:%02d+00:00\n' "$r_s" $((r_t / 3600)) $((r_t % 3600 / 60)) $((r_t % 60))
}

# days_from_civil Y M D prints the days from 1970-01-01 to that day of the
# proleptic Gregorian calendar, Y >= 0 (H. Hinnant's algorithm).
days_from_civil() {
	dc_y=$(($1 - ($2 <= 2)))
	dc_era=$((dc_y / 400))
	dc_yoe=$((dc_y - dc_era * 400))
	dc_doy=$(((153 * ($2 + ($2 > 2 ? -3 : 9)) + 2) / 5 + $3 - 1))
	echo $((dc_era * 146097 + dc_yoe * 365 + dc_yoe / 4 - dc_yoe / 100 + dc_doy - 719468))
}

# civil_from_days N prints the day N days after 1970-01-01 as YYYY-MM-DD
# (its inverse; a year before 0 prints with a minus sign).
civil_from_days() {
	cd_z=$(($1 + 719468))
	cd_era=$(((cd_z >= 0 ? cd_z : cd_z - 146096) / 146097))
	cd_doe=$((cd_z - cd_era * 146097))
	cd_yoe=$(((cd_doe - cd_doe / 1460 + cd_doe / 36524 - cd_doe / 146096) / 365))
	cd_doy=$((cd_doe - (365 * cd_yoe + cd_yoe / 4 - cd_yoe / 100)))
	cd_mp=$(((5 * cd_doy + 2) / 153))
	cd_m=$((cd_mp + (cd_mp < 10 ? 3 : -9)))
	printf '%04d-%02d-%02d\n' $((cd_yoe + cd_era * 400 + (cd_m <= 2))) "$cd_m" $((cd_doy - (153 * cd_mp + 2) / 5 + 1))
}

# The steps' tools, each run with the workflow's flags after the caller's
# arguments; check_flags runs them with --check-flags before any work.
# Numbers are given as --flag=N, so that kong reads "-1" as the value it
# is (and the tool says why it refuses it), not as a flag.
manifest_gen() {
	if [ -n "$conf" ]; then
		set -- "$@" --conf "$conf"
		# -t is written as given, as nixpkgs' stream script writes it.
		[ -z "$repo_tag" ] || set -- "$@" --repo-tag "$name:$tag"
	else
		set -- "$@" --format "$format"
		[ -n "$pipeline" ] || set -- "$@" --max-layers="$max_layers"
		if [ -n "$repo_tag" ]; then
			set -- "$@" --repo-tag "$name:$tag"
		else
			set -- "$@" --name "$name"
			# An empty --tag goes to manifest-gen, which refuses it.
			[ -z "$tag_seen" ] || set -- "$@" --tag "$tag"
		fi
		[ -z "$cfg" ] || set -- "$@" --config "$cfg"
		[ -z "$from_image" ] || set -- "$@" --from-image "$from_image"
		[ -z "$created" ] || set -- "$@" --created "$created"
		[ -z "$arch" ] || set -- "$@" --architecture "$arch"
		[ -z "$variant" ] || set -- "$@" --variant "$variant"
		[ -z "$layer_compression" ] || set -- "$@" --layer-compression "$layer_compression"
		[ -z "$layer_tars" ] || set -- "$@" --layer-tars "$layer_tars"
		if [ -n "$sbom_formats" ]; then
			set -- "$@" --sbom-graph "$work/graph.json"
			for sb_f in $sbom_formats; do set -- "$@" "--sbom-$sb_f" "$out$(sbom_suffix "$sb_f")"; done
		fi
	fi
	if [ -n "${layered_build-}" ]; then
		# gz is nixpkgs' default for an archive; a directory is not
		# compressed, and manifest-gen refuses a --compressor given for one.
		[ "$format$compressor" = oci-dir ] || set -- "$@" --compressor "${compressor:-gz}"
	fi
	run_step manifest-gen $verbose ${layered_build:+$verify} "$@"
}

layer_pack() {
	if [ -n "$conf" ]; then
		run_step layer-pack $verbose "$@" --conf "$conf"
		return
	fi
	set -- "$@" --store-dir "$store_dir" --root "$root_dir"
	[ -z "$mtime" ] || set -- "$@" --mtime "$mtime"
	[ -z "$uid" ] || set -- "$@" --uid="$uid"
	[ -z "$gid" ] || set -- "$@" --gid="$gid"
	[ -z "$uname" ] || set -- "$@" --uname "$uname"
	[ -z "$gname" ] || set -- "$@" --gname "$gname"
	[ -z "$cache" ] || set -- "$@" --cache "$cache"
	[ -z "$reuse" ] || set -- "$@" --reuse "$reuse"
	run_step layer-pack $verbose "$@"
}

popularity_split() {
	set -- "$@" --max="$max_layers" --base-layers="$base_layers"
	[ -z "$strategy" ] || set -- "$@" --strategy "$strategy"
	[ -z "$pipeline" ] || set -- "$@" --pipeline "$pipeline"
	run_step popularity $verbose "$@"
}

# layered_holdings, with --format oci-dir, lists the layers of the layout
# already in -o DIR in the --layer-compression asked for (manifest-gen
# --print-holdings, which refuses a DIR that is neither new, empty nor its
# own layout, before any work). With --cache the list is layer-pack's
# --reuse: a store layer the cache knows and DIR holds is written by
# reference, none of its files read, and manifest-gen links DIR's blob
# into the layout that replaces DIR. A new or empty DIR, or one of another
# compression, holds nothing: a fresh build. With --layer-tars DIR (a
# docker-archive) it lists DIR's layer tars the same way, and manifest-gen
# copies a reference layer from there.
layered_holdings() {
	if [ "$format" = oci-dir ]; then
		run_step manifest-gen --format oci-dir -o "$out" --print-holdings ${layer_compression:+--layer-compression "$layer_compression"} >"$work/held.json" || exit 1
	elif [ -n "$layer_tars" ]; then
		run_step manifest-gen --layer-tars "$layer_tars" --print-holdings >"$work/held.json" || exit 1
	else
		return 0
	fi
	[ -z "$cache" ] || reuse=$work/held.json
}

# pipe_image PRODUCER writes the image to $target: PRODUCER's layer stream
# into manifest-gen (pipe_into says which error is shown).
pipe_image() {
	status=0
	pipe_into "$1" manifest_gen -o "$target" || status=$?
	[ "$status" -ne 0 ] || return 0
	# manifest-gen ends quietly when the reader of stdout goes away (by
	# SIGPIPE); killed by another signal, it was reported as such (run_step).
	if [ "$target" = - ] && { [ "$status" -eq 141 ] || { [ "$status" -le 128 ] && [ ! -s "$work/consumer.err" ]; }; }; then
		die "writing the image to stdout: the reader went away"
	fi
	exit_as "$status"
}

produce_from_conf() { layer_pack; }

# layered_image TARGET writes the image to TARGET (- is stdout).
layered_image() {
	target=$1
	if [ -n "$conf" ]; then
		pipe_image produce_from_conf
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
	join_modes "$root" open
	# As nixpkgs' includeNixDB, before the commands, which may use it.
	[ -z "$include_nix_db" ] || write_nix_db "$root"
	# Store paths named by the config are in the image, as in nixpkgs,
	# where the config is a closure root; a private copy is read, once.
	if [ -n "$config" ]; then
		cfg=$work/config.json
		cp -- "$config" "$cfg" || die "--config \"$config\": cannot read it"
	fi
	[ -z "$extra_cmds$fake_cmds" ] || [ -n "$no_store$plan" ] || inputs_graph
	[ -z "$extra_cmds" ] || run_extra_commands "$root" "$extra_cmds"
	[ -z "$fake_cmds" ] || run_fake_root_commands "$root" "$state" "$fake_cmds" "$fakechroot"
	join_modes "$root" final ${fake_cmds:+"$state"}
	layered_plan >"$work/plan.json"
	[ -z "$custom_layer" ] || nix_db_check_layer "$custom_layer/layer.tar"
	# A --pipeline's remove_paths may leave out a path the database registers.
	[ -z "$include_nix_db" ] || [ -z "$pipeline" ] || nix_db_check_plan "$work/plan.json"
	[ -z "$sbom_formats" ] || [ -z "$no_store" ] || echo '[]' >"$work/graph.json"
	pipe_image produce_layers
}

# inputs_graph makes $closure_graph the closure of the customisation
# layer's inputs, before the commands run: the joined contents (with the
# Nix database), the config and the store paths the commands' text names
# (a Nix string's context) or their environment does (commands_env_refs),
# within --closure-graph (checked with
# --verify). The root is scanned after the commands for these paths only,
# as Nix scans the customisation layer's output for its inputs' hashes: a
# file the commands wrote that names another store path (ls of the
# store) copied that path into the image.
inputs_graph() {
	printf '%s\n%s\n' "$extra_cmds" "$fake_cmds" >"$work/commands.txt" || die "cannot write \"$work/commands.txt\""
	commands_env_refs "$work/commands-env.txt"
	set -- --store-dir "$store_dir" --root "$root_dir" --extra-root "$root" --extra-root "$work/commands.txt" \
		--extra-root "$work/commands-env.txt"
	[ -z "$cfg" ] || set -- "$@" --extra-root "$cfg"
	[ -z "$sbom_formats" ] || set -- "$@" --nar-hash
	[ -z "$closure_graph" ] || set -- "$@" --graph "$closure_graph" $graph_verify
	# What the database's scan verified is not hashed again: its scan of
	# the same --closure-graph (a rebuild's --verify without one is
	# build-layered-image's, and that scan's narHashes are Nix's).
	[ -z "$closure_graph" ] || [ -z "$graph_verify" ] || [ ! -s "$work/nix-db-graph.json" ] ||
		set -- "$@" --verified "$work/nix-db-graph.json"
	run_step closure-scan $verbose "$@" </dev/null >"$work/inputs-graph.all.json" || exit 1
	store_nodes "$work/inputs-graph.all.json" >"$work/inputs-graph.json" || die "cannot write \"$work/inputs-graph.json\""
	closure_graph=$work/inputs-graph.json graph_verify=
}

# produce_layers packs the plan and the customisation root (or layer).
produce_layers() {
	if [ -n "$custom_layer" ]; then
		set -- --customisation-tar "$custom_layer/layer.tar"
	else
		set -- --customisation-dir "$root" --fakeroot-state "$state"
	fi
	set -- "$@" --customisation-comment "customisation layer"
	if [ -n "$fakechroot" ]; then
		set -- "$@" --exclude ./dev --exclude ./proc --exclude ./sys --exclude ".$store_dir" --exclude ".$build_top" --exclude ".$fakechroot_host"
	fi
	# A plan that cannot be opened (the temporary directory removed
	# during the run) is pipe_into's to report: the shell's complaint is
	# dropped, layer-pack's errors are not.
	{ layer_pack "$@" 2>&3 3>&-; } 3>&2 2>/dev/null <"$work/plan.json"
}

# layered_plan prints the layer plan: the closure of nixpkgs' roots (the
# config and the customisation root, so a store path named only by the
# config or by a symlink made in --fake-root-commands is in the image),
# within the inputs' closure when commands ran (inputs_graph), those
# roots left out, split within the layer budget; or --plan.
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
	[ -z "$closure_graph" ] || set -- "$@" $graph_verify
	[ -z "$closure_graph" ] || [ -z "$graph_verify" ] || [ ! -s "$work/nix-db-graph.json" ] ||
		set -- "$@" --verified "$work/nix-db-graph.json"
	run_step closure-scan $verbose "$@" </dev/null >"$work/graph.json" || exit 1
	set -- --exclude "$root"
	[ -z "$cfg" ] || set -- "$@" --exclude "$cfg"
	popularity_split "$@" "$work/graph.json" || exit 1
}
