# run-as-root.sh: build-image's --run-as-root without a VM (sourced after
# common.sh and copy-to-root.sh).
#
# nixpkgs boots a KVM VM, mounts an overlay of the base image's layers and
# the new contents, and runs the script chrooted there as root. Here:
#
#   1. enter_namespace runs build-image's second stage as root of a new
#      user namespace (unprivileged callers: uid 0 is the caller, and uids
#      and gids from 1 up are the caller's subordinate ranges of
#      /etc/subuid and /etc/subgid when newuidmap and newgidmap can map
#      them, so chown 1000 works; without them only uid 0 exists), or
#      directly when already root;
#   2. the stage (root_stage) unpacks the base image's layers in order
#      into a directory (tar-merge --unpack, whiteouts applied) and records
#      a snapshot, merges the new contents in, and runs the script there
#      (run_chrooted): chrooted, as uid 0, in private mount, pid, ipc and
#      uts namespaces, with /proc, a minimal /dev (null, zero, full,
#      random, urandom, tty; fd, stdin, stdout, stderr links; shm) and the
#      store bound read-only;
#   3. what the script changed since the snapshot becomes the layer
#      (layer-pack --changes --snapshot): new and changed files with their
#      modes and owners, deleted base files as whiteouts. The tree is
#      removed inside the namespace, where its owners can be removed.

# userns_usable reports whether this user may create a user namespace.
userns_usable() { unshare --user --map-root-user true >/dev/null 2>&1; }

# subid_range FILE NAME ID prints "START COUNT" of the first range FILE
# gives NAME (or the numeric ID), as newuidmap looks them up.
subid_range() {
	[ -r "$1" ] || return 0
	awk -F: -v n="$2" -v i="$3" '($1 == n || $1 == i) && $3 > 0 { print $2, $3; exit }' "$1"
}

# enter_namespace CMD... runs CMD as root: directly when we are root, else
# in a new user namespace (see above).
enter_namespace() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
		return
	fi
	userns_usable || die "--run-as-root: this user may not create a user namespace, which running the script as root without a VM needs (run build-image as root, or allow unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces > 0)"
	en_user=$(id -un 2>/dev/null || id -u)
	en_uids=$(subid_range /etc/subuid "$en_user" "$(id -u)")
	en_gids=$(subid_range /etc/subgid "$en_user" "$(id -u)")
	if [ -z "$en_uids" ] || [ -z "$en_gids" ] || ! command -v newuidmap >/dev/null 2>&1 || ! command -v newgidmap >/dev/null 2>&1; then
		[ -z "$verbose" ] || warn "no subordinate ids for $en_user (or no newuidmap): only uid 0 exists for --run-as-root"
		BI_ONLY_ROOT=$en_user
		export BI_ONLY_ROOT
		unshare --user --map-root-user "$@"
		return
	fi
	# The child tells when it is in its namespace; then its ids are mapped
	# from outside, and it is told to go on.
	mkfifo "$work/ns-ready" "$work/ns-go"
	unshare --user sh -c 'echo >"$1"; read -r go <"$2"; shift 2; exec "$@"' sh "$work/ns-ready" "$work/ns-go" "$@" &
	en_pid=$!
	read -r en_ready <"$work/ns-ready"
	# shellcheck disable=SC2086 # START COUNT are two words
	if newuidmap "$en_pid" 0 "$(id -u)" 1 1 $en_uids >&2 && newgidmap "$en_pid" 0 "$(id -g)" 1 1 $en_gids >&2; then
		echo go >"$work/ns-go"
	else
		kill "$en_pid" 2>/dev/null
		echo stop >"$work/ns-go" &
		wait "$en_pid" 2>/dev/null
		die "--run-as-root: newuidmap/newgidmap could not map the subordinate ids of $en_user ($en_uids; $en_gids)"
	fi
	en_status=0
	wait "$en_pid" || en_status=$?
	return $en_status
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

# run_chrooted ROOT SCRIPT runs SCRIPT with sh -e as uid 0 chrooted at ROOT
# (see above); its output goes to stderr.
run_chrooted() {
	rc_root=$1
	made_points=
	safe_mount_point "$rc_root" proc
	safe_mount_point "$rc_root" dev
	rc_store=
	if [ -d "$root_prefix$store_dir" ]; then
		rc_store=$root_prefix$store_dir
		safe_mount_point "$rc_root" "$store_dir"
	fi
	[ -x "$rc_root/bin/sh" ] || [ -L "$rc_root/bin/sh" ] ||
		die "--run-as-root: the image has no /bin/sh to run the script with (give a base image or --copy-to-root contents that have one)"
	rc_status=0
	unshare --mount --pid --ipc --uts --fork --kill-child --propagation private sh -c '
		set -e
		r=$1 store_phys=$2 store=$3 script=$4
		mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
		mount -t tmpfs -o nosuid,mode=0755 dev "$r/dev"
		for n in null zero full random urandom tty; do
			: >"$r/dev/$n"
			mount --bind "/dev/$n" "$r/dev/$n"
		done
		ln -s /proc/self/fd "$r/dev/fd"
		ln -s /proc/self/fd/0 "$r/dev/stdin"
		ln -s /proc/self/fd/1 "$r/dev/stdout"
		ln -s /proc/self/fd/2 "$r/dev/stderr"
		mkdir -m 1777 "$r/dev/shm"
		if [ -n "$store_phys" ]; then
			mount --rbind "$store_phys" "$r$store"
			mount -o remount,bind,ro "$r$store"
		fi
		hostname localhost 2>/dev/null || true
		exec env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			chroot "$r" /bin/sh -ec "$script"
	' run-as-root "$rc_root" "$rc_store" "$store_dir" "$2" >&2 </dev/null || rc_status=$?
	# The mounts went with their namespace; the directories made for them
	# go too, unless the script put something there.
	printf '%s' "$made_points" | while IFS= read -r d; do
		[ -z "$d" ] || rmdir -- "$d" 2>/dev/null || true
	done
	[ "$rc_status" -eq 0 ] || die "--run-as-root: the script failed (exit status $rc_status)${BI_ONLY_ROOT:+; only uid 0 exists in its user namespace: /etc/subuid and /etc/subgid give $BI_ONLY_ROOT no ranges for other ids}"
}
