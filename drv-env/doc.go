// drv-env writes what an image needs to give a derivation's build
// environment in its shell, as nix-shell gives it (nixpkgs'
// streamNixShellImage, reference §4.7): the image config, the shell's rc
// file, the buildDerivation command, the files of passAsFile, and the
// store paths the build needs.
//
// Usage:
//
//	drv-env -o DIR --shell PATH [--uid N] [--gid N] [--home-directory DIR]
//	        [--command CMD | --run CMD] [--store-dir DIR] [--root DIR]
//	        (DRV | --show FILE)
//
// # Input
//
// DRV is a store derivation (/nix/store/…-NAME.drv), read from the store
// (under --root DIR at DIR/DRV, as closure-scan reads one). --show FILE
// (- for stdin) is what `nix derivation show` or `nix show-derivation`
// printed for one derivation: only its one key, the .drv's path, is used,
// so every format Nix has printed is read alike; the .drv is then read
// from the store. The .drv's ATerm form is read directly: no Nix is needed.
// A derivation with __structuredAttrs is refused, as nixpkgs refuses it
// (its attributes reach the builder as a JSON file, which no environment
// gives); so is one whose inputs' outputs have no fixed path (content
// addressed), and one whose environment (or --shell) holds bytes that are
// not UTF-8, which the image config, JSON, cannot hold.
//
// --shell PATH is the shell the image runs: a program in the store (its
// store path is one of the image's closure roots), such as
// /nix/store/…-bash-5.2/bin/bash or a busybox's bin/sh.
//
// # Output
//
// DIR/config.json, the image config's fields, keys sorted as Nix sorts
// them:
//
//	Cmd         [SHELL, "--rcfile", RC] for bash, [SHELL, RC] with --run;
//	            [SHELL, "-i"] for another shell, which reads RC from $ENV
//	            (bash's --rcfile is its own), [SHELL, RC] with --run
//	Env         sorted by name: SSL_CERT_FILE and NIX_SSL_CERT_FILE
//	            (/etc/ssl/certs/ca-bundle.crt, where fake-nss --ca-bundle
//	            puts one), PATH (the shell's directory, then
//	            /nix-shell/bin, which holds buildDerivation), HOME
//	            (--home-directory, default /build), NIX_STORE,
//	            NIX_BUILD_CORES=1; then the derivation's environment,
//	            which overrides them, with each passAsFile attribute NAME
//	            replaced by NAMEPath, a file holding its value; then
//	            NIX_BUILD_TOP, TMPDIR, TEMPDIR, TMP, TEMP and PWD, all
//	            /build, and TERM=xterm-256color. ENV=RC for a shell other
//	            than bash without --run.
//	User        "UID:GID" (--uid, --gid: default 1000, the nixbld user;
//	            Linux ids, 0 to 4294967294)
//	WorkingDir  /build
//
// DIR/root, for the image's root (stream-layered-image --contents):
//
//	nix-shell/rc                     RC, the rc file (below)
//	nix-shell/bin/buildDerivation    runs the derivation's builder with
//	                                 its arguments (exec, #! the shell)
//	build/.attr-HASH                 a passAsFile attribute's value, at the
//	                                 path Nix gives it in a build: HASH is
//	                                 the Nix base32 SHA-256 of its name
//
// DIR/inputs: the store paths the build reads, one a line, sorted: the
// input sources, the outputs of the input derivations it uses, and the
// shell's store path; the image holds their closure. DIR/name: the
// derivation's name (the image is NAME-env by default).
//
// The rc file does what nix-shell's does (Nix 2.8, which nixpkgs copies):
// it unsets PATH, sources $stdenv/setup when the derivation has a stdenv
// (a plain builtins.derivation has none: nothing is sourced), puts the
// shell's directory and buildDerivation first on PATH, sets SHELL and
// BASH to the shell, turns off set -e, sets nix-shell's prompt unless
// NIX_SHELL_PRESERVE_PROMPT, runs the shellHook when runHook is a
// function, unsets NIX_ENFORCE_PURITY, turns off nullglob and on execfail
// (bash only), and finally runs --command or --run, then exits. It is
// POSIX sh apart from what it does for bash alone, so any shell runs it.
//
// Where this differs from nixpkgs: passAsFile values are in /build, where
// Nix puts them in a build, not in store files; Env holds the
// derivation's environment, which has no "args" (nixpkgs maps the
// attributes, args included; neither Nix nor nix-shell sets args); the rc
// file and buildDerivation are in the image's root, not in the store.
// Files are 0644 and directories 0755 (buildDerivation 0755), whatever
// the umask; the same derivation and flags give the same bytes.
//
// # Exit status
//
// 0 when DIR is written; 1 for a derivation that cannot be read or is
// refused, or a write that fails; 2 for a usage error. Errors are one
// line on stderr.
//
// # Example
//
//	drv-env -o env --shell "$(nix-build '<nixpkgs>' -A bashInteractive)/bin/bash" \
//	    --run buildDerivation "$(nix-instantiate '<nixpkgs>' -A hello)"
package main
