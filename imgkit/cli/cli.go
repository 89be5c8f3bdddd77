package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/storefs"
)

// Exit statuses shared by every tool.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// IO is what a command's Run method receives: the process streams and the
// environment, injected so tests can run a tool in-process.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Verbose and Quiet are set from the common -v and -q flags when the
	// command embeds Common.
	Verbose bool
	Quiet   bool
	// Tool is the tool's name, for messages.
	Tool string
	// ctx is Run's: its cancellation ends a stalled read of a named
	// input (Open).
	ctx context.Context
}

// Env returns the value of an environment variable.
func (o *IO) Env(key string) string {
	if o.Getenv != nil {
		return o.Getenv(key)
	}
	return os.Getenv(key)
}

// Logf writes a diagnostic line to stderr unless -q was given.
func (o *IO) Logf(format string, args ...any) {
	if o.Quiet {
		return
	}
	fmt.Fprintf(o.Stderr, o.Tool+": "+format+"\n", args...)
}

// Debugf writes a diagnostic line to stderr only when -v was given.
func (o *IO) Debugf(format string, args ...any) {
	if o.Verbose {
		o.Logf(format, args...)
	}
}

// Common holds the flags every tool accepts. Embed it in a command struct.
type Common struct {
	Verbose    bool             `short:"v" help:"Explain on stderr what the tool does."`
	Quiet      bool             `short:"q" help:"Print nothing on stderr but errors."`
	CheckFlags bool             `name:"check-flags" help:"Check the command line as a run would, then exit, reading no input and writing nothing: status 0 when it would run, 2 and its usage error when not (the workflows in scripts/ ask each step so before any work)."`
	Version    kong.VersionFlag `help:"Print the tool's name and version, and exit."`
}

// commoner is implemented by commands that embed Common.
type commoner interface{ common() *Common }

func (c *Common) common() *Common { return c }

// UsageError marks an error as the caller's mistake in the command line:
// the tool exits with status 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Runner is implemented by every tool's command struct. A command checks
// its command line in a method Validate() error, which kong calls once
// the flags are parsed: every check that needs no input belongs there, so
// that a usage error (status 2) comes before any input is read, and
// --check-flags runs them all. Run does the work.
type Runner interface {
	Run(ctx context.Context, o *IO) error
}

// Main runs a tool as a process: a context cancelled on SIGINT, SIGTERM or
// SIGHUP (unless ignored, as under nohup), the real streams, then os.Exit
// with the tool's status. The first signal lets the tool clean up (remove
// its temporary output) and report "interrupted" (a workflow's step ends
// quietly instead, with 128 + the signal's number: StepEnv). A second SIGINT (^C
// again), if the tool is stuck where the context is not seen, ends it at
// once as SIGINT does by default; further SIGTERMs (and SIGHUPs) do not
// cut the clean-up short: a supervisor may send
// SIGTERM to every process of a tree, as the workflows do when stopped
// (SIGKILL ends a stuck tool). A tool started with SIGINT ignored (a
// shell's background command) keeps ignoring it, as such commands do: a
// terminal's ^C reaches every process of its group, and the workflow that
// started the tool stops it with SIGTERM.
func Main(name, manual string, cmd Runner) { os.Exit(Process(name, manual, cmd)) }

// Process runs cmd as the process does (os.Args, the real streams, the
// signal handling of Main) and returns its exit status; test binaries that
// double as the tool call it.
func Process(name, manual string, cmd Runner) int {
	if why := fitThreads(); why != "" {
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, why)
		return ExitFailure
	}
	interrupt := !signal.Ignored(os.Interrupt)
	sigs := []os.Signal{syscall.SIGTERM}
	if interrupt {
		sigs = append(sigs, os.Interrupt)
	}
	// SIGHUP (the terminal or ssh session went away) is SIGTERM's kind:
	// by default it killed the tool before it removed its temporary
	// output. Under nohup it stays ignored.
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	caught := make(chan os.Signal, 1) // later signals are dropped, not queued
	signal.Notify(caught, sigs...)
	defer signal.Stop(caught)
	go func() {
		s := <-caught
		cancel(stopSignal{s.(syscall.Signal)})
		if interrupt {
			signal.Reset(os.Interrupt)
		}
	}()
	return Run(ctx, name, manual, cmd, os.Args[1:], &IO{Stdin: stdinFor(ctx), Stdout: stdoutFor(ctx), Stderr: os.Stderr})
}

// Run parses args into cmd, runs it and returns the exit status. Errors are
// printed on o.Stderr as one line prefixed with the tool's name.
func Run(ctx context.Context, name, manual string, cmd Runner, args []string, o *IO) (code int) {
	o.Tool, o.ctx = name, ctx
	// What kong prints on stdout (--help, --version) is a command's
	// output: failing to write it is a runtime failure, not a usage error,
	// and never a success.
	out := &writeWatch{w: o.Stdout}
	parser, err := kong.New(cmd,
		kong.Name(name),
		kong.Description(Manual(manual)),
		kong.Writers(out, o.Stderr),
		// kong calls Exit only once --help or --version has been printed,
		// with status 0; the panic ends Parse there, and the deferred
		// recover returns it.
		kong.Exit(func(int) { panic(exitPanic{}) }),
		kong.ConfigureHelp(kong.HelpOptions{WrapUpperBound: 100}),
		kong.Vars(helpVars),
		kong.Vars{"version": name + " " + Version()},
		// A flag's value is the next argument whatever it starts with,
		// as getopt and the workflows' own parsers take it: a name, a
		// tag or a file called "-x" reaches the tool, which judges it,
		// instead of kong's "expected string value but got -x".
		kong.WithHyphenPrefixedParameters(true),
		decimalInts(),
		// kong decodes a string through JSON, which writes U+FFFD for a
		// byte that is not UTF-8: -o "img\xff.tar" wrote another file.
		kong.KindMapper(reflect.String, kong.MapperFunc(verbatim)),
	)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", name, err)
		return ExitFailure
	}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(exitPanic); !ok {
				panic(r)
			}
			code = ExitOK
			if out.err != nil {
				code = Report(o.Stderr, name, out.failed())
			}
		}
	}()
	if f := missingValue(parser.Model, args); f != "" {
		fmt.Fprintf(o.Stderr, "%s: %s needs a value\n", name, f)
		return ExitUsage
	}
	if _, err := parser.Parse(args); err != nil {
		if out.err != nil {
			return Report(o.Stderr, name, out.failed())
		}
		fmt.Fprintf(o.Stderr, "%s: %s\n", name, usageMessage(err))
		return ExitUsage
	}
	if c, ok := cmd.(commoner); ok {
		if c.common().CheckFlags {
			return ExitOK
		}
		o.Verbose, o.Quiet = c.common().Verbose, c.common().Quiet
	}
	if err := refuseTerminal(cmd, o); err != nil {
		return Report(o.Stderr, name, err)
	}
	if err := cmd.Run(ctx, o); err != nil {
		// A read or write through the poller that the cancellation
		// ended, wrapped by a layer that did not ask (kcopy's splice,
		// *os.File's ReadFrom), is the interruption too.
		err = cancelled(ctx, err)
		if code, ok := stepStopped(ctx, o, err); ok {
			return code
		}
		return Report(o.Stderr, name, err)
	}
	return ExitOK
}

// StepEnv is the variable the workflows (scripts/lib/common.sh) set, to
// their name, for the tools they run as steps. Stopped by a signal, a
// workflow stops its steps and says "interrupted" itself: a tool that
// said it too made two lines of one interruption (and three through a
// workflow run by another, as prefetch-image runs pull-image).
const StepEnv = "DOCKERTOOLS_STEP_OF"

// stopSignal is the cause of the context Process cancels on a signal.
type stopSignal struct{ sig syscall.Signal }

func (s stopSignal) Error() string { return "stopped by signal " + s.sig.String() }

// stepStopped: a tool run as a workflow's step (StepEnv) and stopped by a
// signal (err is the context's cancellation) ends as a program the signal
// ended would, 128 + its number, as shells count it, after its clean-up
// and without a line: its workflow, which the signal reached or which sent
// it, says it, and one that did not (the tool alone was signalled) names
// the tool and the signal.
func stepStopped(ctx context.Context, o *IO, err error) (int, bool) {
	var s stopSignal
	if o.Env(StepEnv) == "" || !errors.Is(err, context.Canceled) || !errors.As(context.Cause(ctx), &s) {
		return 0, false
	}
	return 128 + int(s.sig), true
}

// Report prints err as the tool's one error line and returns the exit status
// it calls for.
func Report(w io.Writer, name string, err error) int {
	var ue *UsageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(w, "%s: %s\n", name, oneLine(err))
		return ExitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(w, "%s: interrupted\n", name)
		return ExitFailure
	default:
		fmt.Fprintf(w, "%s: %s\n", name, oneLine(err))
		return ExitFailure
	}
}

// version is the tools' version when the build sets it: make build passes
// -ldflags "-X dockertools.dev/imgkit/cli.version=…" with git describe
// of the tree.
var version string

// Version is what --version prints after the tool's name: the version the
// build set, else the main module's version in the build information (a
// go install of a tagged release), else "devel". It depends on the build
// alone, never on the machine, the time or the environment.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

type exitPanic struct{}

// decimalInts makes every integer flag decimal. kong's own parser takes
// Go's literals (base 0): --uid 010 was 8, 0x10 16 and 1_000 1000, where
// the shell, chown, tar and Nix read 010 as 10 and refuse the others; a
// workflow that hands the same value to a tool and to a command then
// disagreed with itself (an image whose User is 8 and whose files belong
// to 10).
func decimalInts() kong.Option {
	return kong.OptionFunc(func(k *kong.Kong) error {
		for _, kind := range []reflect.Kind{reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64} {
			if err := kong.KindMapper(kind, kong.MapperFunc(decimal)).Apply(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// verbatim maps a flag's value or an argument to a string byte for byte:
// file names and Nix strings are bytes, not always UTF-8.
func verbatim(ctx *kong.DecodeContext, target reflect.Value) error {
	t, err := ctx.Scan.PopValue("string")
	if err != nil {
		return err
	}
	s, ok := t.Value.(string)
	if !ok { // a command line, a default and the environment give strings
		return fmt.Errorf("expected a string but got %v", t.Value)
	}
	target.SetString(s)
	return nil
}

// decimal maps a flag's value to an integer of the target's kind, in
// decimal; the message is kong's own.
func decimal(ctx *kong.DecodeContext, target reflect.Value) error {
	t, err := ctx.Scan.PopValue("int")
	if err != nil {
		return err
	}
	s, bits := fmt.Sprint(t.Value), target.Type().Bits()
	if target.CanInt() {
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return fmt.Errorf("expected a valid %d bit int but got %q", bits, s)
		}
		target.SetInt(n)
		return nil
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return fmt.Errorf("expected a valid %d bit uint but got %q", bits, s)
	}
	target.SetUint(n)
	return nil
}

// writeWatch passes writes to w and keeps the first error.
type writeWatch struct {
	w   io.Writer
	err error
}

func (ww *writeWatch) Write(p []byte) (int, error) {
	n, err := ww.w.Write(p)
	if err != nil && ww.err == nil {
		ww.err = err
	}
	return n, err
}

// failed is the error of writing the help or version text.
func (ww *writeWatch) failed() error { return fmt.Errorf("writing to stdout: %w", PathCause(ww.err)) }

// enumError is kong's message for a value outside a flag's enum tag.
var enumError = regexp.MustCompile(`^(--[\w-]+) must be one of (.*) but got (".*")$`)

// usageMessage words a parse error as every usage error is worded: one
// line, the flag first. A bad value reads the same whatever the flag's
// type: kong's mappers say `--flag: "value" is not …`, and its enum check,
// which says `--flag must be one of "a","b" but got "value"`, is put so.
func usageMessage(err error) string {
	msg := oneLine(err)
	if m := enumError.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s: %s is not one of %s", m[1], m[3], strings.ReplaceAll(strings.ReplaceAll(m[2], `"`, ""), ",", ", "))
	}
	return msg
}

// maxLine bounds the error line: real errors take a few hundred bytes;
// one that repeats kilobytes of what an input or a server said is cut.
const maxLine = 4096

// oneLine folds a multi-line error message onto one line, with its other
// control characters escaped (a carriage return or an escape sequence
// from an input would rewrite the line on a terminal) and cut past
// maxLine bytes.
func oneLine(err error) string {
	return errdefs.Printable(strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; "), maxLine)
}

// Manual turns the text of a doc.go file into the help text: the package
// comment without its comment markers.
func Manual(docGo string) string {
	var out []string
	for _, line := range strings.Split(docGo, "\n") {
		switch {
		case strings.HasPrefix(line, "// "):
			out = append(out, line[3:])
		case strings.HasPrefix(line, "//\t"):
			// gofmt writes code blocks (usage, examples) as "//<TAB>…".
			out = append(out, "    "+strings.ReplaceAll(line[3:], "\t", "    "))
		case line == "//":
			out = append(out, "")
		case strings.HasPrefix(line, "package "):
			return strings.TrimSpace(strings.Join(out, "\n"))
		}
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// MaxJobs bounds every tool's -j/--jobs. Each job holds buffers, a file or
// a connection, so an unbounded count exhausts memory before any work is
// done (closure-scan -j 100000000 grew to 24 GB); no tool gains from more:
// an image holds at most 125 layers, and 256 readers keep any disk busy.
// Help texts say it as ${max_jobs}.
const MaxJobs = 256

// CheckJobs returns a usage error unless least <= n <= MaxJobs.
func CheckJobs(n, least int) error {
	if n < least || n > MaxJobs {
		return Usagef("--jobs %d: want %d to %d", n, least, MaxJobs)
	}
	return nil
}

// helpVars are the variables help texts may use.
var helpVars = map[string]string{"max_jobs": strconv.Itoa(MaxJobs)}

// FitJobs returns --jobs n, lowered to what the limit on open files holds
// when each job keeps perJob descriptors (storefs.FitJobs), with a -v note
// when it is.
func (o *IO) FitJobs(n, perJob int) int {
	fit, limit := storefs.FitJobs(n, perJob)
	if fit < n {
		o.Debugf("--jobs %d lowered to %d: the limit on open files is %d", n, fit, limit)
	}
	return fit
}
