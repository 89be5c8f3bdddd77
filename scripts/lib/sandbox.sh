# sandbox.sh: the bubblewrap sandboxes of the workflows (POSIX sh),
# sourced after common.sh: run_contained, where --extra-commands,
# --fake-root-commands and fakechroot run, with the arguments it shares
# with --run-as-root's sandbox (run-as-root.sh), capabilities and /proc's
# masks, and its own: the host's hidden service sockets and the seccomp
# filter that refuses Unix sockets (--run-as-root's sandbox has the image
# for its root and no host file but the store paths it binds, so no host
# socket to reach); and what the commands are given there as a Nix build
# is: its environment, not the caller's (build_env; --pass-env NAME,
# pass_env_add), its user and group files (nix_passwd, nix_group; the
# VM's, vm_passwd, after --run-as-root) and paths (build_top).

# sandbox_caps are the capabilities kept in a bubblewrap sandbox (the
# --run-as-root script's, run_contained's): Docker's defaults for a
# container (and a RUN step); no CAP_SYS_ADMIN, so the sandbox's mounts
# cannot be undone from inside.
sandbox_caps='CAP_CHOWN CAP_DAC_OVERRIDE CAP_FSETID CAP_FOWNER CAP_MKNOD CAP_NET_RAW CAP_SETGID CAP_SETUID CAP_SETFCAP CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_SYS_CHROOT CAP_KILL CAP_AUDIT_WRITE'

# sandbox_cap_args prints bwrap's arguments that keep $sandbox_caps only.
sandbox_cap_args() {
	printf '%s' '--cap-drop ALL'
	for sc_c in $sandbox_caps; do
		printf ' --cap-add %s' "$sc_c"
	done
}

# proc_mask_args prints bwrap's arguments, for after --proc /proc, that
# mask what a sandbox's /proc shows of the kernel it shares with the host,
# as runc does: /proc/sys and its like read-only (as real root, a sandbox
# without a user namespace of its own could otherwise set the host's
# sysctls), the files that leak kernel state empty, and the directories
# that hold device controls empty and read-only.
proc_mask_args() {
	for pm_p in sys sysrq-trigger irq bus fs; do
		[ ! -e "/proc/$pm_p" ] || printf ' --ro-bind /proc/%s /proc/%s' "$pm_p" "$pm_p"
	done
	for pm_p in kcore keys timer_list sched_debug latency_stats timer_stats; do
		[ ! -e "/proc/$pm_p" ] || printf ' --ro-bind /dev/null /proc/%s' "$pm_p"
	done
	for pm_p in acpi scsi asound; do
		[ ! -d "/proc/$pm_p" ] || printf ' --tmpfs /proc/%s --remount-ro /proc/%s' "$pm_p" "$pm_p"
	done
}

# sys_mask_args prints bwrap's arguments, for after --ro-bind / /, that
# mask what runc masks of the host's /sys, which that bind shows
# (read-only): the firmware's tables and variables (ACPI, EFI) and the
# power meters (powercap, whose energy counters leak what the host
# computes), empty and read-only. As root, the commands could otherwise
# read them, root's only, into the image. (--run-as-root's sandbox has no
# /sys.)
sys_mask_args() {
	for ym_p in firmware devices/virtual/powercap; do
		[ ! -d "/sys/$ym_p" ] || printf ' --tmpfs /sys/%s --remount-ro /sys/%s' "$ym_p" "$ym_p"
	done
}

# socket_mask_args prints bwrap's arguments, for after --ro-bind / /, that
# hide where the host keeps the Unix sockets of its services: /run
# (Docker's, containerd's, D-Bus's, the session's under /run/user) and the
# Nix daemon's directory. A read-only mount does not stop connect(2), and
# the network namespace hides abstract sockets only. NixOS's
# /run/current-system (where its PATH leads) is kept, as the symlink into
# the store it is.
socket_mask_args() {
	printf '%s' '--tmpfs /run'
	if sm_t=$(readlink /run/current-system 2>/dev/null); then
		printf ' --symlink %s /run/current-system' "$sm_t"
	fi
	[ ! -d /nix/var/nix/daemon-socket ] || printf ' --tmpfs /nix/var/nix/daemon-socket'
}

# bpf_insn CODE JT JF K prints one classic BPF instruction (struct
# sock_filter: code, jt, jf, k) in the machine's byte order, which is
# little-endian on every architecture seccomp_filter knows.
bpf_insn() {
	bi_k=$(($4))
	# shellcheck disable=SC2059 # the format is the instruction's bytes
	printf "$(printf '\\%03o' $(($1 & 255)) $(($1 >> 8)) "$2" "$3" \
		$((bi_k & 255)) $((bi_k >> 8 & 255)) $((bi_k >> 16 & 255)) $((bi_k >> 24 & 255)))"
}

# The classic BPF opcodes seccomp_filter uses, and the answers it gives: a
# load of a 32-bit word of struct seccomp_data (nr at 0, arch at 4, the
# low word of args[0] at 16 and of args[1] at 24), jumps on a constant,
# an and, and returns.
bpf_ld=0x20 bpf_jeq=0x15 bpf_jge=0x35 bpf_and=0x54 bpf_ret=0x06
seccomp_allow=0x7fff0000 seccomp_eacces=0x0005000d seccomp_enosys=0x00050026

# seccomp_filter [ARCH] prints, for ARCH (uname -m's name; this
# machine's by default), the seccomp program run_contained gives bwrap
# (--seccomp): socket(2) of AF_UNIX fails with EACCES, and so does
# socketpair(2) of AF_UNIX but of a connected type, stream or seqpacket
# (a datagram one, which SOCK_RAW also makes, may sendto(2) any named
# socket), so the commands cannot reach a Unix socket of the host's,
# wherever it lies (an ssh agent's in /tmp, a rootless Docker's in the
# home directory, LXD's in /var): the sandbox shows the host read-only,
# which connect(2) ignores. Other sockets (loopback only, in the
# sandbox's network namespace) and stream pairs work. io_uring_setup(2)
# fails with ENOSYS, as on an old kernel, since io_uring creates sockets
# past seccomp; so do x32 calls. The 32-bit compatible architecture
# (i386, arm) may create no socket at all: its socketcall(2) hides the
# family from the filter. A 32-bit host (i686, armv7l) has its 64-bit
# kin's program, whose compatible section is its own calls', so its
# commands make no socket at all (and a 64-bit kernel under linux32,
# which names itself so, still has its 64-bit calls filtered). It fails
# for an architecture it does not know; run_contained then goes without,
# with a warning.
seccomp_filter() {
	sf_ccall='' sf_x32=''
	case ${1-$(uname -m)} in
	x86_64 | i[3-6]86) # AUDIT_ARCH_X86_64, __NR_socket, __NR_socketpair; i386's
		sf_arch=0xc000003e sf_socket=41 sf_pair=53 sf_x32=0x40000000
		sf_compat=0x40000003 sf_csocket=359 sf_cpair=360 sf_ccall=102 ;;
	aarch64 | armv*l) # AUDIT_ARCH_AARCH64, its calls; arm's (EABI, no socketcall; little-endian)
		sf_arch=0xc00000b7 sf_socket=198 sf_pair=199
		sf_compat=0x40000028 sf_csocket=281 sf_cpair=288 ;;
	*) return 1 ;;
	esac
	sf_native=$((${sf_x32:+2} + 17)) # the native section's length
	bpf_insn $bpf_ld 0 0 4
	bpf_insn $bpf_jeq 0 $sf_native "$sf_arch"
	# The native calls.
	bpf_insn $bpf_ld 0 0 0
	if [ -n "$sf_x32" ]; then
		bpf_insn $bpf_jge 0 1 "$sf_x32"
		bpf_insn $bpf_ret 0 0 $seccomp_enosys
	fi
	bpf_insn $bpf_jeq 0 1 425 # __NR_io_uring_setup, the same everywhere
	bpf_insn $bpf_ret 0 0 $seccomp_enosys
	bpf_insn $bpf_jeq 0 4 "$sf_socket"
	bpf_insn $bpf_ld 0 0 16
	bpf_insn $bpf_jeq 0 1 1 # AF_UNIX
	bpf_insn $bpf_ret 0 0 $seccomp_eacces
	bpf_insn $bpf_ret 0 0 $seccomp_allow
	# A pair of AF_UNIX sockets: of a connected type only (SOCK_RAW is
	# a datagram socket there).
	bpf_insn $bpf_jeq 0 7 "$sf_pair"
	bpf_insn $bpf_ld 0 0 16
	bpf_insn $bpf_jeq 0 5 1 # AF_UNIX
	bpf_insn $bpf_ld 0 0 24
	bpf_insn $bpf_and 0 0 0xf # SOCK_TYPE_MASK
	bpf_insn $bpf_jeq 2 0 1   # SOCK_STREAM
	bpf_insn $bpf_jeq 1 0 5   # SOCK_SEQPACKET
	bpf_insn $bpf_ret 0 0 $seccomp_eacces
	bpf_insn $bpf_ret 0 0 $seccomp_allow
	# The compatible architecture's calls; with socketcall, four more
	# before the last two returns.
	sf_call=$((${sf_ccall:+4} + 0))
	bpf_insn $bpf_jeq 0 $((sf_call + 7)) "$sf_compat"
	bpf_insn $bpf_ld 0 0 0
	bpf_insn $bpf_jeq 0 1 425
	bpf_insn $bpf_ret 0 0 $seccomp_enosys
	bpf_insn $bpf_jeq $((sf_call + 2)) 0 "$sf_csocket"
	bpf_insn $bpf_jeq $((sf_call + 1)) 0 "$sf_cpair"
	if [ -n "$sf_ccall" ]; then
		bpf_insn $bpf_jeq 0 3 "$sf_ccall"
		bpf_insn $bpf_ld 0 0 16
		bpf_insn $bpf_jeq 2 0 1 # SYS_SOCKET
		bpf_insn $bpf_jeq 1 0 8 # SYS_SOCKETPAIR
	fi
	bpf_insn $bpf_ret 0 0 $seccomp_allow
	bpf_insn $bpf_ret 0 0 $seccomp_eacces
	# Any other architecture (none can call here).
	bpf_insn $bpf_ret 0 0 $seccomp_enosys
}

# build_env CMD [ARG...] runs CMD with the environment a Nix build gives
# its builder, not the caller's: a builder sees only its derivation's
# attributes and what Nix and stdenv set, and the commands saw every
# variable of the caller's, so its secrets (a CI job's tokens,
# GITHUB_TOKEN, AWS_*, DOCKER_AUTH_CONFIG, SSH_AUTH_SOCK) reached them,
# and a command writing its environment into the image published them.
# They get PATH, the caller's (their programs, as a build's PATH is its
# inputs'), the variables named by --pass-env (pass_env_add; those set),
# and a Nix build's values of HOME (/homeless-shelter: the configuration
# files tools read there; a build has none), the locale (C; LC_ALL), TZ
# (UTC), SOURCE_DATE_EPOCH (315532800: tools that honour it date what
# they write by it), TERM (xterm-256color, as Nix sets it) and NIX_STORE
# (the store directory); run_contained adds NIX_BUILD_TOP, TMPDIR,
# TEMPDIR, TMP, TEMP and PWD (without a sandbox, the caller's). Nothing
# else: not the caller's LANG, USER,
# LOGNAME, HOSTNAME (a build's bash sets its own, unexported, from the
# sandbox's host name, localhost) or OLDPWD, which named the caller and
# their machine in the image, nor DOCKERTOOLS_STEP_OF (a tool the
# commands run is not the workflow's step). CMD's arguments may set more
# (VAR=VALUE).
build_env() {
	set -- HOME=/homeless-shelter LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=315532800 TERM=xterm-256color NIX_STORE="$store_dir" "$@"
	# The caller's values of --pass-env's names, quoted (pass_env_words).
	eval "set -- ${pass_env_args-} \"\$@\""
	[ -z "${PATH+x}" ] || set -- PATH="$PATH" "$@"
	env -i "$@"
}

# sandbox_env_names are the variables build_env and run_contained set to
# a Nix build's values: --pass-env cannot give the caller's.
sandbox_env_names='HOME LC_ALL TZ SOURCE_DATE_EPOCH TERM NIX_STORE NIX_BUILD_TOP TMPDIR TEMPDIR TMP TEMP PWD'

# pass_env_add NAME adds NAME to pass_env, the caller's variables the
# commands get too (--pass-env NAME, repeatable): a variable's name, not
# one the sandbox sets (sandbox_env_names) nor the workflow's own
# DOCKERTOOLS_STEP_OF. PATH always passes.
pass_env_add() {
	case $1 in
	'' | [0-9]* | *[!A-Za-z0-9_]*) usage_error "--pass-env \"$1\": not a variable's name" ;;
	DOCKERTOOLS_STEP_OF) usage_error "--pass-env $1: the workflow's own variable" ;;
	# Passed always, as the workflow's: the caller's (pass_env_words)
	# lacks the tools' directory, and close-fds was not found.
	PATH) return ;;
	esac
	for pea_n in $sandbox_env_names; do
		[ "$1" != "$pea_n" ] || usage_error "--pass-env $1: the commands' $1 is a Nix build's, not the caller's"
	done
	pass_env="${pass_env-} $1"
}

# pass_env_words prints NAME=VALUE quoted for eval, for each name of
# pass_env the caller set, with the caller's value: that of caller_env
# (export -p, the workflows' first step), not the shell's variable of
# that name, which may be the workflow's own: --pass-env name gave the
# commands the image's name, --pass-env work the work directory's random
# path, and --pass-env here, not set by the caller, the workflow's.
# Each name in a subshell of its own, its value from caller_env only
# (the workflow's variable of that name unset first), by positional
# parameters, which what the snapshot sets cannot overwrite.
pass_env_words() {
	pew_ifs=$IFS
	IFS=' '
	for pew_n in ${pass_env-}; do
		# The names are checked (pass_env_add): eval sees a name only.
		(
			# shellcheck disable=SC2154 # caller_env: the workflows' first step
			set -- "$pew_n" "$caller_env"
			# A readonly variable of the shell's own (bash's SHELLOPTS,
			# when exported) is not set again: no word of it.
			unset -v "$1" && { eval "$2" || :; } 2>/dev/null &&
				eval "[ -z \"\${$1+x}\" ] || quote \"\$1=\${$1}\""
		) || die "--pass-env $pew_n: cannot read the caller's environment"
	done
	IFS=$pew_ifs
}

# commands_env_refs FILE writes to FILE the lines of the environment the
# commands get (build_env's) that name the store directory. A store path
# the caller gives them by a variable (--pass-env HELLO, where
# HELLO=/nix/store/...-hello; a nix-shell's PATH) is one of their
# inputs, as a Nix build's attributes are (their string context), so the
# layer is scanned for its closure too: a link they made to
# $HELLO/bin/hello dangled in the image. Only those lines are written:
# the rest of the environment may hold secrets.
commands_env_refs() {
	build_env env | awk -v p="$store_dir/" 'index($0, p)' >"$1" || die "cannot write \"$1\""
}

# The build directory of a Nix build's sandbox (NIX_BUILD_TOP), where
# run_contained binds its own temporary directory, with the commands'
# root at $build_root: old_out, as nixpkgs' streamLayeredImage renames the
# root it runs them in (build-image sets layer, buildImage's name); and
# the sandbox's user and group (nixbld), which the commands run as.
build_top=/build build_uid=1000 build_gid=100
build_root=$build_top/old_out
# TEMPDIR, TMP and TEMP, which Nix sets to the build directory too;
# run_in_root's differ (see there).
build_temps=$build_top

# nix_passwd and nix_group print the /etc/passwd and /etc/group a Nix
# build's sandbox has (Nix writes them so), which run_contained shows the
# commands: id -un, ls -l and whoami named the host's user of uid 1000
# (or none) where a build names nixbld.
nix_passwd() {
	printf 'root:x:0:0:Nix build user:%s:/noshell\n' "$build_top"
	printf 'nixbld:x:%s:%s:Nix build user:%s:/noshell\n' "$build_uid" "$build_gid" "$build_top"
	printf 'nobody:x:65534:65534:Nobody:/:/noshell\n'
}
nix_group() {
	printf 'root:x:0:\nnixbld:!:%s:\nnogroup:x:65534:\n' "$build_gid"
}
# vm_passwd prints the /etc/passwd of the VM nixpkgs' buildImage runs
# extraCommands in after runAsRoot (vmTools' stage 1 writes it so), which
# run_in_root's commands see.
vm_passwd() { printf 'root:x:0:0:System administrator:/root:/bin/sh\n'; }

# sandbox_hides DIR: DIR, a path without links, is, holds or lies in
# what run_contained hides or makes anew of the host's: / and /tmp (the
# host's /tmp, but for what it binds), /build, /dev, /proc, /run, the
# masked parts of /sys and the Nix daemon's socket directory. A PATH
# directory in /tmp bound from there showed it: a PATH entry
# /tmp/../proc, or a link in /tmp to /proc, gave the host's processes
# (every user's command lines), one to /run the host's service sockets.
sandbox_hides() {
	for sh_m in /tmp /build /dev /proc /run /sys/firmware /sys/devices/virtual/powercap /nix/var/nix/daemon-socket; do
		case $sh_m/ in "${1%/}"/*) return 0 ;; esac
		[ "$sh_m" = /tmp ] || case $1/ in "$sh_m"/*) return 0 ;; esac
	done
	return 1
}

# run_contained DIR FILE HOW CMD [ARG...] runs CMD in DIR as nixpkgs runs
# extraCommands and fakeRootCommands, in a Nix build's sandbox: the host's
# programs and files are there to read, but only DIR (the layer's root),
# FILE (a fakeroot state to save; '' for none) and a directory of its own
# may be written, with no network but a loopback, in a pid namespace and
# session of its own (nothing it starts outlives it), with a Nix build's
# host name (localhost: uname -n, hostname, which the commands may write
# into the image, gave the machine's), /proc and /sys masked
# (proc_mask_args, sys_mask_args), the host's service sockets hidden
# (socket_mask_args) and no Unix socket to be made (seccomp_filter), with
# a Nix build's environment, not the caller's (build_env), and,
# as in a Nix build, nothing on stdin (/dev/null: the workflow's stdin is
# the caller's, which the commands read into the image) and none of the
# caller's other descriptors: bwrap closes none it inherits, and POSIX sh
# names none past 9, so close-fds closes them (but 8, the seccomp
# program's, which bwrap reads and closes).
#
# What the commands see of where and who they are is a Nix build's, the
# same whoever runs the workflow from wherever: the directory of their
# own is the build directory, /build ($build_top: NIX_BUILD_TOP, TMPDIR,
# TEMPDIR, TMP and TEMP), DIR is $build_root, where they start (PWD),
# and FILE /build/NAME (its name beside DIR: fakeroot_state); they run as
# the sandbox's nixbld, 1000:100, in a user namespace of their own (DIR's
# files, the caller's, are nixbld's there), without capabilities, with a
# Nix sandbox's /etc/passwd and /etc/group. Before, they saw the
# workflow's random work path (under TMPDIR or -o's directory) and the
# caller's uid and gid, which what they wrote into the image took: two
# builds of the same inputs gave two images. bwrap cannot make /build in
# the host's read-only /, so the sandbox's / is a tmpfs (read-only once
# made) with each entry of the host's bound in, read-only, at its place.
#
# Their /tmp is their own too, as a Nix build's sandbox has one (Nix
# makes it, mode 1777): empty, writable, a directory of the workflow's
# (on disk, as Nix's is, not in memory), gone after them. Before, they
# saw the host's /tmp, read-only: a command that wrote there failed where
# it works in nixpkgs, and one that read there could copy another
# user's file into the image. Of the host's /tmp they see only what they
# are given, read-only: the directories of their PATH that lie there
# (a wrapper's sh, a test's tools), each bound from where it leads, and
# never / or /tmp itself, and the store (below).
#
# HOW is '' for the commands; proot for --enable-fakechroot's (proot
# makes its glue in that /tmp); root for --extra-commands after
# --run-as-root, run as the root of the stage's user namespace they are
# in, with Docker's default capabilities, as nixpkgs runs them as root in
# its VM, at its paths (run_in_root: the build directory is /tmp). The store
# ($root_prefix$store_dir) is bound in again, read-only, in case it lies
# in the host's /tmp, /run or /build. So a command that writes through one of the
# root's symlinks into the store (echo >> etc/profile, where etc/profile
# is a store file), or anywhere else on the host, fails instead of
# changing the store under the image or the host.
#
# The sandbox is bubblewrap's. Where bwrap is not installed or cannot
# make one here, CMD runs on the host as before, in DIR at its own path,
# as the caller, with a warning that says so; where bwrap works but makes
# no user namespace (root's, with user namespaces turned off), CMD runs
# in the sandbox as the caller, with a warning.
run_contained() {
	rcn_dir=$1 rcn_file=$2 rcn_how=$3
	shift 3
	if ! command -v bwrap >/dev/null 2>&1 || ! bwrap --ro-bind / / true >/dev/null 2>&1; then
		warn "warning: no bubblewrap sandbox here (bwrap is not installed, or cannot make one): the commands run on the host, in the root at its own path and as $(id -u):$(id -g), where they can write outside the image's root, and what they write of their paths and ids changes from run to run"
		# On the host, the caller's build directories, which build_env
		# does not pass and the sandbox sets: in Nix's sandbox (no bwrap:
		# the Nix library without pkgs) Nix's /build, where nixpkgs'
		# commands have them; cp x "$TMPDIR" wrote /x, and failed there.
		set -- close-fds -- "$@"
		for rcn_v in TEMP TMP TEMPDIR TMPDIR NIX_BUILD_TOP; do
			eval "[ -z \"\${$rcn_v+x}\" ] || set -- \"$rcn_v=\${$rcn_v}\" \"\$@\""
		done
		(cd -- "$rcn_dir" && build_env "$@") </dev/null
		return
	fi
	rcn_tmp=$(mktemp -d "$work/tmp.XXXXXX") || die "cannot create a temporary directory in \"$work\""
	mkdir "$rcn_tmp/build" "$rcn_tmp/tmp" && chmod 1777 "$rcn_tmp/tmp" ||
		die "cannot create the commands' directories in \"$rcn_tmp\""
	rcn_seccomp=$work/seccomp.bpf
	if [ ! -e "$rcn_seccomp" ] && ! seccomp_filter >"$rcn_seccomp"; then
		warn "warning: no seccomp filter for $(uname -m): the commands can connect to the host's Unix sockets outside /run"
		: >"$rcn_seccomp"
	fi
	rcn_seccomp_on=''
	[ ! -s "$rcn_seccomp" ] || rcn_seccomp_on=1
	[ -e "$work/nix-passwd" ] || { nix_passwd >"$work/nix-passwd" && nix_group >"$work/nix-group" && vm_passwd >"$work/vm-passwd"; } ||
		die "cannot write the commands' /etc/passwd in \"$work\""
	rcn_passwd=nix-passwd
	[ "$rcn_how" != root ] || rcn_passwd=vm-passwd
	rcn_store=${root_prefix-}$store_dir
	rcn_user=''
	set -- -- "$@"
	if [ "$rcn_how" != root ]; then
		if bwrap --ro-bind / / --unshare-user true >/dev/null 2>&1; then
			set -- --unshare-user --uid "$build_uid" --gid "$build_gid" --cap-drop ALL "$@"
			rcn_user=1
		else
			warn "warning: bwrap makes no user namespace here: the commands run as $(id -u):$(id -g), not a Nix build's $build_uid:$build_gid"
		fi
	fi
	# shellcheck disable=SC2046 # the *_args functions print words
	[ -n "$rcn_user" ] || set -- $(sandbox_cap_args) "$@"
	# The options, then the mounts, each group prepended before the last,
	# so that they are in order, a later mount on top of an earlier one:
	# the host's entries; what hides or replaces parts of them; /tmp and
	# the PATH directories in the host's; /build and what it holds; the
	# store again, at its host path, which those may hide (a store in the
	# host's /run, /tmp, or /build: --root /build/...); the Nix passwd and
	# group; and / made read-only last.
	set -- --unshare-pid --unshare-net --unshare-ipc --unshare-uts --hostname localhost --new-session --die-with-parent \
		${rcn_seccomp_on:+--seccomp 8} --chdir "$build_root" \
		--setenv NIX_BUILD_TOP "$build_top" --setenv TMPDIR "$build_top" --setenv TEMPDIR "$build_temps" \
		--setenv TMP "$build_temps" --setenv TEMP "$build_temps" --setenv PWD "$build_root" "$@"
	set -- --bind "$rcn_dir" "$build_root" \
		${rcn_file:+--bind "$rcn_file" "$build_top/${rcn_file##*/}"} --ro-bind-try "$rcn_store" "$rcn_store" \
		--ro-bind "$work/$rcn_passwd" /etc/passwd --ro-bind "$work/nix-group" /etc/group --remount-ro / "$@"
	# The build directory; /tmp itself where that is it (run_in_root).
	[ "$build_top" = /tmp ] || set -- --bind "$rcn_tmp/build" "$build_top" "$@"
	# PATH's directories in the host's /tmp, in PATH's order (prepended
	# from its end), from where they lead, but one with a . or ..
	# (/tmp/../run is not in /tmp) and one that leads to what the sandbox
	# hides (sandbox_hides). Read without IFS: the caller's may be
	# anything.
	rcn_rest=${PATH-}
	while [ -n "$rcn_rest" ]; do
		rcn_d=${rcn_rest##*:}
		case $rcn_rest in *:*) rcn_rest=${rcn_rest%:*} ;; *) rcn_rest= ;; esac
		case $rcn_d/ in */./* | */../*) continue ;; /tmp/?*) ;; *) continue ;; esac
		rcn_p=$(cd -P -- "$rcn_d" 2>/dev/null && pwd -P) || continue
		sandbox_hides "$rcn_p" || set -- --ro-bind "$rcn_p" "$rcn_d" "$@"
	done
	set -- --bind "$rcn_tmp/tmp" /tmp "$@"
	# shellcheck disable=SC2046 # the *_args functions print words
	set -- $(socket_mask_args) $(sys_mask_args) --dev /dev --proc /proc $(proc_mask_args) "$@"
	# The host's entries, each bound read-only at its place (a symlink
	# made again), those of / and, in a directory of the sandbox's, of
	# /etc but passwd and group: bwrap cannot make their place in a
	# read-only bind of the host's /etc where it has none (a container's),
	# and the commands did not start. Those of /etc first, as they are
	# prepended.
	rcn_etc=''
	[ -L /etc ] || [ ! -d /etc ] || rcn_etc='/etc/* /etc/.[!.]* /etc/..?*'
	# shellcheck disable=SC2086 # $rcn_etc is patterns
	for rcn_e in $rcn_etc /* /.[!.]* /..?*; do
		case $rcn_e in
		/dev | /proc | /tmp | /build | "$build_top" | /etc/passwd | /etc/group) continue ;;
		/etc) if [ -n "$rcn_etc" ]; then
			set -- --dir /etc "$@"
			continue
		fi ;;
		esac
		if [ -L "$rcn_e" ]; then
			set -- --symlink "$(readlink -- "$rcn_e")" "$rcn_e" "$@"
		elif [ -e "$rcn_e" ]; then
			set -- --ro-bind "$rcn_e" "$rcn_e" "$@"
		fi
	done
	rcn_status=0
	# The seccomp program is fd 8: run_quiet takes 9.
	run_quiet build_env close-fds ${rcn_seccomp_on:+--keep 8} -- bwrap --tmpfs / "$@" 8<"$rcn_seccomp" </dev/null || rcn_status=$?
	chmod -R u+w "$rcn_tmp" 2>/dev/null
	rm -rf "$rcn_tmp"
	ret "$rcn_status"
}

# owners_unchanged ROOT OWNER FLAG HOW: the commands run_contained ran
# in ROOT changed no owner there for real (HOW says what to do instead).
# OWNER is ROOT's uid:gid before they ran: everything in ROOT was made by
# the caller, so has it (which is not always id -u's: NFS's root_squash
# gives root's files to nobody). The layer takes its owners from
# fakeroot's state (0:0 for the rest, as faked gives them), or from
# build-image's --uid and --gid: a chown done for real, which only root
# can do (in --extra-commands, or in --fake-root-commands where fakeroot,
# which works on a dynamically linked program's C library calls, cannot
# see it), was dropped from the image without a word, where as any other
# user, and in a Nix build, it fails.
owners_unchanged() {
	# The dot keeps a name's last newline, which $(...) would strip (and
	# stat then asked for another file); -print's own is cut after it.
	ou_path=$(find "$1" \( ! -user "${2%:*}" -o ! -group "${2#*:}" \) -print -quit && echo .) || die "$3: cannot check the owners in \"$1\""
	ou_path=${ou_path%.}
	[ -z "$ou_path" ] && return
	ou_path=${ou_path%?}
	ou_owner=$(stat -c %u:%g -- "$ou_path") || die "$3: cannot check the owners in \"$1\""
	# ROOT itself (chown there on .) is the image's /. die makes the
	# name printable (here, printable would drop its last newline).
	ou_name=${ou_path#"$1"}
	die "$3: /${ou_name#/} was given the owner $ou_owner for real, which the image does not keep: $4"
}

# owner_of FILE prints FILE's uid:gid, for owners_unchanged.
owner_of() { stat -c %u:%g -- "$1" || die "cannot tell the owner of \"$1\""; }
