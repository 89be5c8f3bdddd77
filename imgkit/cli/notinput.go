package cli

import (
	"os"
	"strings"
)

// NotAnInput returns a usage error when output, a file name given with
// flag (not "-"), would replace one of inputs: names, "-" for stdin, the
// file stdin is (an *os.File; anything else is no file). The output is
// renamed into place once complete, so when output's name is the input's
// (by another path, or a symlink the input's name goes through) it
// replaced the input it was made from (manifest-gen -o img.tar
// --from-image img.tar, or -o s.tar < s.tar), with status 0 and the
// input gone. A hard link to the input, or a symlink to it, under another
// name is another directory entry: the rename replaces that entry and the
// input stays as it was, so it is an output like any other. Stdin has no
// name to tell: an output that is its file is refused. An output that is
// not a regular file (/dev/null) is written in place and not judged.
func NotAnInput(flag, output string, stdin any, inputs ...string) error {
	if output == "-" || output == "" {
		return nil
	}
	out, err := os.Stat(output)
	if err != nil || !out.Mode().IsRegular() {
		return nil
	}
	for _, name := range inputs {
		var in os.FileInfo
		if name == "-" {
			if f, ok := stdin.(*os.File); ok {
				in, _ = f.Stat()
			}
		} else if name != "" {
			in, _ = os.Stat(name)
		}
		if in == nil || !os.SameFile(in, out) {
			continue
		}
		if name == "-" {
			return Usagef("%s %q is stdin too: the output would replace the input; give another name", flag, output)
		}
		if renameReplaces(output, name) {
			return Usagef("%s %q is the input %q too: the output would replace it; give another name", flag, output, name)
		}
	}
	return nil
}

// renameReplaces reports whether a rename over output changes what name
// leads to: output's directory entry (its directory, symlinks followed,
// and its last element) is name's own or that of a symlink name goes
// through. Where it cannot tell (a directory it cannot stat, a symlink
// loop), it says yes.
func renameReplaces(output, name string) bool {
	outDir, outBase := splitEntry(output)
	outDirInfo, err := os.Stat(outDir)
	if err != nil {
		return true
	}
	for hops := 0; hops <= 40; hops++ {
		dir, base := splitEntry(name)
		dirInfo, err := os.Stat(dir)
		if err != nil || os.SameFile(dirInfo, outDirInfo) && base == outBase {
			return true
		}
		target, err := os.Readlink(name)
		if err != nil {
			return false // not a symlink: the end of the chain
		}
		if !strings.HasPrefix(target, "/") {
			target = dir + "/" + target
		}
		name = target
	}
	return true
}

// splitEntry splits a path into the directory its last element is in and
// that element, as the kernel reads them, not cleaned: filepath.Dir and
// Join take "sub/.." for ".", where the kernel takes the parent of what
// the symlink sub leads to.
func splitEntry(path string) (dir, base string) {
	path = strings.TrimRight(path, "/")
	i := strings.LastIndexByte(path, '/')
	switch {
	case i < 0:
		return ".", path
	case i == 0:
		return "/", path[1:]
	}
	return path[:i], path[i+1:]
}
