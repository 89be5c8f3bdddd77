package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
)

// nixStore is how closure-scan asks Nix. Nix sees the same store as the
// scanner: NIX_STORE_DIR is the store directory and, under --root, the
// chroot store local?root=DIR (whose database is DIR/nix/var/nix/db).
type nixStore struct {
	st *store
}

// missing says why Nix cannot answer for this store, or "" when it may.
// It does not run Nix, because asking Nix about a directory changes it:
// Nix makes a store directory its own (mode 1775, group nixbld, a .links
// directory) and creates its state directories under a root. So auto
// mode (guess set) asks Nix only about the store Nix is configured for
// ($NIX_STORE_DIR, else /nix/store) or a root that already has a Nix
// database; --source nix asks whatever it is told.
func (n nixStore) missing(guess bool, getenv func(string) string) string {
	for _, prog := range []string{"nix", "nix-store"} {
		if _, err := exec.LookPath(prog); err != nil {
			return prog + " is not installed"
		}
	}
	if !guess {
		return ""
	}
	if n.st.root != "/" {
		db := filepath.Join(n.st.root, "nix/var/nix/db/db.sqlite")
		if _, err := os.Stat(db); err != nil {
			return fmt.Sprintf("there is no Nix database under the root %q", n.st.root)
		}
	}
	own := getenv("NIX_STORE_DIR")
	if own == "" {
		own = "/nix/store"
	}
	if n.st.dir != filepath.Clean(own) {
		return fmt.Sprintf("the store directory %q is not Nix's (%q)", n.st.dir, own)
	}
	return ""
}

// command runs a Nix program on this store and returns its stdout; an
// error carries the last line Nix printed on stderr.
func (n nixStore) command(ctx context.Context, prog string, args ...string) ([]byte, error) {
	var pre []string
	if prog == "nix" {
		pre = append(pre, "--extra-experimental-features", "nix-command")
	}
	if n.st.root != "/" {
		pre = append(pre, "--store", "local?root="+n.st.root)
	}
	cmd := exec.CommandContext(ctx, prog, append(pre, args...)...)
	cmd.Env = append(os.Environ(), "NIX_STORE_DIR="+n.st.dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := lastLine(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%s %s: %s", prog, args[0], msg)
		}
		return nil, fmt.Errorf("%s %s: %w", prog, args[0], err)
	}
	return stdout.Bytes(), nil
}

// lastLine is the last non-empty line of Nix's stderr, its "error: " cut.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimPrefix(strings.TrimSpace(lines[len(lines)-1]), "error: ")
}

// invalid returns why Nix does not know every path, or "" when it does.
func (n nixStore) invalid(ctx context.Context, paths []string) (string, error) {
	if len(paths) == 0 {
		return "", nil
	}
	_, err := n.command(ctx, "nix-store", append([]string{"--check-validity"}, paths...)...)
	if err != nil && ctx.Err() == nil {
		return err.Error(), nil
	}
	return "", ctx.Err()
}

// closure asks Nix for the closure of paths.
func (n nixStore) closure(ctx context.Context, paths []string) (graphplan.Graph, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	out, err := n.command(ctx, "nix", append([]string{"path-info", "--json", "--recursive"}, paths...)...)
	if err != nil {
		return nil, fmt.Errorf("asking Nix: %w", err)
	}
	g, err := graphplan.ReadGraph(bytes.NewReader(out), "")
	if err != nil {
		return nil, fmt.Errorf("reading Nix's answer: %w", err)
	}
	for _, p := range paths {
		if _, ok := g.Index(p); !ok {
			return nil, fmt.Errorf("asking Nix: %q is missing from its answer: %w", p, errdefs.ErrInvalidInput)
		}
	}
	return g, nil
}
