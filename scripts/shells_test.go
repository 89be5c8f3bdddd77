package scripts

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/testkit"
)

// shells are the shells users run the workflows with, as they run them:
// Debian's /bin/sh (dash), Alpine's and Nix's sandbox's (busybox ash),
// Nix's builders' (bash, not in POSIX mode: nix/tools.nix points the
// workflows' #! at it), and the other POSIX shells Debian packages, each
// in its sh mode. component is what testkit.Need asks for. Not posh: it
// refuses "$@" under set -u when there are no arguments ("parameter not
// set"), which POSIX exempts, and the workflows rely on that throughout.
var shells = []struct {
	name, component string
	argv            []string
	skip            []string // shellScripts a known, unfixed fault of the shell's stops
}{
	{"dash", "dash", []string{"dash"}, nil},
	{"busybox", "busybox", []string{"busybox", "sh"}, nil},
	{"bash", "bash", []string{"bash"}, nil},
	{"bash-posix", "bash", []string{"bash", "--posix"}, nil},
	{"mksh", "mksh", []string{"mksh"}, nil},
	{"yash", "yash", []string{"yash", "-o", "posix"}, nil},
	{"zsh", "zsh", []string{"zsh", "--emulate", "sh"}, nil},
}

// shellScripts are the workflow tests TestWorkflowShells runs under every
// shell: the workflows' key paths (options, errors, signals, pipes) and
// what a shell once got wrong.
var shellScripts = []string{
	"layered_bad_input",                        // yash: non-ASCII bytes, EXIT trap skipped
	"layered_customisation_layer_nix_db_holds", // nix_db_check_layer: a step run twice, its first stderr dropped
	"signal_interrupt_one_line",                // mksh: exit 0; yash, zsh: no line
	"error_step_killed",                        // zsh: a killed step's status lost
	"error_stream_stdout_closed",               // need_stdout's probe
	"layered_times_past_2038",                  // mksh: 32-bit arithmetic
	"buildimage_uid_large_ids",                 // mksh: 32-bit test
	"layered_flag_values_with_dash",
	"layered_commands_text_with_dash",
	"signal_during_cleanup",                         // a signal's trap inside the EXIT trap
	"error_step_killed_reported_once",               // yash, posh: command -V's wording
	"error_run_as_root_stage_killed_unprivileged",   // yash: the sandbox outlived its stage
	"error_cleanup_command_fails",                   // set -e in the EXIT trap
	"error_help_reader_gone",                        // a signal's status
	"secret_creds_through_descriptor",               // a pipe on descriptor 3
	"secret_creds_not_on_disk",                      // mksh, zsh: here-documents are files
	"buildimage_run_as_root_userns",                 // busybox: its setpriv and unshare applets
	"buildimage_run_as_root_entry_kill_lost",        // mksh: the namespace entry's watcher outlived a kill
	"buildimage_run_as_root_entry_watcher_ended",    // bash, mksh: the kill of a watcher they had reaped failed
	"buildimage_run_as_root_entry_parent_killed",    // the child's wait for "go" outlived the workflow
	"buildimage_run_as_root_entry_ready_killed",     // mksh, yash: the watcher held the "go" pipe
	"signal_run_as_root_entry_watcher_wait",         // yash, zsh: no line for a signal in the wait for the watcher
	"error_run_as_root_map_ids_fails",               // the wait for the refused child ended the workflow first
	"layered_argument_not_text",                     // yash: an argument it cannot decode made empty
	"buildimage_run_as_root_extra_commands_text",    // yash: the stage cut the commands at a UTF-8 byte
	"error_run_as_root_script_nul",                  // bash: its own warning of the NUL it dropped
	"signal_run_as_root_entry_one_line",             // dash, busybox, mksh: a second line
	"output_link_to_input_kept",                     // not_input's walk of the input's symlinks
	"layered_repo_tag_case",                         // split_repo_tag's case patterns
	"buildimage_copy_to_root_under_root",            // copy_rooted's recursion
	"buildimage_copy_to_root_rooted_dirlink_merges", // copy_entries' rooted mode
	"buildimage_copy_to_root_rooted_loop",           // copy_rooted's chain of places
	"repro_commands_build_paths_ids",                // run_contained's arguments, prepended
	"layered_commands_pass_env_caller_value",        // pass_env_words' export -p, eval'd
	"error_config_inline_json",                      // need_file's case patterns of '{' and '['
	"extra_commands_env_store_path",                 // build_env: --pass-env's names through eval, IFS set aside
}

// TestWorkflowShells runs shellScripts with each of shells as the
// workflows' shell (withShell). A shell that is not installed skips its
// run, and fails it under REQUIRE_REAL_CLIENTS=1.
func TestWorkflowShells(t *testing.T) {
	bin := testkit.BuildTools(t, tools...)
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			testkit.Need(t, sh.component)
			s := workflowScripts(t, bin)
			s.Path = append([]string{withShell(t, sh.argv)}, s.Path...)
			for _, f := range shellScripts {
				if !slices.Contains(sh.skip, f) {
					s.Files = append(s.Files, f)
				}
			}
			s.Run(t)
		})
	}
}

// withShell returns a directory to put first on the scripts' PATH so that
// the workflows run with the shell argv (its program, found on PATH, and
// its options) instead of their #!/bin/sh: for each workflow in scripts/
// (an executable file starting #!/bin/sh) one of the same name that runs
// it with argv, as its path ($0 is the workflow's own, so it finds its
// lib/), and an sh that is the program itself (a symlink named sh, which
// each shell takes as its sh mode: bash's POSIX mode, as Nix's builders
// have it on PATH, zsh's sh emulation), for what the workflows and the
// scripts run with sh.
func withShell(t *testing.T, argv []string) string {
	t.Helper()
	prog, err := exec.LookPath(argv[0])
	if err != nil {
		t.Fatalf("DOCKERTOOLS_TEST_SHELL: %v", err)
	}
	dir := t.TempDir()
	if err := os.Symlink(prog, filepath.Join(dir, "sh")); err != nil {
		t.Fatal(err)
	}
	words := []string{quoteSh(prog)}
	for _, a := range argv[1:] {
		words = append(words, quoteSh(a))
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		abs := testkit.Abs(t, e.Name())
		if !e.Type().IsRegular() || !shScript(t, abs) {
			continue
		}
		writeExec(t, filepath.Join(dir, e.Name()), fmt.Sprintf("#!/bin/sh\nexec %s %s \"$@\"\n", strings.Join(words, " "), quoteSh(abs)))
	}
	return dir
}

// shScript reports whether the file at path is executable and starts
// with #!/bin/sh.
func shScript(t *testing.T, path string) bool {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&0o111 == 0 {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return line == "#!/bin/sh\n"
}

func writeExec(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

// quoteSh quotes s for sh: in single quotes, each quote in it closed, escaped and reopened.
func quoteSh(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// TestWorkflowsASCII checks that the workflows, their lib/, the test
// fixtures they run and the Nix library's builder.sh are ASCII: yash reads a script in the locale's
// encoding, and common.sh sets LC_ALL=C, after which it stopped at the
// first other byte (a comment's ellipsis) with "cannot read input:
// Invalid or incomplete multibyte or wide character"; a Nix build's
// locale is C from the start.
func TestWorkflowsASCII(t *testing.T) {
	var files []string
	for _, pattern := range []string{"*", "lib/*.sh", "testdata/fixtures/*.sh", "testdata/fixtures/*/*", "../nix/*.sh"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	checked := 0
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || !fi.Mode().IsRegular() || !(strings.HasSuffix(f, ".sh") || shScript(t, f)) {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for i, b := range data {
			if b >= 0x80 {
				line := 1 + strings.Count(string(data[:i]), "\n")
				t.Errorf("%s:%d: byte %#x: the scripts must be ASCII (yash in the C locale cannot read them)", f, line, b)
				break
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked %d scripts; the globs found too few", checked)
	}
}
