package cli

import (
	"strings"

	"github.com/alecthomas/kong"
)

// missingValue returns the flag, as given, when the command line ends
// with a flag that takes a value (--root, -o), and "" otherwise. kong's
// mappers word a value missing there each their own way ("expected a
// string but got <nil>", "expected a valid 64 bit int but got
// \"<nil>\"", "\"\" is not one of ...", "missing value, expecting
// \"<arg>\""); Run says "--root needs a value", as the workflows do. A
// flag's value is the next argument whatever it is (--name --uid names
// --uid), so the arguments are walked as kong takes them; a positional
// argument that takes the rest (close-fds' command) or "--" ends the walk.
func missingValue(app *kong.Application, args []string) string {
	takes := map[string]bool{}
	for _, group := range app.AllFlags(true) {
		for _, f := range group {
			v := !f.IsBool() && !f.IsCounter()
			takes["--"+f.Name] = v
			for _, a := range f.Aliases {
				takes["--"+a] = v
			}
			if f.Short != 0 {
				takes["-"+string(f.Short)] = v
			}
		}
	}
	rest := false
	for _, p := range app.Positional {
		rest = rest || p.Passthrough
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return ""
		case strings.HasPrefix(a, "-") && a != "-":
			if !takes[a] { // unknown (kong says so), a bool, or --flag=value
				continue
			}
			if i == len(args)-1 {
				return a
			}
			i++ // its value
		case rest:
			return ""
		}
	}
	return ""
}
