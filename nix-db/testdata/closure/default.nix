# A closure for nix-db's tests, built with the host's static busybox
# (builders get no PATH): a top-level regular file (leaf), a
# self-reference (lib), a symlink (link) and an executable (top).
let
  bb = "/bin/busybox";
  mk = name: script: builtins.derivation {
    inherit name;
    system = builtins.currentSystem;
    builder = bb;
    args = [ "sh" "-c" script ];
  };
in rec {
  leaf = mk "nixdb-leaf" "${bb} printf 'leaf\\n' > $out";
  lib = mk "nixdb-lib" ''
    ${bb} mkdir -p $out/lib
    ${bb} printf 'my own path: %s, and %s\n' $out ${leaf} > $out/lib/libfoo.so
  '';
  link = mk "nixdb-link" ''
    ${bb} mkdir $out
    ${bb} ln -s ${lib}/lib/libfoo.so $out/libfoo.so
  '';
  top = mk "nixdb-top" ''
    ${bb} mkdir -p $out/bin $out/empty-dir
    ${bb} printf '#!/bin/sh\n# %s\necho top\n' ${link} > $out/bin/top
    ${bb} chmod 0555 $out/bin/top
  '';
}
