package testkit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// ArgvCommands returns the script commands that watch the process list,
// to add to Params' Cmds:
//
//	argv-watch SECRET
//	    starts reading the command line (/proc/PID/cmdline, which any
//	    user may read) of every process the script started (whose
//	    environment holds its $WORK) every few milliseconds, until
//	    argv-seen. Not every process's: another test's on the machine,
//	    with the same secret, was counted (a flaky failure).
//	argv-seen NAME
//	    stops the watch and prints, sorted, one line per program whose
//	    command line held SECRET: its name (a script run by a shell is
//	    named by the script); "none" when there was none. It fails when no program called NAME ran
//	    during the watch: a watch that saw nothing proves nothing.
func ArgvCommands() Cmds {
	return Cmds{
		"argv-watch": cmdArgvWatch,
		"argv-seen":  cmdArgvSeen,
	}
}

// argvWatch is a running watch: ran is every program name seen, held the
// names of those whose command line held the secret.
type argvWatch struct {
	stop     chan struct{}
	done     chan struct{}
	ran      map[string]bool
	held     map[string]bool
	scanErrs int
}

var (
	argvMu      sync.Mutex
	argvWatches = map[*testscript.TestScript]*argvWatch{}
)

func cmdArgvWatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || args[0] == "" {
		ts.Fatalf("usage: argv-watch SECRET")
	}
	w := &argvWatch{stop: make(chan struct{}), done: make(chan struct{}), ran: map[string]bool{}, held: map[string]bool{}}
	argvMu.Lock()
	if argvWatches[ts] != nil {
		argvMu.Unlock()
		ts.Fatalf("argv-watch: a watch is running")
	}
	argvWatches[ts] = w
	argvMu.Unlock()
	secret := []byte(args[0])
	work := []byte("WORK=" + ts.Getenv("WORK") + "\x00")
	go func() {
		defer close(w.done)
		for {
			w.scan(secret, work)
			select {
			case <-w.stop:
				w.scan(secret, work)
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	ts.Defer(func() { w.end() })
}

func cmdArgvSeen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: argv-seen NAME")
	}
	argvMu.Lock()
	w := argvWatches[ts]
	delete(argvWatches, ts)
	argvMu.Unlock()
	if w == nil {
		ts.Fatalf("argv-seen: no argv-watch")
	}
	w.end()
	if w.scanErrs > 0 && len(w.ran) == 0 {
		ts.Fatalf("argv-seen: /proc could not be read")
	}
	if !w.ran[args[0]] {
		ts.Fatalf("argv-seen: no %s ran during the watch (seen: %s)", args[0], strings.Join(sortedKeys(w.ran), " "))
	}
	held := sortedKeys(w.held)
	if len(held) == 0 {
		held = []string{"none"}
	}
	fmt.Fprintln(ts.Stdout(), strings.Join(held, "\n"))
}

func (w *argvWatch) end() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// scan reads once the command line of every process whose environment
// holds work (WORK=DIR and its NUL).
func (w *argvWatch) scan(secret, work []byte) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		w.scanErrs++
		return
	}
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		// A process gone since the listing is no longer there: skipped.
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 || !inScript(filepath.Join("/proc", e.Name(), "environ"), work) {
			continue
		}
		name := argvName(strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"))
		w.ran[name] = true
		if bytes.Contains(b, secret) {
			w.held[name] = true
		}
	}
}

// inScript reports whether the environment file environ holds work: a
// variable, at its start or after a NUL.
func inScript(environ string, work []byte) bool {
	env, err := os.ReadFile(environ)
	if err != nil {
		return false
	}
	return bytes.HasPrefix(env, work) || bytes.Contains(env, append([]byte{0}, work...))
}

// argvName names a process by its program, or by the script a shell runs.
func argvName(argv []string) string {
	name := filepath.Base(argv[0])
	shells := []string{"sh", "dash", "bash", "ash", "busybox", "mksh", "yash", "zsh", "ksh"}
	if slices.Contains(shells, name) && len(argv) > 1 && !strings.HasPrefix(argv[1], "-") {
		return filepath.Base(argv[1])
	}
	return name
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
