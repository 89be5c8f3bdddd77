# fakeroot.sh: --extra-commands, --fake-root-commands and
# --enable-fakechroot (sourced after common.sh and sandbox.sh).
#
# As in nixpkgs, extra commands run first, unprivileged, in the
# customisation root; fake-root commands then run under fakeroot, whose
# saved state (fakeroot -s) layer-pack reads, so chown, chmod and mknod
# done there survive in the layer (fakeroot works on libc calls, and
# layer-pack is a Go program that makes its own). Both run as nixpkgs
# runs them in a Nix build's sandbox, which the store is read-only in:
# in a bubblewrap sandbox where only the root (and fakeroot's state) may
# be written, without network, at a Nix build's paths and as its nixbld
# user (run_contained). Their output goes to stderr: stdout may be
# carrying the image. fakeroot is told not to try the real chown
# (FAKEROOTDONTTRYCHOWN): it hides only EPERM, and in the sandbox's user
# namespace an owner outside it gives EINVAL, so chown failed; the owner
# is fakeroot's state's alone. A chown fakeroot cannot see fails there
# (EINVAL), as in a Nix build; where the commands run on the host
# (run_contained's fallback), root's succeeds, which owners_unchanged
# finds.

# run_extra_commands ROOT CMD
run_extra_commands() {
	rec_owner=$(owner_of "$1") || exit 1
	run_contained "$1" '' '' sh -ec -- "$2" >&2 || die "--extra-commands: the commands failed (status $?)"
	owners_unchanged "$1" "$rec_owner" --extra-commands "chown there in --fake-root-commands"
}

# run_fake_root_commands ROOT STATE CMD CHROOT: CHROOT is 1 for
# --enable-fakechroot. STATE is a file beside ROOT.
run_fake_root_commands() {
	rfr_owner=$(owner_of "$1") || exit 1
	if [ "$4" = 1 ]; then
		fakechroot_run "$1" "$2" "$3"
	else
		run_contained "$1" "$2" '' env FAKEROOTDONTTRYCHOWN=1 fakeroot -s "$(fakeroot_state "$2")" -- sh -ec -- "$3" >&2
	fi || die "--fake-root-commands: the commands failed (status $?)"
	owners_unchanged "$1" "$rfr_owner" --fake-root-commands "fakeroot saw no chown (a statically linked one, or busybox sh's own applet): run them with a dynamically linked chown"
}

# fakeroot_state STATE prints the name fakeroot -s is given for STATE, a
# file beside the root the commands run in: relative to the root. The
# fakeroot script evals the save file's name with faked's command line, so
# a TMPDIR with a blank in it broke it ("[: unexpected operator", faked
# not started), and one with $(...) or ; in it ran as commands; the name
# of a file in $work is one word of safe characters.
fakeroot_state() { printf '../%s\n' "${1##*/}"; }

# With --enable-fakechroot the commands see the customisation root as /
# (mkdir /bin works), through proot, with /dev, /proc, /sys, the store
# and the build directory (/build, their TMPDIR) bound in as nixpkgs binds
# them (and left out of the layer as it leaves them out); PWD is /, where
# sh would otherwise keep run_contained's /build/old_out, which the
# bound /build shows as the root too. nixpkgs' commands come from the store;
# here they may come from the host, so the host's /usr, /bin, /sbin and
# /lib* are bound under $fakechroot_host (left out of the layer like the
# other binds) with PATH pointing there, and the host's dynamic loader is
# bound at its own path, where host programs look for it.
# LD_LIBRARY_PATH reaches the host libraries and fakeroot's library
# inside the root: a program that brings its own C library may prefer
# the host's while it is set.
fakechroot_host=/.dockertools-host

# fakechroot_run ROOT STATE CMD
fakechroot_run() {
	fr_sh=$(sh_on_path)
	fakechroot_guest_sh "$fr_sh"
	set -- "$1" "$2" "$3" -r "$build_root" -w / -b /dev -b /proc -b /sys -b "$root_prefix$store_dir:$store_dir" -b "$build_top"
	for d in /usr /bin /sbin /lib /lib32 /lib64 /libx32; do
		[ ! -d "$d" ] || set -- "$@" -b "$d:$fakechroot_host$d"
	done
	fr_libs=
	for bin in "$fr_sh" "$(command -v mkdir)"; do
		# ldd lists "lib => /dir/lib (addr)" and the loader as "/path (addr)".
		for word in $(ldd "$bin" 2>/dev/null | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e t -e 's/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
			case $word in
			/*/ld-*) [ ! -e "$word" ] || set -- "$@" -b "$word" ;;
			/*) fr_libs=$fr_libs:$(fakechroot_guest "${word%/*}") ;;
			esac
		done
	done
	fr_path=
	fr_ifs=$IFS
	IFS=:
	for d in $PATH; do
		# The store is bound at its own path: a Nix build's helpers stay.
		case $d in
		/usr/* | /bin | /sbin | "$root_prefix$store_dir"/*) fr_path=$fr_path:$(fakechroot_guest "$d") ;;
		esac
	done
	IFS=$fr_ifs
	fr_proot=$(command -v proot) || die "--enable-fakechroot needs proot, which is not installed"
	root=$1 state=$2 cmd=$3
	shift 3
	# fakeroot sets LD_LIBRARY_PATH to its library's host directory; the
	# same directories under $fakechroot_host serve the programs inside.
	run_contained "$root" "$state" proot env FAKEROOTDONTTRYCHOWN=1 fakeroot -s "$(fakeroot_state "$state")" -- sh -c '
		guest=
		IFS=:
		for d in $LD_LIBRARY_PATH; do guest=$guest:'"$fakechroot_host"'$d; done
		unset IFS
		LD_LIBRARY_PATH=${guest#:}'"$fr_libs"':$LD_LIBRARY_PATH PATH=${0#:} PWD=/ exec "$@"
	' "$fr_path" "$fr_proot" "$@" "$fr_guest_sh" -ec -- "$cmd" >&2
}

# sh_on_path prints the sh on PATH: command -v's, or, where that names
# no file (busybox's sh, its applets built in, says "sh" of sh: the
# Nix library's builders' shell with busybox), the first executable sh
# in PATH's directories, the program the commands' sh -c runs.
sh_on_path() {
	sop=$(command -v sh)
	case $sop in /*)
		printf '%s\n' "$sop"
		return
		;;
	esac
	sop_ifs=$IFS
	IFS=:
	set -f
	for sop_d in $PATH; do
		case $sop_d in /*) [ ! -f "$sop_d/sh" ] || [ ! -x "$sop_d/sh" ] || {
			sop=$sop_d/sh
			break
		} ;;
		esac
	done
	set +f
	IFS=$sop_ifs
	printf '%s\n' "$sop"
}

# fakechroot_guest_sh SH sets fr_guest_sh to where the commands' root
# shows the host's program SH (the sh on PATH), or failing that SH's
# target (a link elsewhere: NixOS's /run/current-system/sw/bin/sh, a
# test's wrapper in /tmp), else one line. A sh of the store (a Nix
# build's, stdenv's bash) was looked for under $fakechroot_host, where
# proot found nothing ("not found"), and the build stopped.
fakechroot_guest_sh() {
	for fg_sh in "$1" "$(readlink -f -- "$1")"; do
		case $fg_sh in
		"$root_prefix$store_dir"/* | /usr/* | /bin/* | /sbin/*) fr_guest_sh=$(fakechroot_guest "$fg_sh") && return ;;
		esac
	done
	die "--enable-fakechroot: sh ($1) lies outside /usr, /bin, /sbin and the store, all of the host the commands' root shows"
}

# fakechroot_guest HOSTPATH prints where the commands' root shows
# HOSTPATH: the store (--root's, $root_prefix$store_dir on the host) at
# $store_dir, the rest of the host under $fakechroot_host. The sh, its
# libraries and PATH all go through here: the libraries of a sh of
# --root's store were looked for under $fakechroot_host$root_prefix,
# which the root does not show, and sh did not start.
fakechroot_guest() {
	case $1 in
	"$root_prefix$store_dir"/*) printf '%s\n' "$store_dir/${1#"$root_prefix$store_dir"/}" ;;
	*) printf '%s\n' "$fakechroot_host$1" ;;
	esac
}
