# steps.sh: running a workflow's steps as child processes, and ending them
# (POSIX sh, sourced by common.sh). A trap runs only once the foreground
# command has ended, so each long step runs in the background and is
# waited for (run_step, run_quiet, spawn, wait_quiet): a signal then
# interrupts the wait at once, and on_signal, the trap common.sh sets,
# stops every process the workflow started (stop_children). A step killed
# by a signal is reported in the workflow's one line (killed); a pipe of
# two steps fails with the status of the one that failed (pipe_into).
# Written for the shells' differences (yash's statuses, zsh's lost jobs),
# which each function's comment names.

# pipe_into PRODUCER CONSUMER [ARG...] runs PRODUCER (a function or a
# command) into CONSUMER ARG... and returns CONSUMER's status; it needs
# $work. POSIX sh has no pipefail: PRODUCER's status goes through a file.
# One error explains a failed run. When PRODUCER fails, its own line does
# (its stderr is left alone, so a progress bar keeps its terminal) and the
# workflow exits as it asks (exit_as); CONSUMER's complaint about the cut
# stream, which follows from it, is dropped. A PRODUCER ended by SIGPIPE
# (141) stopped because CONSUMER did: CONSUMER's stderr, kept in
# $work/consumer.err, is shown.
pipe_into() {
	pi_producer=$1
	shift
	rm -f "$work/producer.status"
	pi_status=0
	# The redirections into $work are quiet: when the directory is removed
	# during the run (with the directory of -o, where it is made), that is
	# said once, below, not by the shell at each file it cannot create.
	# Inside the pipe (pi_inner), need_work leaves the line to this one.
	{
		pi_inner=1
		"$pi_producer" || echo $? 2>/dev/null >"$work/producer.status"
	} |
		{ pi_inner=1; "$@" 2>"$work/consumer.err"; } 2>/dev/null || pi_status=$?
	need_work
	pi_failed=$(cat "$work/producer.status" 2>/dev/null || :)
	[ -z "$pi_failed" ] || [ "$pi_failed" = 141 ] || exit_as "$pi_failed"
	cat "$work/consumer.err" >&2
	# CONSUMER may be run_step TOOL (pull-image's manifest-gen): TOOL is named.
	[ "$1" != run_step ] || shift
	[ "$pi_status" -ne 0 ] || [ -z "$pi_failed" ] || die "$1 stopped reading, and exited 0"
	ret "$pi_status"
}

# run_step CMD [ARG...] runs CMD (a tool, or a function of the workflow)
# as a background child with the workflow's stdin (an asynchronous
# command's is /dev/null), waits for it and returns its status. A closed
# stdin, which cannot be passed on, is made an empty one (by common.sh,
# once). The workflows run every tool so, even inside a step: killed by a
# signal it cannot catch (the kernel's OOM killer sends SIGKILL; a crash is
# SIGSEGV or SIGABRT), a tool has no chance to say why it stopped, and the
# shell's own report of a command in its foreground is a bare "Killed".
# Waited for (wait's stderr dropped), it is reported in the workflow's one
# line instead (killed).
run_step() {
	rs_status=0
	run_quiet "$@" || rs_status=$?
	killed "$rs_status" "$1"
	[ "$rs_status" -ne 0 ] || need_work
	ret "$rs_status"
}

# run_quiet CMD [ARG...] runs CMD as run_step does, but says nothing of a
# kill: for a sandbox (bwrap), whose status is that of the user's commands
# in it (128 + N when they were killed by signal N), for its caller to
# report. Run in the foreground, a sandbox ended by a signal had the shell
# print its own "Terminated" or "Hangup" in a shell that traps the signal
# (build-image's --run-as-root stage), which waits for it.
run_quiet() {
	spawn "$@" 9<&0
	step_pid=$spawn_pid
	wait_quiet "$step_pid"
}

# spawn CMD [ARG...] starts CMD in the background, its stdin descriptor 9,
# which the caller gives (spawn CMD 9<&0: an asynchronous command's stdin
# is /dev/null unless redirected), and sets spawn_pid. A function, not a
# brace group ({ CMD <&9 9<&- & } 9<&0): zsh (5.9) lost the status of a
# job started in a group inside a function, and its wait said 127 (no
# such job) for a step that a signal killed at once. A program is exec'd
# in its subshell, which yash keeps otherwise for a command with
# redirections: the program's parent was that subshell, not this shell,
# and a sandbox (bwrap --die-with-parent) outlived a stage that SIGKILL
# ended.
spawn() {
	if is_function "$1"; then
		"$@" <&9 9<&- &
	else
		(exec "$@" <&9 9<&-) &
	fi
	spawn_pid=$!
}

# is_function NAME: whether NAME is a function (or a builtin) of this
# shell, not a program: command -v prints a function's name alone, a
# program's path (each shell words command -V's answer its own way).
is_function() {
	case $1 in */*) return 1 ;; esac
	[ "$(command -v "$1" 2>/dev/null)" = "$1" ]
}

# wait_quiet PID waits for PID, a child, and returns its status, 128 + N
# when signal N killed it, whatever the shell: yash reports 384 + N
# (POSIX asks only for more than 128), which is the same modulo 256, as
# the status of a shell that exits with it. wait's stderr, where most
# shells report a child killed by a signal ("Killed"), is dropped. yash
# and zsh run a trap that interrupts the wait with that redirection in
# force: the workflow's stderr is in descriptor 7 there, for on_signal.
wait_quiet() {
	wq_status=0
	wait "$1" 7>&2 2>/dev/null || wq_status=$?
	ret $((wq_status & 255))
}

# ret STATUS ends a function with STATUS, in place of return STATUS in a
# function whose failure the caller may leave to set -e: yash (2.52),
# where such a function returned non-zero, exited without running the
# EXIT trap, leaving the temporary files behind. A failing command (the
# subshell's exit) ends the shell as set -e should.
ret() {
	[ "$1" -eq 0 ] || (exit "$1")
}

# killed STATUS WHAT says that WHAT was killed by a signal when STATUS (past
# 128) says so; not for PIPE, a reader that went away (pipe_into), nor
# when WHAT is a function of the workflow: its status is its last
# command's, a tool in it was reported by its own run_step, and a status
# of commands the user gave (--extra-commands) is its caller's to report.
# HUP, INT and TERM are said here only when they stopped WHAT alone (a
# tool, which then says nothing itself): one that stops the workflow runs
# on_signal, which exits before the step's wait returns here.
killed() {
	[ "$1" -gt 128 ] || return 0
	[ "$1" -ne 141 ] || return 0
	! is_function "$2" || return 0
	warn "$2: killed by signal $(kill -l "$1" 2>/dev/null || echo $(($1 - 128)))"
}

# exec_tool CMD [ARG...]: the workflow becomes CMD, a tool, which then says
# itself that a signal stopped it (no workflow is left to say it), unless
# the workflow is another's step.
exec_tool() {
	[ -n "$step_of" ] || unset DOCKERTOOLS_STEP_OF
	exec "$@"
}

# on_signal N is the trap of signal N.
on_signal() {
	trap '' HUP INT TERM
	stop_children 2>/dev/null
	# Interrupting wait_quiet in yash or zsh, the trap has wait's stderr
	# (/dev/null); the workflow's is in descriptor 7.
	if [ -z "$step_of" ]; then
		{ printf '%s: interrupted\n' "$prog" >&7; } 2>/dev/null || printf '%s: interrupted\n' "$prog" >&2
	fi
	exit $((128 + $1))
}

# stop_children ends every process this shell started, with theirs. Each
# generation is stopped (SIGSTOP) before the next one is listed, so none
# starts another unseen; then all are sent TERM (the tools remove what
# they were writing) and CONT. It returns once they are gone, so that the
# EXIT trap removes the temporary files after the processes writing them
# and none outlives the workflow; any left after about 10 seconds is
# killed. ps lists them (-o pid, ppid: POSIX; stat, for the zombies, is
# everywhere); without ps, only the last step is told, and waited for.
# Background children ignore INT (POSIX), and the tools keep ignoring it,
# so TERM is what they see even when a terminal's ^C reached the group.
stop_children() {
	sc_gen=$$ sc_all=
	while [ -n "$sc_gen" ] && sc_ps=$(ps -A -o pid= -o ppid= 2>/dev/null); do
		sc_gen=$(printf '%s\n' "$sc_ps" | awk -v gen=" $sc_gen " 'index(gen, " " $2 " ") { printf " %s", $1 }')
		[ -z "$sc_gen" ] || kill -STOP $sc_gen 2>/dev/null || :
		sc_all=$sc_all$sc_gen
	done
	[ -n "$sc_all" ] || sc_all=${step_pid-}
	[ -n "$sc_all" ] || return 0
	# Some are gone already, such as ps: kill fails for them, and set -e
	# must not end the trap.
	kill -TERM $sc_all 2>/dev/null || :
	kill -CONT $sc_all 2>/dev/null || :
	sc_round=0
	while sc_live=$(ps -A -o pid= -o stat= 2>/dev/null |
		awk -v all=" $sc_all " 'index(all, " " $1 " ") && $2 !~ /^Z/ { printf " %s", $1 }') && [ -n "$sc_live" ]; do
		sc_round=$((sc_round + 1))
		[ "$sc_round" -ne 100 ] || kill -KILL $sc_live 2>/dev/null || :
		sleep 0.1 2>/dev/null || sleep 1
	done
	wait || : # reaps the direct children
}
