//go:build !linux

package main

import "context"

// prefetch does nothing here: it asks Linux's page cache which files it
// holds (preadv2 RWF_NOWAIT), which no other system answers, before it
// asks for the others to be read ahead (posix_fadvise, which macOS lacks
// too). It changes no output, only how soon a cold disk delivers the
// files.
func (l *treeLayer) prefetch(context.Context, *entryCache) {}
