package cli

import "os"

// NotAnInput returns a usage error when output, a file name given with
// flag (not "-"), is the same file as one of inputs: names, "-" for
// stdin, the file stdin is (an *os.File; anything else is no file). The
// output is renamed into place once complete, so it replaced the input
// it was made from (manifest-gen -o img.tar --from-image img.tar, or
// -o s.tar < s.tar), with status 0 and the input gone. An output that
// is not a regular file (/dev/null) is written in place and not judged.
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
		return Usagef("%s %q is the input %q too: the output would replace it; give another name", flag, output, name)
	}
	return nil
}
