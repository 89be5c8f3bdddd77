# nix-shell.sh: the body of stream-nix-shell-image and
# build-nix-shell-image (sourced after common.sh). The script calls
# nix_shell_parse "$@", nix_shell_check, then nix_shell_image OUT, where
# OUT is - (stdout) or a file; build-nix-shell-image sets nix_shell_build=1
# first so that -o and --compressor are accepted.
#
# nixpkgs' streamNixShellImage (reference section 4.7) is streamLayeredImage of
# binSh, usrBinEnv and fakeNss with a nixbld user, fakeRootCommands that
# give that user /nix and /build, and a config whose Env is the
# derivation's build environment. Here: drv-env reads the .drv and writes
# the config, the rc file, buildDerivation and the passAsFile files;
# fake-nss writes /etc/passwd, /etc/group and /bin/sh; closure-scan and
# popularity make the plan of the inputs' closure; stream-layered-image
# (or build-layered-image) packs it.

nix_shell_parse() {
	drv= installable= file= name= tag= tag_seen= repo_tag= repo_tag_seen= uid=1000 gid=1000 home=/build shell= command= run= out= compressor=gz
	ca_bundle= store_dir=${NIX_STORE_DIR:-/nix/store} root_dir=/ verbose= command_seen= run_seen=
	eval "set -- $(split_opts "$@")"
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) usage; exit 0 ;;
		-v | --verbose) verbose=-v; shift; continue ;;
		-q | --quiet) verbose=-q; shift; continue ;;
		--drv | -f | --file | --name | --tag | -t | --repo_tag | --repo-tag | --uid | --gid | --home-directory | --shell | --command | --run | \
			--ca-bundle | --store-dir | --root)
			need_value "$1" $#
			;;
		-o | --output | --compressor)
			[ -n "${nix_shell_build-}" ] ||
				usage_error "$1: $prog writes the image to stdout; build-nix-shell-image -o FILE writes a file"
			need_value "$1" $#
			;;
		-?*) unknown_arg "$1" ;;
		*)
			[ -z "$installable" ] || usage_error "more than one installable: \"$installable\" and \"$1\""
			installable=$1
			shift
			continue
			;;
		esac
		case $1 in
		--drv) drv=$2 ;;
		-f | --file) file=$2 ;;
		--name) name=$2 ;;
		--tag) tag=$2 tag_seen=1 ;;
		-t | --repo_tag | --repo-tag) repo_tag=$2 repo_tag_seen=1 ;;
		--uid) uid=$2 ;;
		--gid) gid=$2 ;;
		--home-directory) home=$2 ;;
		--shell) shell=$2 ;;
		--command) command=$2 command_seen=1 ;;
		--run) run=$2 run_seen=1 ;;
		--ca-bundle) ca_bundle=$2 ;;
		--store-dir) store_dir=$2 ;;
		--root) root_dir=$2 ;;
		-o | --output) out=$2 ;;
		--compressor) compressor=$2 ;;
		esac
		shift 2
	done
}

# nix_shell_check checks the command line before any work. drv-env checks
# the flags it is given (check_flags: --uid, --gid, --home-directory,
# --store-dir, --command with --run) and manifest-gen the name, tag and
# compressor; what is checked here is the workflow's own: its arguments,
# the shell in the store, --root and --ca-bundle.
nix_shell_check() {
	# layer-pack and close-fds: the image is made by stream-layered-image
	# or build-layered-image, with --fake-root-commands.
	need_tools closure-scan popularity drv-env layer-pack manifest-gen close-fds
	if [ -n "${nix_shell_build-}" ]; then
		[ -n "$out" ] || usage_error "-o FILE is required"
		check_output "$out"
	fi
	split_repo_tag
	[ -n "$drv$installable" ] || usage_error "give the derivation: --drv PATH.drv, or an installable (nix derivation show resolves it)"
	[ -z "$drv" ] || [ -z "$installable$file" ] || usage_error "--drv gives the derivation: drop the installable"
	[ -z "$file" ] || [ -n "$installable" ] || usage_error "--file FILE needs an attribute path, as nix --file does"
	[ -n "$shell" ] || usage_error "--shell PATH is required: a shell in the store (bash, or a POSIX shell such as busybox's sh); no nixpkgs gives bash here"
	check_flags drv_env -o env --show -
	# drv-env took them as decimal integers, which may have a sign or
	# leading zeros; the passwd line and chown get the bare digits, as
	# drv-env's User has them. (--uid -0 reached chown as its option, and
	# +7 a passwd line that not every libc reads as 7.)
	uid=$(bare_digits "$uid") gid=$(bare_digits "$gid")
	if [ -n "$repo_tag" ]; then
		check_flags manifest-gen --repo-tag "$name:$tag" --compressor "$compressor"
	else
		check_flags manifest-gen --name "${name:-env}" ${tag_seen:+--tag "$tag"} --compressor "$compressor"
	fi
	case $shell in "$store_dir"/*) ;; *) usage_error "--shell \"$shell\": want a shell in the store \"$store_dir\"" ;; esac
	place_root
	[ "$root_dir" = / ] || [ -n "$drv" ] ||
		usage_error "an installable is resolved in Nix's own store; under --root give --drv"
	[ -z "$ca_bundle" ] || need_file --ca-bundle "$ca_bundle"
	[ -e "$root_prefix$shell" ] || [ -L "$root_prefix$shell" ] || die "--shell \"$shell\": no such file"
}

# bare_digits N prints N, a decimal integer of at least 0, without its
# sign and leading zeros.
bare_digits() {
	bd_n=${1#[+-]}
	while :; do
		case $bd_n in
		0?*) bd_n=${bd_n#0} ;;
		*) break ;;
		esac
	done
	printf '%s\n' "$bd_n"
}

# drv_env ARG... runs drv-env with ARGs (-o DIR and the derivation) and
# the workflow's flags; check_flags runs it with --check-flags before any
# work. Numbers are given as --flag=N, so that kong reads "-1" as the
# value it is (and drv-env says why it refuses it), not as a flag.
drv_env() {
	set -- "$@" --shell "$shell" --uid="$uid" --gid="$gid" --home-directory "$home" \
		--store-dir "$store_dir" --root "$root_dir"
	[ -z "$command_seen" ] || set -- "$@" --command "$command"
	[ -z "$run_seen" ] || set -- "$@" --run "$run"
	run_step drv-env $verbose "$@"
}

# show_derivation writes what Nix prints for the installable to FILE:
# nix derivation show, or on Nix before 2.15 nix show-derivation.
show_derivation() {
	set -- "$installable"
	[ -z "$file" ] || set -- --file "$file" "$@"
	if nix --extra-experimental-features nix-command derivation show "$@" >"$work/show.json" 2>"$work/show.err"; then
		return 0
	fi
	if grep -q "'derivation' is not a recognised command" "$work/show.err"; then
		nix --extra-experimental-features nix-command show-derivation "$@" >"$work/show.json" 2>"$work/show.err" && return 0
	fi
	die "nix derivation show \"$installable\": $(grep . "$work/show.err" | tail -n 1 | sed 's/^error: //')"
}

# nix_shell_image TARGET writes the image to TARGET (- is stdout).
nix_shell_image() {
	target=$1
	if [ -n "$drv" ]; then
		set -- "$drv"
	else
		command -v nix >/dev/null 2>&1 || die "an installable is resolved by Nix, which is not installed; give --drv PATH.drv"
		show_derivation
		set -- --show "$work/show.json"
	fi
	drv_env -o "$work/env" "$@" || exit 1
	root=$work/env/root
	# nixpkgs' contents: fakeNss with the nixbld user, binSh, usrBinEnv
	# (when the shell's directory has an env).
	set -- -o "$root" --extra-passwd "nixbld:x:$uid:$gid:Build user:$home:/noshell" --extra-group "nixbld:!:$gid:" \
		--bin-sh "$shell"
	[ ! -e "$root_prefix${shell%/*}/env" ] || set -- "$@" --usr-bin-env "${shell%/*}/env"
	[ -z "$ca_bundle" ] || set -- "$@" --ca-bundle "$ca_bundle"
	sh "$here/fake-nss" "$@" || exit 1
	# The closure of the inputs and the shell: in nixpkgs, of the string
	# context of the Env, the rc file and buildDerivation, which is the
	# same. The config and files are not scanned: they name the
	# derivation's outputs, which this machine's store may hold (built
	# before), and which the image must not (they are what it builds).
	# An input not built is the user's to build, as Nix builds the image's
	# inputs first: named here with the way to do it, where closure-scan
	# would say only "not found".
	while IFS= read -r ns_in; do
		[ -e "$root_prefix$ns_in" ] || [ -L "$root_prefix$ns_in" ] ||
			die "$ns_in, an input of the derivation, is not in the store: build its inputs first (nix-store --realise \$(nix-store --query --references DRV))"
	done <"$work/env/inputs"
	run_step closure-scan $verbose --store-dir "$store_dir" --root "$root_dir" <"$work/env/inputs" >"$work/graph.json" || exit 1
	run_step popularity $verbose "$work/graph.json" >"$work/plan.json" || exit 1
	[ -n "$name" ] || name=$(cat "$work/env/name")-env
	# -t goes on as given (not lower-cased as --name is).
	if [ -n "$repo_tag" ]; then
		set -- -t "$name:$tag"
	else
		set -- --name "$name"
		[ -z "$tag_seen" ] || set -- "$@" --tag "$tag"
	fi
	set -- "$@" --plan "$work/plan.json" --contents "$root" --config "$work/env/config.json" \
		--store-dir "$store_dir" --root "$root_dir" \
		--fake-root-commands "mkdir -p ./nix/store ./nix/var/nix ./etc/nix .$buildDir && chown -R $uid:$gid ./nix ./etc/nix .$buildDir"
	[ -z "$verbose" ] || set -- "$@" "$verbose"
	if [ "$target" = - ]; then
		sh "$here/stream-layered-image" "$@"
	else
		sh "$here/build-layered-image" -o "$target" --compressor "$compressor" "$@"
	fi
}

# buildDir is Nix's build directory in its sandbox, the image's WorkingDir.
buildDir=/build
