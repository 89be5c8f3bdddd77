// Command readertool is a tool that says "ready" and reads its stdin to
// the end, built by the tests that run a tool under a limit on threads:
// static (CGO_ENABLED=0) as the tools are, where the test binary starts
// threads of its own C library.
package main

import (
	"context"
	"fmt"
	"io"

	"dockertools.dev/imgkit/cli"
)

type reader struct{}

func (*reader) Run(ctx context.Context, o *cli.IO) error {
	fmt.Fprintln(o.Stderr, "ready")
	_, err := io.ReadAll(o.Stdin)
	return err
}

func main() { cli.Main("reader", "// reader reads stdin.\npackage main\n", &reader{}) }
