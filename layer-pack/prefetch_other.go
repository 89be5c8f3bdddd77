//go:build !linux

package main

import "context"

// prefetch does nothing here: it asks Linux's page cache which files it
// holds (preadv2 RWF_NOWAIT) and to read the others ahead
// (posix_fadvise), neither of which macOS has. It changes no output, only
// how soon a cold disk delivers the files.
func (l *treeLayer) prefetch(context.Context, *entryCache) {}
