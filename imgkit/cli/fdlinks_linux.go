package cli

// descriptorDir says whether dir, a path without symlinks, is in /proc,
// whose /proc/self/fd (which /dev/fd leads to) holds the magic links to
// open descriptors.
func descriptorDir(dir string) bool { return inProc(dir) }
