package main

import (
	"crypto/sha256"
	"strings"

	"dockertools.dev/imgkit/nar"
)

// attrFile is the name Nix gives a passAsFile attribute's file in the
// build directory: ".attr-" and the Nix base32 SHA-256 of its name.
func attrFile(name string) string {
	sum := sha256.Sum256([]byte(name))
	return ".attr-" + nar.EncodeBase32(sum[:])
}

// rcFile is the rc file nix-shell writes (Nix 2.8, nix-build.cc, which
// nixpkgs copies), in POSIX sh but for what only bash has: the shellHook
// runs when runHook is a function, as nix-shell checks with bash's type
// -t (in another shell command -v prints a function's bare name), and
// nullglob and execfail are bash's options. PATH keeps no empty entry
// (the current directory) when the derivation has no stdenv to set it.
func rcFile(staticPath, shell, command, run string) string {
	var b strings.Builder
	b.WriteString(`unset PATH
dontAddDisableDepTrack=1
[ -e "$stdenv/setup" ] && . "$stdenv/setup"
PATH=` + shellQuote([]string{staticPath}) + `${PATH:+:$PATH}
SHELL=` + shellQuote([]string{shell}) + `
BASH=` + shellQuote([]string{shell}) + `
set +e
[ -n "$PS1" -a -z "$NIX_SHELL_PRESERVE_PROMPT" ] && PS1='\n\[\033[1;32m\][nix-shell:\w]\$\[\033[0m\] '
if [ -n "${BASH_VERSION-}" ]; then
  if [ "$(type -t runHook)" = function ]; then runHook shellHook; fi
else
  case $(command -v runHook) in runHook) runHook shellHook ;; esac
fi
unset NIX_ENFORCE_PURITY
if [ -n "${BASH_VERSION-}" ]; then
  shopt -u nullglob
  shopt -s execfail
fi
`)
	if command != "" || run != "" {
		b.WriteString(command + run + "\nexit\n")
	}
	return b.String()
}
