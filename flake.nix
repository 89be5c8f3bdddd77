# dockertools-go as a flake. Nothing here could be evaluated where it was
# written (no nixpkgs there); the README's "From Nix" section says what was
# and was not run.
{
  description = "Reproducible container images without a daemon, root or a VM: nixpkgs' dockerTools as small Unix filters, and a Nix library with its function names";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: builtins.listToAttrs (map
        (system: { name = system; value = f nixpkgs.legacyPackages.${system}; })
        systems);
    in
    {
      # The library: nixpkgs' dockerTools names and parameters.
      #   dockerTools = dockertools-go.lib pkgs;
      lib = pkgs: import ./nix { inherit pkgs; };

      packages = forAllSystems (pkgs: {
        # The tools and the workflows (nix/tools.nix, whose vendorHash
        # scripts/testdata/script/nix_vendor_hash.txtar recomputes).
        default = import ./nix/tools.nix { inherit pkgs; };
        # An image of GNU hello:  nix build .#example && docker load < result
        example = (self.lib pkgs).buildLayeredImage {
          name = "hello";
          tag = "latest";
          contents = [ pkgs.hello ];
          config.Cmd = [ "/bin/hello" ];
        };
      });
    };
}
