// Command testsum reads `go test -json` on stdin and prints a short report:
// one line per package, every skipped test with its reason (so a missing
// component is always visible), and the full output of every failed test.
// It exits 1 when anything failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	outputs := map[string][]string{} // package/test → output lines
	var skips, fails []string
	failed := false
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text()) // build errors arrive as plain text
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			// Compiler errors: go test -json reports them as events of their own.
			fmt.Print(e.Output)
		case "output":
			outputs[key] = append(outputs[key], e.Output)
		case "skip":
			if e.Test != "" {
				skips = append(skips, fmt.Sprintf("SKIP %s %s: %s", e.Package, e.Test, reason(outputs[key])))
			}
		case "fail":
			failed = true
			if e.Test != "" {
				fails = append(fails, key)
			} else {
				fmt.Printf("FAIL %s (%.1fs)\n", e.Package, e.Elapsed)
				if len(fails) == 0 || !strings.HasPrefix(fails[len(fails)-1], e.Package+" ") {
					fmt.Print(strings.Join(outputs[key], ""))
				}
			}
		case "pass":
			if e.Test == "" {
				fmt.Printf("ok   %s (%.1fs)\n", e.Package, e.Elapsed)
			}
		}
	}
	sort.Strings(skips)
	for _, s := range skips {
		fmt.Println(s)
	}
	for _, k := range fails {
		fmt.Printf("\n--- FAIL %s\n%s", k, strings.Join(outputs[k], ""))
	}
	if failed {
		fmt.Println("\nFAIL")
		os.Exit(1)
	}
}

// reason picks the line that explains a skip.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.Contains(l, "SKIP") && !strings.HasPrefix(l, "--- SKIP") {
			_, after, _ := strings.Cut(l, "SKIP")
			return strings.TrimLeft(after, ": ")
		}
	}
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "=== ") && !strings.HasPrefix(l, "--- ") {
			return l
		}
	}
	return "(no reason given)"
}
