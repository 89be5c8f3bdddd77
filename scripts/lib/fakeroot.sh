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
# be written, without network (run_contained). Their output goes to
# stderr: stdout may be carrying the image. fakeroot is told not to try
# the real chown (FAKEROOTDONTTRYCHOWN): it hides only EPERM, and in the
# sandbox's user namespace (an unprivileged caller's) an owner outside it
# gives EINVAL, so chown failed for every user but root; the owner is
# fakeroot's state's alone, for root too.

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
# (mkdir /bin works), through proot, with /dev, /proc, /sys and the store
# bound in as nixpkgs binds them. nixpkgs' commands come from the store;
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
	fr_sh=$(command -v sh)
	# A shell of the store (nixpkgs' bash, where the Nix library is given
	# pkgs) is seen inside at its own path, where the store is bound; a
	# host one under $fakechroot_host. It was always looked for there:
	# proot found no /.dockertools-host/nix/store/.../bin/sh.
	case $fr_sh in
	"$store_dir"/*) fr_guest_sh=$fr_sh ;;
	*) fr_guest_sh=$fakechroot_host$fr_sh ;;
	esac
	set -- "$1" "$2" "$3" -r "$1" -w / -b /dev -b /proc -b /sys -b "$root_prefix$store_dir:$store_dir"
	for d in /usr /bin /sbin /lib /lib32 /lib64 /libx32; do
		[ ! -d "$d" ] || set -- "$@" -b "$d:$fakechroot_host$d"
	done
	fr_libs=
	for bin in "$fr_sh" "$(command -v mkdir)"; do
		# ldd lists "lib => /dir/lib (addr)" and the loader as "/path (addr)".
		for word in $(ldd "$bin" 2>/dev/null | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e t -e 's/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
			case $word in
			/*/ld-*) [ ! -e "$word" ] || set -- "$@" -b "$word" ;;
			"$store_dir"/*) fr_libs=$fr_libs:${word%/*} ;;
			/*) fr_libs=$fr_libs:$fakechroot_host${word%/*} ;;
			esac
		done
	done
	fr_path=
	fr_ifs=$IFS
	IFS=:
	for d in $PATH; do
		case $d in
		/usr/* | /bin | /sbin) fr_path=$fr_path:$fakechroot_host$d ;;
		# The store is bound at its own path: a Nix build's helpers stay.
		"$store_dir"/*) fr_path=$fr_path:$d ;;
		esac
	done
	IFS=$fr_ifs
	fr_proot=$(command -v proot) || die "--enable-fakechroot needs proot, which is not installed"
	root=$1 state=$2 cmd=$3
	shift 3
	# fakeroot sets LD_LIBRARY_PATH to its library's host directory; the
	# same directories under $fakechroot_host serve the programs inside.
	run_contained "$root" "$state" tmp env FAKEROOTDONTTRYCHOWN=1 fakeroot -s "$(fakeroot_state "$state")" -- sh -c '
		guest=
		IFS=:
		for d in $LD_LIBRARY_PATH; do guest=$guest:'"$fakechroot_host"'$d; done
		unset IFS
		LD_LIBRARY_PATH=${guest#:}'"$fr_libs"':$LD_LIBRARY_PATH PATH=${0#:} exec "$@"
	' "$fr_path" "$fr_proot" "$@" "$fr_guest_sh" -ec -- "$cmd" >&2
}

