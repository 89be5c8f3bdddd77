# work.sh: the workflow's temporary directory, $work (POSIX sh, sourced by
# common.sh): made in the output's directory, or in $TMPDIR (make_work),
# removed on every exit by the EXIT trap (on_exit, which keeps the exit
# status), given the modes a Nix build gives (plain_modes: what is made
# there goes into the image with its modes), checked after each step
# (need_work), and where cp's options are probed (cp_preserves, for the
# copy helpers of contents.sh and copy-to-root.sh).

# need_work exits with the workflow's one line when its temporary
# directory ($work, once made) is gone: removed during the run, with the
# directory of -o, where it is made. The next redirection into it would
# fail with the shell's own "cannot create ...: Directory nonexistent" (and
# no line of the workflow's), and a step may have skipped what it could
# no longer put there (join_content). run_step checks after each step
# that succeeded (one that failed said why). In a side of pipe_into's
# pipe it exits 1 without the line, which pipe_into then says once.
need_work() {
	if [ -n "${work-}" ] && [ ! -d "$work" ]; then
		[ -z "${pi_inner-}" ] || exit 1
		die "the temporary directory \"$work\" was removed during the run"
	fi
}

# make_work DIR creates the script's temporary directory inside DIR and
# removes it on every exit, with $work_also when a workflow sets it (a
# second temporary directory elsewhere). Workflows that chmod or fakeroot
# files inside them make them writable again first. What cannot be
# removed (a stage's tree of subordinate ids, which build-image has named)
# is left without rm's lines: the workflow says one.
make_work() {
	# The trap comes first: a signal handled once mktemp has made the
	# directory, before the trap was set, left it behind.
	work= work_also=
	on_exit 'chmod -R u+w ${work:+"$work"} ${work_also:+"$work_also"} 2>/dev/null; rm -rf ${work:+"$work"} ${work_also:+"$work_also"} 2>/dev/null'
	# Its name is canonical: tools given paths inside it print them as given.
	work=$(cd -P -- "$1" 2>/dev/null && mktemp -d "$(pwd -P)/.${prog}.XXXXXX" 2>/dev/null) ||
		die "cannot create a temporary directory in \"$1\""
	plain_modes "$work"
}

# on_exit CMDS sets the EXIT trap to CMDS, keeping the status the shell
# exits with: mksh ended a shell that exits from a signal's trap
# (on_signal's exit 130) with the EXIT trap's own last status, 0, so an
# interrupted workflow seemed to succeed. CMDS run without set -e, which
# applies in the trap too: a command of them that failed (chmod -R on a
# file system that takes no mode changes) ended the shell there, with
# status 1, the rest of the cleanup skipped. HUP, INT and TERM are
# ignored while CMDS run: one that came during the cleanup (a CI job's
# timeout, a ^C as a build ends) ran its trap, whose exit ended the shell
# in the middle of this one, the temporary directory left behind.
on_exit() {
	trap 'ox_status=$?; trap "" HUP INT TERM; set +e; '"$1"'; exit "$ox_status"' EXIT
}

# plain_modes DIR makes what is created in DIR take the modes a Nix build
# gives (the umask's, 022, and nothing else), as the image's modes come
# from disk: a directory made in a setgid directory is setgid, and one made
# in a directory with a default ACL takes that ACL's modes instead of the
# umask's (a user's TMPDIR or output directory can be either, and DIR
# inherited it). DIR loses its setgid bit and its default ACL (setfacl);
# if a probe still gets other modes, the workflow stops.
plain_modes() {
	chmod g-s -- "$1" || die "cannot create a temporary directory in \"${1%/*}\""
	! command -v setfacl >/dev/null 2>&1 || setfacl -k -- "$1" 2>/dev/null || :
	pm_probe=$1/.modes
	mkdir -- "$pm_probe" && : >"$pm_probe/f" ||
		die "cannot create a temporary directory in \"${1%/*}\""
	pm_got=$(ls -ld -- "$pm_probe" "$pm_probe/f" | cut -c1-10 | paste -s -d ' ' -)
	rm -rf -- "$pm_probe"
	[ "$pm_got" = 'drwxr-xr-x -rw-r--r--' ] ||
		die "\"${1%/*}\": files made there get other modes than the umask's ($pm_got, a default ACL, and no setfacl to clear it?): the image would take them"
}

# cp_preserves LIST: whether cp takes --preserve=LIST, as GNU's does;
# busybox's (the Nix library's builders' in Nix's sandbox) takes no list.
cp_preserves() {
	: >"$work/preserve-probe" || return 1
	cpp_status=0
	cp --preserve="$1" -- "$work/preserve-probe" "$work/preserve-probe2" 2>/dev/null || cpp_status=1
	rm -f -- "$work/preserve-probe" "$work/preserve-probe2"
	return $cpp_status
}
