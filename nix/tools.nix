# The tools and the workflows, built from this repository with
# nixpkgs' buildGoModule and laid out as `make install PREFIX=$out` lays
# them out: the tools and a command per workflow in $out/bin, the
# workflows in $out/libexec/dockertools.
#
# The repository is a go.work workspace of several modules tied by
# replace directives. buildGoModule vendors with `go mod vendor`, which a
# workspace refuses; so the vendoring step runs `go work vendor` at the
# workspace root (one vendor/ for every module, modules.txt marked
# "## workspace"), and the build installs each tool's package from there
# (subPackages) in workspace mode with -mod=vendor.
#
# vendorHash is `nix hash path` of that vendor/ directory; the test
# scripts/testdata/script/nix_vendor_hash.txtar recomputes it (go work vendor
# in a copy of the sources) and fails when it is stale.
{ pkgs, buildGoModule ? pkgs.buildGoModule }:
let
  root = ./..;
  # The sources: everything but what builds and tests leave behind.
  src = builtins.path {
    path = root;
    name = "dockertools-go-source";
    filter = path: type:
      !(builtins.elem (toString path) (map (n: "${toString root}/${n}") [ ".git" "bin" "build" "vendor" ])
        || builtins.substring 0 6 (baseNameOf path) == "result");
  };
in
buildGoModule {
  pname = "dockertools-go";
  version = "0.1.0";
  inherit src;

  vendorHash = "sha256-Mb4tJcpt+NJDH68gQYzAdvhzrmKrgaUcg7o3wto4FlI=";

  modBuildPhase = ''
    runHook preBuild
    export GOWORK=$PWD/go.work
    go work vendor
    mkdir -p vendor
    runHook postBuild
  '';
  preBuild = ''
    export GOWORK=$PWD/go.work
  '';

  subPackages = [ "close-fds" "closure-scan" "popularity" "layer-pack" "manifest-gen" "tar-merge" "pull-blob" "push-blob" "nix-db" "drv-env" ];

  # The tests need Docker, a registry, Nix and skopeo: make test runs them.
  doCheck = false;

  # The workflows, where the tools find them; fixupPhase then patches
  # their #!/bin/sh to the store's shell. The Makefile's SHELL is
  # /bin/bash, which Nix's sandbox lacks: make gets the bash running this
  # phase (stdenv's, from the store).
  postInstall = ''
    make SHELL="''${BASH:-/bin/sh}" install-workflows PREFIX=$out
  '';

  meta = {
    description = "Reproducible container images without a daemon, root or a VM: nixpkgs' dockerTools as small Unix filters";
    mainProgram = "build-layered-image";
  };
}
