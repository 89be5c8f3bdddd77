#!/bin/sh
# The command `make install` puts in PREFIX/bin for each workflow: it runs
# the workflow of its own name from PREFIX/libexec/dockertools, with
# PREFIX/bin (this installation's tools) first on PATH. Symlinks to it
# (a Nix profile, ~/bin) are followed to find PREFIX.
p=$0
n=0
while [ -L "$p" ] && [ $n -lt 40 ]; do
	t=$(readlink "$p") || break
	case $t in
	/*) p=$t ;;
	*) p=${p%/*}/$t ;;
	esac
	n=$((n + 1))
done
bin=$(CDPATH= cd -- "$(dirname -- "$p")" && pwd) || exit 1
PATH=$bin${PATH:+:$PATH}
export PATH
exec "$bin/../libexec/dockertools/${p##*/}" "$@"
