# common.sh: what every workflow in scripts/ (POSIX sh) sources first. It
# is sourced, not run: the script sets prog (its name) and here (its
# directory) first.
#
# Conventions it carries out (STYLE.md): errors are one line,
# "prog: context: cause"; a usage error exits 2, any other failure 1; a
# script's temporary files live in one directory removed on every exit;
# HUP, INT or TERM ends the running step at once (run_step, on_signal).
#
# It sources the shared helpers, a file for each subject (common_parts;
# they only define functions), then sets up the shell every workflow runs
# in, in this order: its arguments checked (yash may have lost one), the
# tools found, the caller's umask, locale and directory lookups set aside,
# the signals trapped, stdin and descriptor 7 made as the steps expect,
# the address-space limit checked.
#   messages.sh     how a workflow speaks and ends: usage, die, warn, printable
#   args.sh         the command line: split_opts, need_value, check_id, read_text
#   image-names.sh  -t NAME:TAG, --final-image-name, names refused before work
#   creds.sh        --creds and --creds-file, passed to the tools on a pipe
#   paths.sh        the inputs, the output and stdout, checked before work
#   work.sh         the temporary directory: made, cleaned up, its modes
#   tools.sh        the tools: found, able to start, checking their flags
#   steps.sh        steps run as children, signals, stopping them
# run-as-root.sh's prepare_stage copies them, with common.sh, for the
# --run-as-root stage, which sources this file too.
common_parts='messages.sh args.sh image-names.sh creds.sh paths.sh work.sh tools.sh steps.sh'
for cm_part in $common_parts; do
	. "$here/lib/$cm_part"
done

check_args_decoded "$@"

# The tools come from PATH, else from the bin/ directory `make build` fills
# (appended, so tools already on PATH always win).
PATH=$PATH:$here/../bin

# Nothing of the caller's environment may reach the output: files made here
# get the modes Nix builds use, and tools sort by bytes, not by locale.
umask 022
LC_ALL=C
export LC_ALL
# GNU tools follow POSIX to the letter when POSIXLY_CORRECT is set: chmod
# MODE -- FILE takes "--" for a file (--copy-to-root failed), and options
# after operands are names; a Nix build has no such variable.
unset POSIXLY_CORRECT
# Nor may it move a directory: with CDPATH set (an interactive shell's
# setting, often exported), cd DIR goes to a DIR that CDPATH finds before
# ./DIR and prints its name, which $(cd DIR && pwd) then holds twice.
unset CDPATH

# Signals. A shell runs a trap only once its foreground command has ended:
# INT or TERM sent to a workflow would wait for the running step (a slow
# pull, a build script). So the workflows run their long steps with
# run_step, as background children the shell waits for; a trapped signal
# interrupts that wait at once, and on_signal ends the step and everything
# it started, then exits with 128 + the signal's number. The EXIT trap
# removes the temporary files, so no partial output is left.
# HUP (the terminal or ssh session went away) is one too: untrapped, it
# killed the shell alone, leaving the step running and its files behind.
# The tools run as steps know it (DOCKERTOOLS_STEP_OF, imgkit/cli's
# StepEnv): stopped by a signal, they clean up and exit 128 + its number
# without a line, which on_signal says once; a workflow run as another's
# step (prefetch-image runs pull-image) is as quiet. Set before the traps,
# which read step_of.
step_of=${DOCKERTOOLS_STEP_OF-}
DOCKERTOOLS_STEP_OF=$prog
export DOCKERTOOLS_STEP_OF
trap 'on_signal 1' HUP
trap 'on_signal 2' INT
trap 'on_signal 15' TERM

# A closed stdin, which run_step cannot pass on, is made an empty one.
{ true 9<&0; } 2>/dev/null || exec </dev/null
# Descriptor 7 is the workflow's stderr while wait_quiet waits, and closed
# at any other time (a caller's is not passed on): see on_signal.
exec 7>&-

check_address_space
