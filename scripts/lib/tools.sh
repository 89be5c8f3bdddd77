# tools.sh: the workflows' use of the tools (closure-scan, manifest-gen,
# tar-merge, ...; POSIX sh, sourced by common.sh): every tool is found
# (need_tools) and can start under the address-space limit
# (check_address_space, run by common.sh) before the first step; the tools
# are the validators of their own flags and of --config, asked before any
# work (check_flags, check_config); store_nodes shapes closure-scan's
# graph for its --graph.

# check_flags CMD [ARG...] has a step check the flags it will be given,
# before any work: CMD is a tool, or a function that runs one with the
# workflow's flags after its own arguments, and is run with --check-flags
# (the tool parses and validates its command line, and reads nothing).
# The tools are the validators: a usage error is the tool's own line, and
# the workflow exits 2.
check_flags() {
	cf_cmd=$1
	shift
	"$cf_cmd" --check-flags "$@" </dev/null >/dev/null || exit_as $?
}

# check_config reads the --config file ($config) with manifest-gen, under
# the name the user gave, before any work: the build reads a private copy
# (read once: it is a closure root too), and a fault in it was found only
# once the contents were joined and the commands run, naming the copy in
# the temporary directory ('reading --config "/tmp/.build-image.X/
# config.json": ...'). An image of one empty layer is made with it, into
# /dev/null.
check_config() {
	[ -n "$config" ] || return 0
	echo '[[]]' | layer-pack -q --store-dir "$store_dir" |
		manifest-gen -q --name config-check --config "$config" -o /dev/null || exit 1
}

# need_tools TOOL...: exit 1, in one line, unless every TOOL (the tools
# the workflow runs) is found: a workflow run from a checkout before make
# build, or copied without the tools, ended at its first step in the
# shell's own words ("515: exec: manifest-gen: not found", status 127).
# Called once the command line is parsed, before the first step (which
# may be a tool's --check-flags).
need_tools() {
	for nt_tool; do
		command -v "$nt_tool" >/dev/null 2>&1 ||
			die "$nt_tool: not found on PATH nor in bin/ beside scripts/ (make build puts the tools there; make install PREFIX=DIR, in DIR/bin)"
	done
}

# check_address_space stops the workflow with one line where an
# address-space limit (ulimit -v) is too low for the tools to start: a Go
# program reserves far more address space than it uses (below about
# 1 GiB none starts), and the first tool run printed the Go runtime's
# stack ("fatal error: failed to reserve page summary memory") instead.
# Without such a limit it costs nothing; with one, one tool is started.
# common.sh runs it as it is sourced, before a workflow runs any tool.
check_address_space() {
	# shellcheck disable=SC3045 # a shell without ulimit -v fails it: no check
	cas_v=$(ulimit -v 2>/dev/null) || return 0
	case $cas_v in unlimited | '') return 0 ;; esac
	for cas_tool in manifest-gen tar-merge close-fds; do
		command -v "$cas_tool" >/dev/null 2>&1 || continue
		"$cas_tool" --version >/dev/null 2>&1 ||
			die "the address-space limit (ulimit -v $cas_v KiB) is too low for the tools to start (a Go program reserves far more than it uses); limit memory with a cgroup (systemd-run -p MemoryMax=, a container's limit) instead"
		return 0
	done
}

# store_nodes GRAPH prints the closure graph GRAPH (closure-scan's) without
# its extra roots, for closure-scan --graph: the canonical graph has one
# node a line, and nothing refers to an extra root, which is no store path.
store_nodes() {
	awk -v p="{\"path\":\"$store_dir/" 'index($0, p) == 1 { sub(/,$/, ""); n[++c] = $0 }
		END { print "["; for (i = 1; i <= c; i++) print n[i] (i < c ? "," : ""); print "]" }' "$1"
}
