// Command hello is the program of `make demo`: a static binary that
// scripts/demo places in a generated Nix-style store and packs into a
// layered image. It prints the greeting kept in another store path, whose
// name is compiled in with -ldflags -X: that string in the binary is the
// reference closure-scan finds, as Nix's own scanner would, so the
// greeting's store path (and what it refers to) lands in the image too.
package main

import (
	"fmt"
	"os"
)

// greeting is the greeting file's path in the store, set at link time.
var greeting = "/nix/store/unset-greeting/share/greeting.txt"

func main() {
	b, err := os.ReadFile(greeting)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hello: %v\n", err)
		os.Exit(1)
	}
	os.Stdout.Write(b)
}
