# run-as-root.sh: build-image's --run-as-root without a VM (sourced after
# common.sh, sandbox.sh and copy-to-root.sh).
#
# nixpkgs boots a KVM VM, mounts an overlay of the base image's layers and
# the new contents, and runs the script chrooted there as root. The script
# comes from the base image (its /bin/sh) and from the user: both are
# untrusted, and run contained as a container runtime contains a RUN step:
#
#   1. enter_namespace runs build-image's second stage as root of a new
#      user namespace, whoever calls it. For an unprivileged caller uid 0
#      is the caller, and uids and gids from 1 up are the caller's
#      subordinate ranges of /etc/subuid and /etc/subgid when newuidmap
#      and newgidmap can map them (so chown 1000 works; without them only
#      uid 0 exists). For root, 0 up is root's own /etc/subuid and
#      /etc/subgid range, else host ids $root_id_base to
#      $root_id_base + 65535: never host uid 0. That base, 0x70000000, is
#      above the ranges useradd hands out in /etc/subuid (to 600100000)
#      and those systemd gives containers (524288 to 1879048191), and below
#      2^31 (systemd's UIDS-GIDS.md calls it unused). Capabilities there
#      act on files of those ids only: a host root file is nobody's.
#      As root, the stage works in a directory that id can reach
#      (prepare_stage), with copies of the tools it runs, and reads the
#      base image on stdin, opened before.
#   2. the stage (build-image-stage.sh) unpacks the base image's layers in
#      order into a directory (tar-merge --unpack, whiteouts applied) and
#      records a snapshot, merges the new contents in, and runs the script
#      there (run_chrooted): with bubblewrap (bwrap), as uid 0 of that user
#      namespace, the directory as its root, in new mount, pid, ipc, uts
#      and network namespaces (the network has only a loopback of its own),
#      a new session, Docker's default capabilities only (no CAP_SYS_ADMIN:
#      it cannot undo the mounts below), /proc of its own pid namespace
#      with /proc/sys, sysrq-trigger, irq, bus and fs read-only and runc's
#      masked paths (kcore, keys, timer_list, sched_debug, latency_stats,
#      timer_stats, acpi, scsi, asound) masked, no /sys, a /dev of null,
#      zero, full, random, urandom, tty, ptmx and pts, shm and the script
#      (.run-as-root.sh, read-only), and of the
#      store only the base image's own store paths and the closure of the
#      trusted inputs (the new contents, the config, what the script and
#      commands name), read-only, as a Nix build sees only its inputs;
#   3. what the script changed since the snapshot becomes the layer
#      (layer-pack --changes --snapshot): new and changed files with their
#      modes and owners as the namespace numbers them, deleted base files as
#      whiteouts. The tree is removed inside the namespace, where its owners
#      can be removed.
#
# Why bubblewrap: it is a small, audited setuid-free sandbox (Flatpak's)
# that builds the mount namespace from nothing, pivots into it, mounts
# /proc and /dev the way a container runtime does and drops capabilities;
# hand-rolled unshare flags and chroot leave the host's mounts, network and
# capabilities behind. It runs inside the user namespace made here, which
# maps the ids bwrap alone would not (it maps one).

# root_id_base is the first host id root's namespace uses when /etc/subuid
# gives root no range (see above); 65536 ids from it, as LXD and podman
# give a container.
root_id_base=1879048192
root_id_count=65536

# userns_usable reports whether this user may create a user namespace.
userns_usable() { "$unshare_cmd" --user --map-root-user true >/dev/null 2>&1; }

# util_linux NAME prints the absolute path of the first program NAME on
# PATH that is util-linux's (its --version says so): setpriv and unshare
# are run by that path (setpriv_cmd, unshare_cmd), for options only
# util-linux's have (setpriv --reuid, unshare --keep-caps). Not by name: a
# busybox that prefers its applets (Debian's as sh, Alpine's) runs its own
# setpriv and unshare for the name, whatever PATH holds, also through exec
# and env, and a path with a slash is the file it names. Its directories
# are read without IFS: the caller's may be anything.
util_linux() {
	ul_rest=$PATH:
	while [ -n "$ul_rest" ]; do
		ul_dir=${ul_rest%%:*}
		ul_rest=${ul_rest#*:}
		# An empty entry is the working directory; in_stage leaves it.
		case $ul_dir in
		/*) ;;
		*) ul_dir=$(pwd)/$ul_dir ;;
		esac
		[ -f "$ul_dir/$1" ] && [ -x "$ul_dir/$1" ] || continue
		case $("$ul_dir/$1" --version 2>/dev/null) in
		*util-linux*)
			printf '%s\n' "$ul_dir/$1"
			return 0
			;;
		esac
	done
	return 1
}

# subid_range FILE NAME ID prints "START COUNT" of the first range FILE
# gives NAME (or the numeric ID), as newuidmap looks them up.
subid_range() {
	[ -r "$1" ] || return 0
	awk -F: -v n="$2" -v i="$3" '($1 == n || $1 == i) && $3 > 0 { print $2, $3; exit }' "$1"
}

# check_sandbox stops, before any work, where the script could not be
# contained: not Linux (macOS, FreeBSD: no user namespaces, no bubblewrap
# to install), no bwrap, or no user namespace for this user.
check_sandbox() {
	cs_os=$(uname -s)
	[ "$cs_os" = Linux ] ||
		die "--run-as-root: the script runs in a sandbox of Linux's user namespaces (bubblewrap), which $cs_os has not: run build-image on Linux (a VM or a Linux builder)"
	command -v bwrap >/dev/null 2>&1 ||
		die "--run-as-root: bwrap is not installed; the script runs in a bubblewrap sandbox (install the bubblewrap package)"
	if [ "$(id -u)" = 0 ]; then
		setpriv_cmd=$(util_linux setpriv) ||
			die "--run-as-root: no setpriv of util-linux's on PATH (busybox's has no --reuid); root needs it to enter the script's user namespace"
		unshare_cmd=$(util_linux unshare) ||
			die "--run-as-root: no unshare of util-linux's on PATH (busybox's has no --keep-caps); root needs it to enter the script's user namespace"
		userns_usable || die "--run-as-root: cannot create a user namespace, which running the script as root without a VM needs (allow them: sysctl user.max_user_namespaces > 0)"
		# Checked here: a child that fails before its handshake (see
		# enter_namespace) would leave us waiting.
		"$unshare_cmd" --user --keep-caps true >/dev/null 2>&1 ||
			die "--run-as-root: this unshare has no --keep-caps, which root needs to enter the script's user namespace (a newer util-linux has it)"
	else
		# busybox's unshare makes the namespace the one id maps.
		unshare_cmd=$(util_linux unshare) || unshare_cmd=unshare
		userns_usable || die "--run-as-root: this user may not create a user namespace, which running the script as root without a VM needs (run build-image as root, or allow unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces > 0)"
	fi
}

# root_ranges sets ns_uids and ns_gids ("START COUNT"): the host ids uid
# and gid 0 up of root's namespace are (see above).
root_ranges() {
	ns_uids=$(subid_range /etc/subuid root 0)
	ns_gids=$(subid_range /etc/subgid root 0)
	if [ -z "$ns_uids" ] || [ -z "$ns_gids" ]; then
		ns_uids="$root_id_base $root_id_count"
		ns_gids=$ns_uids
	fi
}

# ns_root_can DIR reports whether uid 0 of root's namespace may search DIR
# (every directory on the way to it included).
ns_root_can() {
	"$setpriv_cmd" --reuid="${ns_uids%% *}" --regid="${ns_gids%% *}" --clear-groups -- test -d "$1" -a -x "$1" 2>/dev/null
}

# prepare_stage NEAR sets stage, the directory the stage works in, and
# stage_here, where its scripts are. An unprivileged caller is uid 0 of
# its namespace: $work and $here serve. Root's namespace is other host ids,
# which may not reach $work, the tools or the base image (root's home and
# test directories are 0700): the stage gets a directory of its own in the
# first of NEAR, /var/tmp and /tmp it can reach, with copies of the tools
# and scripts it runs, and is given that directory (removed on exit with
# $work, see make_work).
prepare_stage() {
	stage=$work stage_here=$here
	[ "$(id -u)" = 0 ] || return 0
	root_ranges
	for ps_dir in "$1" /var/tmp /tmp; do
		# Absolute: the way there counts.
		ps_dir=$(cd -P -- "$ps_dir" 2>/dev/null && pwd -P) && ns_root_can "$ps_dir" || continue
		# Made straight into work_also, which the EXIT trap removes: a
		# signal handled between two assignments would leave it behind.
		work_also=$(mktemp -d "$ps_dir/.${prog}-stage.XXXXXX") || continue
		stage=$work_also
		plain_modes "$stage"
		stage_here=$stage
		# The copies first, for the stage and for us alike.
		PATH=$stage/bin:$PATH
		mkdir "$stage/bin" "$stage/lib" || die "--run-as-root: cannot fill \"$stage\""
		for ps_tool in tar-merge layer-pack closure-scan close-fds; do
			ps_path=$(command -v "$ps_tool") || die "--run-as-root: $ps_tool is not on PATH"
			cp -- "$ps_path" "$stage/bin/" || die "--run-as-root: cannot copy $ps_tool into \"$stage\""
		done
		# common.sh with its parts (common_parts), and the stage's own.
		for ps_lib in common.sh $common_parts sandbox.sh copy-to-root.sh run-as-root.sh build-image.sh build-image-stage.sh; do
			cp -- "$here/lib/$ps_lib" "$stage/lib/" ||
				die "--run-as-root: cannot copy the stage's scripts into \"$stage\""
		done
		if [ -d "$root_prefix$store_dir" ] && ! ns_root_can "$root_prefix$store_dir"; then
			die "--run-as-root: the store $root_prefix$store_dir cannot be read by the script's user namespace (host uid ${ns_uids%% *}); make it and its parent directories searchable by others"
		fi
		return 0
	done
	die "--run-as-root: no directory the script's user namespace (host uid ${ns_uids%% *}) can reach to build in: neither \"$1\", /var/tmp nor /tmp"
}

# in_stage CMD [ARG...] runs CMD in the stage directory, in place of the
# shell (a background one of spawn's).
in_stage() {
	cd -- "$stage" && exec "$@"
}

# enter_namespace CMD... runs CMD as root of a new user namespace (see
# above), in the stage directory, with stdin as given.
enter_namespace() {
	en_keep=
	if [ "$(id -u)" = 0 ]; then
		# The stage's files become root's of the namespace; the caller
		# (host root) keeps the right to remove them.
		chown -R -h "${ns_uids%% *}:${ns_gids%% *}" "$stage" || die "--run-as-root: cannot give \"$stage\" to the namespace's root"
		en_keep=--keep-caps
		set -- "$setpriv_cmd" --reuid=0 --regid=0 --clear-groups -- "$@"
	else
		en_user=$(id -un 2>/dev/null || id -u)
		ns_uids=$(subid_range /etc/subuid "$en_user" "$(id -u)")
		ns_gids=$(subid_range /etc/subgid "$en_user" "$(id -u)")
		if [ -z "$ns_uids" ] || [ -z "$ns_gids" ] || ! command -v newuidmap >/dev/null 2>&1 || ! command -v newgidmap >/dev/null 2>&1; then
			[ -z "$verbose" ] || warn "no subordinate ids for $en_user (or no newuidmap): only uid 0 exists for --run-as-root"
			BI_ONLY_ROOT=$en_user
			export BI_ONLY_ROOT
			spawn in_stage "$unshare_cmd" --user --map-root-user "$@" 9<&0
			en_pid=$spawn_pid
			en_wait
			return
		fi
	fi
	# The child tells when it is in its namespace; then its ids are mapped
	# from outside, and it is told to go on. Root's child keeps its
	# capabilities there (--keep-caps) to become uid 0 of it, which is no
	# id it had; another user's child is uid 0 there once mapped. (The
	# pipes of an earlier entry go: remove_stage_tree enters again.)
	rm -f -- "$work/ns-ready" "$work/ns-go" "$work/ns-read"
	mkfifo "$work/ns-ready" "$work/ns-go"
	# The child's wait for "go" ends with this shell: this shell holds
	# ns-go open (descriptor 8, read-write, which never waits on Linux)
	# until it has said "go", and no one else does (the child and the
	# watcher close it), so a shell that is gone first (killed, even by
	# SIGKILL, or ended by set -e) leaves the child's read at the pipe's
	# end, and the child exits. The child opens ns-go before it says
	# "ready" (read-write first, which does not wait for this shell, then
	# read-only, its only descriptor of it after), and says "ready" on a
	# descriptor it holds until it goes on (read-write: it waits for no
	# reader, and the line stays for this shell's read). It waited for
	# ever in the open of ns-go, with the workflow's descriptors (its
	# stdout, a CI job's pipe), where the workflow went between the two.
	exec 8<>"$work/ns-go"
	# The stage's stdin is the base image (spawn passes it on).
	spawn in_stage "$unshare_cmd" --user ${en_keep:+"$en_keep"} sh -c \
		'exec 5<>"$2" 3<"$2" 5>&- 4<>"$1"; echo ready >&4; read -r go <&3 && [ "$go" = go ] || exit 1; exec 3<&- 4>&-; shift 2; exec "$@"' \
		sh "$work/ns-ready" "$work/ns-go" "$@" 9<&0 8>&-
	en_pid=$spawn_pid
	# A child that fails before it is in its namespace (unshare refused:
	# out of memory, as after an OOM kill when remove_stage_tree enters,
	# or past the namespace limit) never opens ns-ready, and the read
	# below would wait for ever: a watcher opens it once the child is gone
	# (a zombie, as nothing reaps it while the read waits). It stops by
	# itself once the read is done (ns-read), within a tenth of a second,
	# and is only waited for: a kill that ended it could be lost (a TERM
	# that reaches the just-forked watcher before it has dropped this
	# shell's TERM trap is, in mksh, dash, bash and busybox), and failed
	# where it had ended already (the shell had reaped it: bash and mksh
	# do so at once), which under set -e ended the workflow without a
	# word, the child left waiting. Its pipe
	# is opened read-write, which never waits on Linux: a read that is
	# over (the child died just after it) leaves no reader to wait for.
	# It then holds the pipe open until the read is done (or this shell
	# is gone): a pipe's data goes with its last opener, and a child that
	# failed at once could have the watcher come and go before this shell
	# opened ns-ready, which then waited for ever (under load, CI).
	# Its stderr is dropped: a TERM of on_signal's (stop_children) that
	# ended its sleep had mksh's watcher say "Terminated" beside the
	# workflow's "interrupted".
	# It closes descriptor 8 itself: given as the group's redirection,
	# mksh and yash left it the copy they keep to restore (this shell's
	# ns-go), and a workflow killed as it read "ready" left the child
	# waiting for "go" and the watcher for the child, for ever.
	en_shell=$$
	{
		exec 8>&-
		while [ ! -e "$work/ns-read" ] && [ -e "/proc/$en_pid" ] &&
			! grep -q '^State:[[:space:]]*Z' "/proc/$en_pid/status" 2>/dev/null; do
			sleep 0.1
		done
		[ -e "$work/ns-read" ] || {
			exec 3<>"$work/ns-ready"
			echo gone >&3
			while [ ! -e "$work/ns-read" ] && [ -e "/proc/$en_shell" ]; do
				sleep 0.1
			done
		}
	} 2>/dev/null &
	en_watch=$!
	en_ready=
	# A signal that interrupts the open of ns-ready, the child not ready
	# yet, is on_signal's to report: dash, busybox and mksh said first
	# that they could not open it ("Interrupted system call"). Its line
	# goes to descriptor 7 where the trap runs with 2>/dev/null in force.
	read -r en_ready 7>&2 2>/dev/null <"$work/ns-ready" || :
	: >"$work/ns-read"
	# Waited for as a step is (wait_quiet): a signal in the tenth of a
	# second this takes is on_signal's too, which yash ran with wait's
	# stderr /dev/null, and zsh ended with 147, neither saying a word.
	wait_quiet "$en_watch" || :
	if [ "$en_ready" != ready ]; then
		exec 8>&-
		en_wait || die "--run-as-root: cannot enter the script's user namespace (unshare: status $en_status)"
		die "--run-as-root: cannot enter the script's user namespace"
	fi
	if ! map_ids "$en_pid"; then
		# Its read of "go" ends with the pipe: it exits.
		exec 8>&-
		wait_quiet "$en_pid" || :
		die "--run-as-root: cannot map the ids of the script's user namespace ($ns_uids; $ns_gids)"
	fi
	echo go >&8
	exec 8>&-
	en_wait
}

# en_wait waits for the stage, $en_pid, and returns its status. The stage
# reports its own failures; killed by a signal it cannot catch (SIGKILL,
# the OOM killer's), it could not, and says so here, in one line (wait's
# own "Killed" dropped).
en_wait() {
	en_status=0
	wait_quiet "$en_pid" || en_status=$?
	killed "$en_status" "the --run-as-root stage"
	ret "$en_status"
}

# remove_stage_tree removes the stage's tree after a stage that failed.
# The stage removes it on every exit it sees (its EXIT trap), but killed
# by SIGKILL (the OOM killer's) it sees none; the tree then holds files of
# the namespace's other ids (a base image's /home/user, what the script
# chowned), subordinate ids of an unprivileged caller's on the host, which
# it may not remove from outside the namespace. It does so inside one with
# the same ids, as the stage would have. Root may remove them from here,
# and does on exit (make_work).
remove_stage_tree() {
	[ "$(id -u)" != 0 ] && [ -e "$stage/rootfs" ] || return 0
	# In a subshell: enter_namespace dies where it cannot map the ids.
	(enter_namespace sh -c 'chmod -R u+w rootfs 2>/dev/null; rm -rf rootfs') </dev/null >/dev/null 2>&1 ||
		warn "--run-as-root: cannot remove the stage's tree \"$stage/rootfs\": its files belong to your subordinate ids"
}

# map_ids PID writes the user namespace's id maps of process PID: as root
# directly, else with newuidmap and newgidmap from the subordinate ranges.
map_ids() {
	if [ "$(id -u)" = 0 ]; then
		echo "0 $ns_uids" >"/proc/$1/uid_map" && echo "0 $ns_gids" >"/proc/$1/gid_map"
		return
	fi
	# shellcheck disable=SC2086 # START COUNT are two words
	newuidmap "$1" 0 "$(id -u)" 1 1 $ns_uids >&2 && newgidmap "$1" 0 "$(id -g)" 1 1 $ns_gids >&2
}

# safe_mount_point ROOT REL makes sure ROOT/REL is a directory reached
# without a symlink (a mount on a symlink would land outside ROOT), making
# what is missing; each directory it made is put first in $made_points,
# to be removed (deepest first) after the run.
safe_mount_point() {
	smp_path=$1
	smp_ifs=$IFS
	IFS=/
	set -f
	for smp_c in $2; do
		[ -n "$smp_c" ] || continue
		smp_path=$smp_path/$smp_c
		if [ -L "$smp_path" ]; then
			IFS=$smp_ifs
			die "--run-as-root: the image's ${smp_path#"$1"} is a symlink; nothing can be mounted there"
		elif [ -e "$smp_path" ] && [ ! -d "$smp_path" ]; then
			IFS=$smp_ifs
			die "--run-as-root: the image's ${smp_path#"$1"} is not a directory; nothing can be mounted there"
		elif [ ! -e "$smp_path" ]; then
			mkdir "$smp_path" || die "--run-as-root: cannot make ${smp_path#"$1"}"
			made_points="$smp_path
$made_points"
		fi
	done
	set +f
	IFS=$smp_ifs
}

# run_chrooted ROOT SCRIPT PATHS [SHELL] runs the file SCRIPT with SHELL -e (default
# the image's /bin/sh; a store program named in PATHS, where it is bound)
# as uid 0 in a bubblewrap sandbox rooted at ROOT (see above); its output goes to
# stderr. Its store directory holds, read-only, the store paths the image
# has in ROOT (those of the base image, as they are there: a directory or
# file bound, a symlink made again inside with bwrap --symlink, where its
# target is looked up in the sandbox, since binding it would follow it on
# this side) and over them the store paths listed in the file PATHS (one
# a line), from this machine's store; no other.
run_chrooted() {
	rc_root=$1 rc_script=$2 rc_paths=$3 rc_shell=${4:-/bin/sh} rc_keep=''
	made_points=
	safe_mount_point "$rc_root" proc
	safe_mount_point "$rc_root" dev
	set --
	# bwrap reads the binds from a file (--args): a closure may have
	# thousands of paths.
	: >"$work/store-binds"
	if [ -d "$root_prefix$store_dir" ] || [ -d "$rc_root$store_dir" ]; then
		safe_mount_point "$rc_root" "$store_dir"
		{
			# Names with anything but a store name's characters (a newline,
			# a slash) are left out: a store path's name has none. So are
			# those of PATHS, bound below instead: a bind on the image's
			# symlink would go where it leads, and on its file no
			# directory could be made (bwrap's "Not a directory"). (PATHS
			# may be empty: NR == FNR would hold for the names too.)
			ls -A "$rc_root$store_dir" | grep -E '^[0-9a-z]{32}-[0-9A-Za-z+._?=-]+$' |
				awk -v s="$store_dir/" 'FILENAME == ARGV[1] { p[$0] = 1; next } !((s $0) in p)' "$rc_paths" - | while IFS= read -r rc_n; do
				if [ ! -L "$rc_root$store_dir/$rc_n" ]; then
					printf -- '--ro-bind\000%s\000%s\000' "$rc_root$store_dir/$rc_n" "$store_dir/$rc_n"
				else
					printf -- '--symlink\000%s\000%s\000' "$(readlink -- "$rc_root$store_dir/$rc_n")" "$store_dir/$rc_n"
				fi
			done
			while IFS= read -r rc_p; do
				if [ -e "$root_prefix$rc_p" ] || [ -L "$root_prefix$rc_p" ]; then
					printf -- '--ro-bind-try\000%s\000%s\000' "$root_prefix$rc_p" "$rc_p"
				elif [ -e "$rc_root$rc_p" ] && [ ! -L "$rc_root$rc_p" ]; then
					# A --closure-graph path this machine lacks: the image's, as
					# before.
					printf -- '--ro-bind\000%s\000%s\000' "$rc_root$rc_p" "$rc_p"
				fi
			done <"$rc_paths"
		} >"$work/store-binds"
		set -- --tmpfs "$store_dir" --args 3 --remount-ro "$store_dir"
		rc_keep=3
	fi
	[ "$rc_shell" != /bin/sh ] || [ -x "$rc_root/bin/sh" ] || [ -L "$rc_root/bin/sh" ] ||
		die "--run-as-root: the image has no /bin/sh to run the script with (give a base image or --copy-to-root contents that have one, or --run-as-root-shell)"
	rc_status=0
	# The script sees none of the caller's descriptors: bwrap closes none
	# it inherits, and POSIX sh names none past 9, so close-fds closes
	# them, but 3 when it is bwrap's --args and 4, the script, which
	# bwrap reads (and closes) into /dev/.run-as-root.sh, on the
	# sandbox's own /dev: the shell sources it from there. A script of
	# any size runs (an exec argument, sh -c's text, holds at most 128
	# KiB), and whatever it starts with ("-s" is a command, not an
	# option of a shell that is not known to take "--").
	run_quiet close-fds --keep "${rc_keep:+$rc_keep,}4" -- env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		bwrap --unshare-net --unshare-pid --unshare-ipc --unshare-uts --hostname localhost \
		--new-session --die-with-parent \
		--bind "$rc_root" / --proc /proc --dev /dev --perms 1777 --tmpfs /dev/shm --perms 0444 --file 4 /dev/.run-as-root.sh "$@" $(proc_mask_args) $(sandbox_cap_args) --chdir / \
		-- "$rc_shell" -ec '. /dev/.run-as-root.sh' >&2 </dev/null 3<"$work/store-binds" 4<"$rc_script" || rc_status=$?
	# The mounts went with their namespace; the directories made for them
	# go too, unless the script put something there, or made a symlink on
	# the way to one (nix -> a directory of this machine): rmdir would
	# follow it out of the image. The script's processes are gone, so
	# nothing changes the way after it is checked.
	printf '%s' "$made_points" | while IFS= read -r d; do
		rc_up=$d
		while [ -n "$rc_up" ] && [ "$rc_up" != "$rc_root" ] && [ ! -L "$rc_up" ]; do
			rc_up=${rc_up%/*}
		done
		[ "$rc_up" != "$rc_root" ] || rmdir -- "$d" 2>/dev/null || true
	done
	[ "$rc_status" -eq 0 ] || die "--run-as-root: the script failed (exit status $rc_status)${BI_ONLY_ROOT:+; only uid 0 exists in its user namespace: /etc/subuid and /etc/subgid give $BI_ONLY_ROOT no ranges for other ids}"
}


# run_in_root ROOT CMD runs --extra-commands after --run-as-root: CMD
# with sh -e in ROOT, as root of the stage's user namespace, with the
# host's programs, as nixpkgs runs extraCommands in the layer directory.
# ROOT is what the base image and the script made, and they are not to
# be trusted: a symlink there (etc/motd -> ~/.bashrc) would take the
# commands' writes out of the image. run_contained keeps them in ROOT;
# here, never without its sandbox.
#
# What they see of where they are is what they see in nixpkgs, where they
# run in its VM (vmTools' runInLinuxVM): the build directory is the VM's
# /tmp (its NIX_BUILD_TOP and TMPDIR), the layer /tmp/disk/layer, their
# cwd (runWithOverlay mounts its disk at disk, buildImage runs them in
# (cd layer)); TEMPDIR, TMP and TEMP are /build, the build's outside the
# VM (vmTools' saved environment gives them, and nothing is there: not
# here either); /etc/passwd is the VM's (root, home /root). Before, they
# saw a Nix build's /build/layer, which what they wrote of pwd or $TMPDIR
# took into the image, unlike nixpkgs'. The VM's /etc but passwd, its
# host name and its group file (it has none) are not matched: the
# sandbox's are a Nix build's. Nor is what the layer directory holds:
# nixpkgs' is the overlay's upper directory (the changes only, with .wh.
# files), ROOT the whole tree, base image included, whose changes
# layer-pack finds after them.
run_in_root() {
	bwrap --ro-bind / / true >/dev/null 2>&1 ||
		die "--extra-commands: bwrap cannot make their sandbox here, and after --run-as-root they do not run without one"
	build_top=/tmp build_root=/tmp/disk/layer build_temps=/build
	run_contained "$1" '' root sh -ec -- "$2" >&2 </dev/null
}
