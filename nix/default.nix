# dockertools-go from Nix: nixpkgs' dockerTools functions, with nixpkgs'
# names and parameters, returning derivations that run this project's
# tools and workflows (scripts/). A nixpkgs user changes one line:
#
#   dockerTools = import ./nix { inherit pkgs; };
#
# Arguments:
#   pkgs      nixpkgs: the tools are built from this repository with
#             buildGoModule (nix/tools.nix), and the shell, coreutils,
#             fakeroot, proot, bubblewrap, the CA bundle, bash and env come
#             from it. Builds then work in Nix's sandbox.
#   tools     instead of (or with) pkgs: the installed tools, a directory
#             laid out by `make install PREFIX=DIR` (imported into the
#             store, so derivations depend on its content) or a derivation
#             holding the same (nix/tools.nix builds one); make install
#             links the tools statically, so they run in Nix's sandbox.
#   shell     the builders' shell: default pkgs.buildPackages.runtimeShell,
#             else busybox's sh with busybox, else /bin/sh.
#   hostPath  without pkgs, the PATH the builders find their helpers on
#             (sed, tar, fakeroot, proot, bwrap, …): the host's. This is
#             the tools-only form, which needs nothing but Nix's builtins.
#             Without busybox it needs a build without Nix's sandbox
#             (sandbox = false), where the host's programs are visible.
#   busybox   without pkgs, a store path holding bin/busybox (static):
#             what usrBinEnv and binSh link to (busybox runs as the name
#             it is called by), and the builders' shell and utilities
#             after hostPath, so that they build in Nix's sandbox, where
#             hostPath is not visible; the workflows still need the
#             sandbox's /bin/sh (sandbox-paths, as Nix's installers set).
#             What needs fakeroot, proot or bwrap does not build there.
#   cacert    without pkgs, the CA bundle file caCertificates holds;
#             default: the host's /etc/ssl/certs/ca-certificates.crt,
#             imported into the store by content.
#   system    the images' platform (their default architecture and
#             variant with pkgs, pullImage's arch): default pkgs' host
#             platform, else builtins.currentSystem. The builders run on
#             pkgs' build platform, with pkgs.buildPackages (the same
#             packages unless pkgs is a cross set, such as pkgsCross.X:
#             nixpkgs' cross example), else on system.
#
# nix/README.md says what each function takes and where it differs from
# nixpkgs.
{ pkgs ? null
, tools ? null
, shell ? null
, hostPath ? "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
, busybox ? null
, cacert ? null
, system ? (if pkgs != null then pkgs.stdenv.hostPlatform.system else builtins.currentSystem)
}:
let
  inherit (builtins) concatMap concatStringsSep elem filter isAttrs isList isString
    length replaceStrings substring stringLength toJSON;

  # --- plumbing ---------------------------------------------------------

  toolsDrv =
    if tools != null then
      (if isAttrs tools then tools
       else if builtins.pathExists "${toString tools}/bin/stream-layered-image" then
         builtins.path { path = tools; name = "dockertools-go-tools"; }
       else throw "dockertools-go: tools = ${toString tools}: no bin/stream-layered-image there; make install PREFIX=DIR lays it out")
    else if pkgs != null then import ./tools.nix { pkgs = buildPkgs; }
    else throw "dockertools-go: give pkgs (nixpkgs), or tools (a directory from make install PREFIX=DIR, or a derivation)";

  # Tools-only with busybox, the builders need nothing but the store and
  # a /bin/sh for the workflows' #! (Nix's sandbox has one when its
  # sandbox-paths gives it, as Nix's installers and NixOS do): busybox
  # runs builder.sh, and bbUtils (busybox's applets as links) is on PATH
  # after hostPath, so that the host's utilities are used where they are
  # visible (fakeroot needs dynamically linked ones), busybox's in the
  # sandbox.
  bbUtils = mk {
    name = "busybox-utils";
    kind = "busybox-utils";
    # busybox runs as the applet its first argument names; no PATH yet.
    builder = busyboxBin;
    shellArgs = [ "sh" ];
    path = "";
    args = [ busyboxBin ];
  };
  # Builders, and the scripts run later on the same machine (the stream,
  # the push), run on the build platform, with its packages; what goes
  # into images (binSh, usrBinEnv, the scripts' shell and coreutils) is
  # pkgs', the host platform's, as in nixpkgs.
  buildPkgs = if pkgs == null then null else pkgs.buildPackages or pkgs;
  buildSystem = if pkgs == null then system else pkgs.stdenv.buildPlatform.system or system;

  shellPath =
    if shell != null then shell
    else if pkgs != null then buildPkgs.runtimeShell
    else if busybox != null then "${bbUtils}/bin/sh"
    else "/bin/sh";

  # What the workflows run besides the tools (POSIX utilities, cmp,
  # tar, fakeroot, proot, bwrap, unshare and setpriv).
  helpers = with buildPkgs; [
    bash coreutils findutils diffutils gnused gawk gnugrep gnutar procps
    fakeroot proot bubblewrap util-linux
  ];
  binPath = dirs: concatStringsSep ":" (map (d: "${d}/bin") dirs);
  builderPath =
    if pkgs != null then binPath ([ toolsDrv ] ++ helpers)
    else if busybox != null then "${toolsDrv}/bin:${hostPath}:${bbUtils}/bin"
    else "${toolsDrv}/bin:${hostPath}";
  # Scripts run later (the stream, the push) put the tools first and keep
  # the caller's PATH after them; with pkgs, the helpers too.
  runtimePath = if pkgs != null then builderPath else "${toolsDrv}/bin";

  builderScript = ./builder.sh;

  # A builder argument: a path literal (./dir) is copied into the store,
  # as nixpkgs copies contents, instead of toString's bare host path.
  str = x: if builtins.isPath x then "${x}" else toString x;

  # mk builds with builder.sh KIND. structured: exportReferencesGraph's
  # closure of graphRoots is in the build's .attrs.json as "graph".
  # dbRoots (with graphRoots): their closure too, as "db".
  mk = { name, kind, args ? [ ], attrs ? { }, graphRoots ? null, dbRoots ? null, builder ? shellPath, shellArgs ? [ ], path ? builderPath }:
    builtins.derivation ({
      inherit name builder;
      system = buildSystem;
      args = shellArgs ++ [ "-e" builderScript kind path (builtins.placeholder "out") ] ++ map str args;
    } // attrs // (if graphRoots == null then { } else {
      __structuredAttrs = true;
      exportReferencesGraph = { graph = map str graphRoots; }
        // (if dbRoots == null then { } else { db = map str dbRoots; });
    }));

  writeText = name: text: mk { inherit name; kind = "text"; attrs = { inherit text; passAsFile = [ "text" ]; }; };
  writeScript = name: text: mk {
    inherit name;
    kind = "text";
    args = [ "executable" ];
    attrs = { inherit text; passAsFile = [ "text" ]; };
  };

  # A derivation with nixpkgs' passthru attributes on it, and meta.
  withPassthru = drv: passthru: meta: drv // passthru // { inherit passthru meta; };

  shq = s: "'" + replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";
  # A value in a generated script's comment, on one line: a newline in
  # it (a name such as "x\ntouch /tmp/y\n#/z", whose base name is still a
  # valid derivation name) would end the comment and run what follows.
  inComment = s: replaceStrings [ "\n" "\r" ] [ " " " " ] (toString s);
  shArgs = args: concatStringsSep " " (map shq args);

  toList = x: if x == null then [ ] else if isList x then x else [ x ];
  # contents, copyToRoot and mergeImages' images as nixpkgs reads them:
  # its builders take the list as an environment variable, a string of
  # words, so a list in the list (contents = [ hello extras ]) is
  # flattened and null (if … then x else null) is nothing. Here a nested
  # list was one argument of two paths, and a null crashed Nix 2.8
  # (exportReferencesGraph of "", with includeNixDB).
  pathList = x: concatMap (e: if isList e then pathList e else if e == null then [ ] else [ e ]) (toList x);
  opt = flag: value: if value == null || value == "" then [ ] else [ flag value ];
  flagIf = cond: flag: if cond then [ flag ] else [ ];

  lower = replaceStrings
    [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" ]
    [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" ];
  hasSuffix = suffix: s:
    let n = stringLength s; m = stringLength suffix; in n >= m && substring (n - m) m s == suffix;
  removeSuffix = suffix: s: if hasSuffix suffix s then substring 0 (stringLength s - stringLength suffix) s else s;
  # The hash part of a store path, nixpkgs' default tag.
  hashPart = p: substring 0 32 (baseNameOf (builtins.unsafeDiscardStringContext (toString p)));
  nameOf = x: if isAttrs x && x ? name then x.name else baseNameOf (toString x);
  # What pull-image refuses in an image name, and push-image in a
  # destination ("@", "://"), said as a message may say it; null when none.
  nameRefused = n:
    if builtins.match ".*://.*" n != null then "a URL's scheme (://)"
    else if builtins.match ".*@.*" n != null then "an @ (a digest, or a URL's user and password)"
    else null;

  # nixpkgs' compressor parameter and its file name extension.
  extensions = { none = ""; gz = ".gz"; zstd = ".zst"; };
  checkCompressor = c:
    if extensions ? ${c} then c else throw "compressor must be one of: [gz none zstd], not \"${c}\"";

  # lib.fakeHash and lib.fakeSha256.
  fakeHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  fakeSha256 = "0000000000000000000000000000000000000000000000000000";

  # Go's name for the architecture of a Nix system's CPU (nixpkgs'
  # go.GOARCH), whatever its kernel (aarch64-darwin is arm64 too).
  cpu = let m = builtins.match "([^-]*)-.*" system; in if m == null then system else builtins.head m;
  goArch = {
    x86_64 = "amd64"; aarch64 = "arm64"; i686 = "386"; armv7l = "arm"; armv6l = "arm";
    riscv64 = "riscv64"; powerpc64le = "ppc64le"; s390x = "s390x"; loongarch64 = "loong64";
    mips64el = "mips64le"; mipsel = "mipsle";
  }.${cpu} or (throw "dockertools-go: no Go architecture known for the system ${system}");
  # nixpkgs' defaults for an image's architecture and variant (go.GOARCH
  # and "v" + go.GOARM of the host platform), with pkgs: a cross set's
  # images are its platform's. Without pkgs, the tools' own default.
  defaultArchitecture = if pkgs == null then null else goArch;
  defaultVariant = if pkgs == null then null else { armv7l = "v7"; armv6l = "v6"; }.${cpu} or null;

  unsupported = what: why: throw "dockertools-go: ${what} is not supported: ${why}";

  # An empty tag (tag = builtins.getEnv "TAG", unset) made an image tagged
  # by its config digest while passthru.imageTag said ""; nixpkgs writes
  # "NAME:", which docker load refuses. Refused here, while evaluating.
  checkTag = what: tag: tag != "" || throw "${what}: tag is empty: give a tag, or null for a hash of the inputs";

  # nixpkgs' lib.makeOverridable for the image functions: f's result for
  # args gets override, which takes new arguments, or a function of the
  # old ones, and calls f again with them merged into the old. f keeps its
  # formal arguments, which builtins.functionArgs reads (a wrapper would
  # hide them from callers that pick the arguments a function takes).
  withOverride = f: args: result:
    result // { override = new: f (args // (if builtins.isFunction new then new args else new)); };

  # A config as Docker's decoder reads it: Cmd, Entrypoint and Shell may
  # be one string (nixpkgs' etc example has Cmd = a script), read as a
  # list of one, a type OCI readers (skopeo, containerd) and manifest-gen
  # refuse; so it is given as that list. null (buildImage's default) is {}.
  dockerConfig = c:
    if c == null then { }
    else if !isAttrs c then c
    else c // builtins.listToAttrs (map (k: { name = k; value = [ c.${k} ]; })
      (filter (k: c ? ${k} && c.${k} != null && !isList c.${k}) [ "Cmd" "Entrypoint" "Shell" ]));

  # extraCommands and fakeRootCommands are bash to nixpkgs, which runs
  # them with its bash; the workflows run them with sh, which tools-only
  # is the host's, dash on Debian and Ubuntu: mkdir -p usr/{bin,lib} made
  # one directory of that name and echo 'a\nb' wrote two lines, silently,
  # and [[ failed. So they run with the first bash on the builders' PATH
  # (nixpkgs' with pkgs, else the host's), and with sh where none is,
  # with the shell options nixpkgs' builders leave on where they run
  # them (MODE):
  # - stdenv: extraCommands (and buildImage's without runAsRoot), eval'd
  #   in a runCommand, where stdenv's setup.sh leaves -e, -o pipefail and
  #   inherit_errexit on (false | true fails; so does x=$(false; echo)).
  # - stdenv too: fakeRootCommands, eval'd by `fakeroot bash -e -c
  #   'source $stdenv/setup; eval "$fakeRootCommands"; tar …'` (reference
  #   §3.1; with and without enableFakechroot): setup.sh restores the
  #   caller's options, and bash -e had -e, so a failing command stops
  #   them and the build, as there. (An older nixpkgs ran bash -c, where
  #   they went on and made a layer of what they had done.)
  # - script: buildImage's extraCommands with runAsRoot, nixpkgs'
  #   shellScript: set -e only.
  # sh has pipefail only where it has one (busybox's, in Nix's sandbox:
  # dash has none, and would exit on it).
  # The commands are in the script once, in a variable: given twice (to
  # bash, then to sh), 64 KiB of them made the builder's argument longer
  # than the 128 KiB Linux allows one, and Nix could not start it
  # ("Argument list too long"; nixpkgs, whose environment variable has
  # the same bound, took them). Past the bound, one line while evaluating.
  inBash = mode: what: cmds:
    let
      bashOpts = { stdenv = "-e -o pipefail -O inherit_errexit"; script = "-e"; }.${mode};
      script = "__dockertools_commands=${shq cmds}\n"
        + "if command -v bash >/dev/null 2>&1; then exec bash ${bashOpts} -c \"$__dockertools_commands\" bash; fi\n"
        + (if mode == "script" then "" else "if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi\n")
        + "eval \"$__dockertools_commands\"\n";
      n = stringLength script;
    in
    if cmds == "" then ""
    else if n < 131072 then script
    else throw "${what}: ${toString n} bytes once quoted for the shell (a single quote takes 4), past the 131071 Linux allows an argument of a program";

  # An image where an archive is read (fromImage, mergeImages' images,
  # exportImage): a stream script (streamLayeredImage's or
  # streamNixShellImage's, isExe) is run into one, as buildLayeredImage
  # runs it. It was read as the archive ("not a tar archive"), as nixpkgs
  # reads it (tar: "This does not look like a tar archive").
  archiveOf = x: if isAttrs x && (x.isExe or false)
    then mk { name = "${x.name}.tar"; kind = "stdout"; args = [ x ]; }
    else x;

  # nixpkgs' conf step reads a layered image's created and mtime with GNU
  # date -d, which takes many forms (@EPOCH, 20240101, yesterday, 1 day
  # ago); the tools take ISO 8601 times (manifest-gen's created with the
  # date's dashes, layer-pack's mtime without too) and now, and refused
  # the others only once the stream ran (streamLayeredImage) or the image
  # built. RE is a loose shape of what the tool takes: a value past it is
  # one the tool refuses, refused here while evaluating; what passes the
  # tool still checks.
  isoTime = what: re: t: t == "now" || isString t && builtins.match re t != null
    || throw "${what} \"${toString t}\": give an ISO 8601 time (such as 1970-01-01T00:00:01Z) or now; nixpkgs' date -d reads more (@EPOCH, yesterday), which the tools do not";

  # The flags choosing the image of a fromImage archive. nixpkgs reads
  # fromImageName and fromImageTag only with a fromImage and only both
  # together (else the archive's first image): so are they passed here,
  # and ignored otherwise, with a warning. (Expressions in the wild set
  # fromImageName = "scratch", or "debian" with a tag, and no fromImage.)
  fromImageFlags = what: fromImage: name: tag:
    if name == null && tag == null then [ ]
    else if fromImage != null && name != null && tag != null then [ "--from-image-name" name "--from-image-tag" tag ]
    else builtins.trace ("${what}: fromImageName and fromImageTag are ignored "
      + (if fromImage == null then "without fromImage" else "unless both are given") + ", as in nixpkgs") [ ];

  # --- layered images (reference §3) ------------------------------------

  # layered holds what streamLayeredImage and buildLayeredImage share:
  # the derivations nixpkgs makes (the config file, the customisation
  # layer, the layer plan from Nix's closure) and the workflow's flags.
  layered =
    { name
    , tag ? null
    , fromImage ? null
    , contents ? [ ]
    , config ? { }
    , architecture ? defaultArchitecture
    , variant ? defaultVariant
    , created ? "1970-01-01T00:00:01Z"
    , mtime ? "1970-01-01T00:00:01Z"
    , uid ? 0
    , gid ? 0
    , uname ? "root"
    , gname ? "root"
    , maxLayers ? 100
    , extraCommands ? ""
    , fakeRootCommands ? ""
    , enableFakechroot ? false
    , includeStorePaths ? true
    , includeNixDB ? false
    , passthru ? { }
    , meta ? { }
    , layeringPipeline ? null
    , debug ? false
      # this project's
    , strategy ? "popularity"
    , format ? "docker"
    , layerCompression ? null
    }:
    assert checkTag "streamLayeredImage" tag;
    assert elem strategy [ "popularity" "size" ] || throw "strategy must be popularity or size, not \"${strategy}\"";
    assert layeringPipeline != null -> strategy != "size"
      || throw "layeringPipeline makes the layers: drop strategy = \"size\"";
    assert elem format [ "docker" "oci" ] || throw "format must be docker or oci, not \"${format}\"";
    # nixpkgs registers the contents' closure even where no store layer
    # holds it: Nix in the image then takes missing paths as valid.
    assert includeNixDB -> includeStorePaths
      || throw "includeNixDB registers the contents' closure in the image's Nix database, which includeStorePaths = false leaves out of the image";
    # As nixpkgs, maxLayers is ignored when a layeringPipeline is given;
    # popularity still refuses a plan past what runtimes accept.
    assert layeringPipeline != null || maxLayers >= 2
      || throw "maxLayers ${toString maxLayers}: want at least 2 (a store layer and the customisation layer)";
    assert isoTime "created" "[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?" created;
    assert isoTime "mtime" "[0-9]{4}-?[0-9]{2}-?[0-9]{2}([Tt ].*)?" mtime;
    let
      base = if fromImage == null then null else archiveOf fromImage;
      # nixpkgs takes any maxLayers (users write 128, believing it
      # Docker's limit), and its image loads while the closure needs no
      # more than Docker's 125 layers: beyond, 125 makes that image, and
      # one Docker loads when the closure needs more.
      maxLayersUsed = if layeringPipeline != null || maxLayers <= 125 then maxLayers
        else builtins.trace "streamLayeredImage: maxLayers ${toString maxLayers} is more than Docker loads: 125 are used" 125;
      baseName = baseNameOf name;
      imageName = lower name;
      configFile = writeText "${baseName}-config.json" (toJSON (dockerConfig config));
      # With includeNixDB, Nix exports the contents' closure (with
      # narHash) for the database, made before extraCommands (reference
      # §4.5).
      customisationLayer = mk {
        name = "${baseName}-customisation-layer";
        kind = "customisation";
        args = concatMap (c: [ "--contents" c ]) (pathList contents)
          ++ flagIf includeNixDB "--include-nix-db"
          ++ opt "--extra-commands" (inBash "stdenv" "extraCommands" extraCommands)
          ++ opt "--fake-root-commands" (inBash "stdenv" "fakeRootCommands" fakeRootCommands)
          ++ flagIf enableFakechroot "--enable-fakechroot";
        graphRoots = if includeNixDB then pathList contents else null;
      };
      # nixpkgs' layeringPipeline: a list, or the path of a JSON file
      # holding it (a file either way: store paths it names stay
      # references of the plan, and no argument grows past the kernel's
      # limit on one).
      pipelineFile =
        if layeringPipeline == null then ""
        else if isList layeringPipeline then writeText "${baseName}-layering-pipeline.json" (toJSON layeringPipeline)
        else layeringPipeline;
      # nixpkgs' closure roots: the config and the customisation layer.
      layers = mk {
        name = "${baseName}-layers.json";
        kind = "plan";
        # Of a multi-platform base, the layers of the image for the
        # image's platform are counted.
        args = flagIf checkDb "--nix-db"
          ++ [ maxLayersUsed strategy (if base == null then "" else base) ]
          ++ (if base == null then [ ] else [ (if architecture == null then "" else architecture) (if variant == null then "" else variant) ])
          ++ [ pipelineFile configFile customisationLayer ];
        graphRoots = [ configFile customisationLayer ];
        # The database registers the contents' closure; a pipeline's
        # remove_paths may leave one of its paths out of the store layers.
        dbRoots = if checkDb then pathList contents else null;
      };
      checkDb = includeNixDB && layeringPipeline != null;
      flags = [ "--config" configFile "--customisation-layer" customisationLayer
          "--max-layers" (if layeringPipeline == null then maxLayersUsed else 125) ]
        ++ (if includeStorePaths then [ "--plan" layers ] else [ "--no-store-paths" ])
        ++ opt "--from-image" base
        ++ [ "--created" created "--mtime" mtime "--uid" uid "--gid" gid "--uname" uname "--gname" gname ]
        ++ opt "--architecture" architecture
        ++ opt "--variant" variant
        ++ [ "--format" format ]
        ++ opt "--layer-compression" layerCompression;
    in
    { inherit baseName imageName configFile customisationLayer passthru meta format;
      layers = if includeStorePaths then layers else null;
      flags = map str flags;
      # nixpkgs' conf.json, but for store_layers and repo_tag (confOf):
      # baseJson's keys (sorted, as toJSON writes them), then its conf
      # step's. architecture is the tools' default's (the system's) when
      # none is given, as conf.json must have one.
      confHead = [
        { name = "architecture"; value = if architecture != null then architecture else goArch; }
        { name = "config"; value = dockerConfig config; }
        { name = "os"; value = "linux"; }
      ] ++ (if variant == null || variant == "" then [ ] else [ { name = "variant"; value = variant; } ])
      ++ [
        { name = "store_dir"; value = builtins.storeDir; }
        { name = "from_image"; value = if base == null then null else str base; }
      ];
      confTail = [
        { name = "customisation_layer"; value = str customisationLayer; }
        { name = "created"; value = confTime created; }
        { name = "mtime"; value = confTime mtime; }
        { name = "uid"; value = toString uid; }
        { name = "gid"; value = toString gid; }
        { name = "uname"; value = uname; }
        { name = "gname"; value = gname; }
      ];
    };

  # A time as nixpkgs' conf step writes it (date -Iseconds -d TIME, in
  # the build's UTC: the whole second, +00:00), as the stream's workflow
  # converts its --created and --mtime (nix_conf_time), so that the conf
  # makes the stream's config: an offset or a fraction was kept.
  confTime = import ./time.nix;

  # nixpkgs' conf.json of a layered image l tagged tag
  # (streamLayeredImage's passthru.conf), which its streamScript reads:
  # the keys of l.confHead, store_layers (the plan, [] without store
  # paths), repo_tag, those of l.confTail. What it names (the base image,
  # the customisation layer, the plan's store paths) are its references.
  jsonMembers = ms: concatStringsSep "," (map (m: "${toJSON m.name}:${toJSON m.value}") ms);
  confOf = l: tag: mk {
    name = "${l.baseName}-conf.json";
    kind = "conf";
    args = [ (if l.layers == null then "" else l.layers) ];
    attrs = {
      passAsFile = [ "head" "tail" ];
      head = "{${jsonMembers l.confHead},\"store_layers\":";
      tail = ",${jsonMembers ([ (builtins.head l.confTail) { name = "repo_tag"; value = "${l.imageName}:${tag}"; } ] ++ builtins.tail l.confTail)}}\n";
    };
  };

  # nixpkgs' streamScript (streamLayeredImage's passthru): stream
  # CONF.json [-t NAME:TAG] writes the image of a conf.json to stdout:
  # stream-layered-image CONF.json, which writes the diff_ids and config
  # nixpkgs' stream_layered_image.py writes.
  streamScriptDrv = writeScript "stream" ''
    #!${shellPath}
    # nixpkgs' streamScript: "$(nix-build -A IMAGE.streamScript)" CONF.json [-t NAME:TAG] | docker load
    PATH=${runtimePath}''${PATH:+:$PATH}
    export PATH
    exec stream-layered-image "$@"
  '';

  # The body of a stream script running CMD (a workflow) with FLAGS:
  # without a tag, the tag is the hash of the script's own store path,
  # known once built (nixpkgs takes its conf.json's), so every input
  # changes it. Its arguments go to CMD, read first as nixpkgs' script
  # reads its one option, with Python's argparse: -t NAME:TAG, also
  # -tNAME:TAG, and --repo_tag by a prefix (--repo); with it, CMD gets no
  # --name and --tag (it gives them).
  streamBody = cmd: imageName: tag: flags: ''
    self=${builtins.placeholder "out"}
    ${if tag != null then "tag=${shq tag}" else "tag=\${self##*/}; tag=\${tag%%-*}"}
    PATH=${runtimePath}''${PATH:+:$PATH}
    export PATH
    n=$#
    for a; do
      case $a in
      -t?*) set -- "$@" --repo_tag "''${a#-t}" ;;
      --r | --re | --rep | --repo | --repo_ | --repo_t | --repo_ta) set -- "$@" --repo_tag ;;
      --r=* | --re=* | --rep=* | --repo=* | --repo_=* | --repo_t=* | --repo_ta=*) set -- "$@" "--repo_tag=''${a#*=}" ;;
      *) set -- "$@" "$a" ;;
      esac
    done
    shift "$n"
    for a; do
      case $a in
      -t | --repo_tag | --repo-tag | --repo_tag=* | --repo-tag=*)
        exec ${cmd} ${shArgs flags} "$@" ;;
      esac
    done
    exec ${cmd} --name ${shq imageName} --tag "$tag" ${shArgs flags} "$@"
  '';

  streamFrom = l: writeScript "stream-${l.baseName}" ''
    #!${shellPath}
    # Writes the image ${inComment l.imageName} to stdout as a docker-archive (nixpkgs'
    # streamLayeredImage):  "$(nix-build …)" | docker load
    # Arguments go to stream-layered-image: -t/--repo_tag NAME:TAG renames
    # the image, -q prints only errors.
    ${streamBody "stream-layered-image" l.imageName l.tag l.flags}'';

  # A functor, as nixpkgs' is (lib.makeOverridable makes one), whose
  # formal arguments, layered's, lib.functionArgs reads.
  streamLayeredImage = {
    __functionArgs = builtins.functionArgs layered;
    __functor = self: args:
      let
        l = layered args // { tag = args.tag or null; };
        stream = streamFrom l;
        imageTag = if l.tag != null then l.tag else hashPart stream;
      in
      # The user's passthru first, ours over it, as nixpkgs merges them:
      # imageTag says the tag the image has; conf and streamScript are
      # nixpkgs' (streamScript conf writes the image, as nixpkgs' does).
      withOverride self args (withPassthru stream (l.passthru // {
        inherit (l) imageName layers customisationLayer configFile;
        inherit imageTag;
        conf = confOf l imageTag;
        streamScript = streamScriptDrv;
        isExe = true;
      }) l.meta);
  };

  buildLayeredImage = args@{ name, compressor ? "gz", ... }:
    let
      streamArgs = removeAttrs args [ "compressor" ];
      l = layered streamArgs // { tag = args.tag or null; };
      stream = streamLayeredImage (removeAttrs streamArgs [ "meta" ]);
      ext = extensions.${checkCompressor compressor};
      image = mk {
        name = "${l.baseName}${if l.format == "oci" then "-oci" else ""}.tar${ext}";
        kind = "output";
        args = [ "build-layered-image" "-q" "--compressor" compressor "--name" l.imageName "--tag" stream.imageTag ]
          ++ l.flags;
      };
    in
    withOverride buildLayeredImage args (withPassthru image (l.passthru // {
      inherit (l) imageName layers customisationLayer configFile;
      inherit (stream) imageTag;
      inherit stream;
    }) l.meta);

  # --- buildImage (reference §2) ----------------------------------------

  buildImage =
    args@{ name
    , tag ? null
    , fromImage ? null
    , fromImageName ? null
    , fromImageTag ? null
    , copyToRoot ? null
    , contents ? null
    , keepContentsDirlinks ? false
    , config ? null
    , architecture ? defaultArchitecture
    , variant ? defaultVariant
    , extraCommands ? ""
    , uid ? 0
    , gid ? 0
    , runAsRoot ? null
    , diskSize ? 1024
    , buildVMMemorySize ? 512
    , created ? "1970-01-01T00:00:01Z"
    , compressor ? "gz"
    , includeNixDB ? false
    , meta ? { }
    , passthru ? { }
    }:
    assert checkTag "buildImage" tag;
    assert copyToRoot != null -> contents == null || throw "buildImage: contents is the old name of copyToRoot: give one of them";
    let
      # nixpkgs' runAsRoot layer takes no uid and gid: the script's chown
      # decides. Accepted, as there, and ignored, with a warning.
      ownerFlags =
        if uid == 0 && gid == 0 then [ ]
        else if runAsRoot == null then [ "--uid" uid "--gid" gid ]
        else builtins.trace "buildImage: uid and gid are ignored with runAsRoot, as in nixpkgs: the script's chown sets owners" [ ];
      baseName = baseNameOf name;
      imageName = lower name;
      copies = pathList (if copyToRoot != null then copyToRoot
        else if contents != null then builtins.trace "buildImage: contents is deprecated, use copyToRoot" contents
        else null);
      configFile = if config == null then null else writeText "${baseName}-config.json" (toJSON (dockerConfig config));
      # Scripts are files, so that the store paths they name are roots of
      # the closure Nix exports (a symlink the script makes is in it).
      # runAsRoot runs as nixpkgs' shellScript runs it: runtimeShell, set
      # -e, coreutils then the image's /bin on PATH, so an image without
      # /bin/sh or coreutils takes one. Without pkgs, busybox's sh (binSh)
      # when given, else the image's /bin/sh. The file names the shell, so
      # that it is in the closure bound into the script's sandbox.
      runAsRootShell = if pkgs != null then pkgs.runtimeShell else if busybox != null then "${binShDrv}/bin/sh" else null;
      runAsRootFile = if runAsRoot == null then null else writeText "${baseName}-run-as-root.sh" (
        (if runAsRootShell == null then "" else "# run by ${runAsRootShell}\n")
        + (if pkgs == null then "" else "export PATH=${pkgs.coreutils}/bin:/bin\n")
        + "${runAsRoot}");
      extraCommandsFile = if extraCommands == "" then null else writeText "${baseName}-extra-commands.sh" extraCommands;
      roots = filter (r: r != null) (copies ++ [ configFile runAsRootFile extraCommandsFile ]);
      ext = extensions.${checkCompressor compressor};
      # No tag: the hash of the same derivation without one, a hash of
      # every input. (nixpkgs takes the result's own hash, from $out at
      # build time, which a compressed archive cannot have rewritten when
      # nix-build --check builds it at another path: it would differ.)
      imageWith = tagValue: mk {
        name = "docker-image-${baseName}.tar${ext}";
        kind = "image";
        args = [ tagValue ] ++ roots ++ [ "--" "-q" "--name" imageName "--compressor" compressor ]
          ++ opt "--from-image" (if fromImage == null then null else archiveOf fromImage)
          ++ fromImageFlags "buildImage" fromImage fromImageName fromImageTag
          ++ concatMap (c: [ "--copy-to-root" c ]) copies
          ++ flagIf keepContentsDirlinks "--keep-contents-dirlinks"
          ++ flagIf includeNixDB "--include-nix-db"
          ++ opt "--config" configFile
          ++ opt "--extra-commands" (inBash (if runAsRoot == null then "stdenv" else "script") "buildImage: extraCommands" extraCommands)
          ++ opt "--run-as-root" runAsRootFile
          ++ (if runAsRootFile == null then [ ] else opt "--run-as-root-shell" runAsRootShell)
          ++ [ "--created" created ]
          ++ opt "--architecture" architecture
          ++ opt "--variant" variant
          ++ ownerFlags;
        graphRoots = roots;
      };
      imageTag = if tag != null then tag else hashPart (imageWith "");
      image = imageWith imageTag;
    in
    withOverride buildImage args (withPassthru image (passthru // { inherit imageName imageTag; buildArgs = args; }) meta);

  # --- nix-shell images (reference §4.7) --------------------------------

  # nixShell holds what streamNixShellImage and buildNixShellImage share.
  # The workflow reads the .drv itself (drv-env): drvPath's context makes
  # Nix build every input first, so the inputs are in the build's store.
  nixShell =
    { drv
    , name ? drv.name + "-env"
    , tag ? null
    , uid ? 1000
    , gid ? 1000
    , homeDirectory ? "/build"
    , shell ? defaultShell
    , command ? null
    , run ? null
    }:
    assert !(drv.drvAttrs.__structuredAttrs or false)
      || throw "streamNixShellImage: Does not work with the derivation ${drv.name} because it uses __structuredAttrs";
    assert checkTag "streamNixShellImage" tag;
    assert command == null || run == null || throw "streamNixShellImage: Can't specify both command and run";
    {
      inherit tag drv shell;
      baseName = baseNameOf name;
      imageName = lower name;
      flags = map str ([ "--drv" drv.drvPath "--shell" shell "--uid" uid "--gid" gid
        "--home-directory" homeDirectory "--store-dir" builtins.storeDir ]
        ++ opt "--command" command
        ++ opt "--run" run
        ++ opt "--ca-bundle" caFile);
    };

  streamNixShellImage = args:
    let
      s = nixShell args;
      # The builder puts the inputs' store paths in a comment after the
      # first line: they are the script's references, kept from garbage
      # collection until it runs (nixpkgs' stream script keeps them
      # through its conf.json).
      stream = mk {
        name = "stream-${s.baseName}";
        kind = "nix-shell-stream";
        args = [ s.drv.drvPath s.shell ];
        attrs = {
          passAsFile = [ "text" ];
          text = ''
            #!${shellPath}
            # Writes the nix-shell image ${inComment s.imageName} of ${inComment s.drv.name} to stdout as a
            # docker-archive (nixpkgs' streamNixShellImage):  "$(nix-build …)" | docker load
            # Arguments go to stream-nix-shell-image: -t/--repo_tag NAME:TAG
            # renames the image, -q prints only errors.
            ${streamBody "stream-nix-shell-image" s.imageName s.tag s.flags}'';
        };
      };
      imageTag = if s.tag != null then s.tag else hashPart stream;
    in
    # override, as nixpkgs' result has (its streamLayeredImage's): the tag
    # or the name given again (nix-shell images' own arguments here).
    withOverride streamNixShellImage args
      (withPassthru stream { inherit (s) imageName; inherit imageTag; isExe = true; } { });

  buildNixShellImage = args@{ drv, compressor ? "gz", ... }:
    let
      streamArgs = removeAttrs args [ "compressor" ];
      s = nixShell streamArgs;
      stream = streamNixShellImage streamArgs;
      image = mk {
        name = "${drv.name}-env.tar${extensions.${checkCompressor compressor}}";
        kind = "output";
        args = [ "build-nix-shell-image" "-q" "--compressor" compressor "--name" s.imageName "--tag" stream.imageTag ]
          ++ s.flags;
      };
    in
    withPassthru image { inherit (s) imageName; inherit (stream) imageTag; inherit stream; } { };

  # --- pulling, exporting, merging, pushing (reference §4) --------------

  pullImage =
    { imageName
    , imageDigest
    , sha256 ? null
    , hash ? null
    , outputHash ? null
    , outputHashAlgo ? null
    , os ? "linux"
    , arch ? goArch
    , variant ? defaultVariant
    , finalImageName ? imageName
    , finalImageTag ? "latest"
    , tlsVerify ? true
    , name ? replaceStrings [ "/" ":" ] [ "-" "-" ] "docker-image-${finalImageName}-${finalImageTag}.tar"
    }:
    assert length (filter (h: h != null) [ hash sha256 outputHash ]) == 1
      || throw "pullImage: give one of hash, sha256 and outputHash";
    # As the image functions' empty tag: the archive would be tagged by its
    # config's digest while passthru.imageTag said "".
    assert finalImageTag != "" || throw "pullImage: finalImageTag is empty: give a tag (default latest)";
    # A name with a URL's user and password (alice:TOKEN@ghcr.io/app, as
    # git takes them) was written into the derivation, which the store
    # keeps readable by every user, before pull-image refused it in the
    # build. Refused here, while evaluating, and not shown.
    assert nameRefused imageName == null || throw "pullImage: imageName holds ${nameRefused imageName} (not shown: it may hold credentials, which would be written into the world-readable store): give the repository, REGISTRY/PATH; the digest goes in imageDigest; a pull takes no credentials";
    assert nameRefused finalImageName == null || throw "pullImage: finalImageName holds ${nameRefused finalImageName} (not shown: it may hold credentials, which would be written into the world-readable store): give NAME";
    let
      # nixpkgs' normalizeHash: an empty hash is a fake one, so that the
      # build fails with a hash mismatch saying the right one.
      fixed =
        if outputHash != null then { inherit outputHash outputHashAlgo; }
        else if hash != null then { outputHashAlgo = null; outputHash = if hash == "" then fakeHash else hash; }
        else { outputHashAlgo = "sha256"; outputHash = if sha256 == "" then fakeSha256 else sha256; };
      drv = mk {
        inherit name;
        kind = "output";
        args = [ "pull-image" "-q" "--image-name" imageName "--image-digest" imageDigest
          "--final-image-name" finalImageName "--final-image-tag" finalImageTag
          "--os" os "--arch" arch "--tls-verify=${if tlsVerify then "true" else "false"}" ]
          ++ opt "--variant" variant;
        # A fixed-output derivation: Nix checks the archive against the
        # hash (flat, as nixpkgs pins skopeo's archive) and lets it reach
        # the network in a sandbox.
        attrs = fixed // {
          outputHashMode = "flat";
          impureEnvVars = [ "http_proxy" "https_proxy" "no_proxy" "HTTP_PROXY" "HTTPS_PROXY" "NO_PROXY" ];
        } // (if pullCaFile == null then { } else { SSL_CERT_FILE = pullCaFile; });
      };
    in
    withPassthru drv {
      inherit imageDigest;
      imageName = finalImageName;
      imageTag = finalImageTag;
    } { };

  exportImage =
    { fromImage
    , fromImageName ? null
    , fromImageTag ? null
    , diskSize ? 1024
    , name ? null
    }:
    mk {
      name = if name != null then name
        else removeSuffix ".zst" (removeSuffix ".gz" (nameOf fromImage));
      kind = "output";
      args = [ "export-image" "--from-image" (archiveOf fromImage) ]
        ++ fromImageFlags "exportImage" fromImage fromImageName fromImageTag;
    };

  # mergeImages [ a b ] as nixpkgs, or { images, compressor ? …, name ? …,
  # platform ? null }. The output is compressed as the last input is
  # (nixpkgs' rule, read from its name: .gz, .zst, else none) unless
  # compressor says otherwise. Of a multi-platform image (buildIndex's),
  # the image for platform, "OS/ARCH[/VARIANT]" (default: the building
  # machine's, as merge-images chooses).
  mergeImages = arg:
    let
      a = if isList arg then { images = arg; } else arg;
      images = map archiveOf (pathList a.images);
      last = if images == [ ] then "" else nameOf (builtins.elemAt images (length images - 1));
      compressor = a.compressor or (if hasSuffix ".gz" last then "gz" else if hasSuffix ".zst" last then "zstd" else "none");
      platform = a.platform or null;
    in
    assert images != [ ] || throw "mergeImages: no images";
    # Empty (builtins.getEnv of an unset variable) is a mistake, as
    # merge-images --platform "" is, not the building machine's.
    assert platform != "" || throw "mergeImages: platform is empty: give OS/ARCH[/VARIANT], or null for the building machine's";
    mk {
      name = a.name or "merge-docker-images";
      kind = "output";
      args = [ "merge-images" "--compressor" (checkCompressor compressor) ]
        ++ opt "--platform" platform ++ images;
    };

  # buildIndex { images, layerCompression ? null, tag ? null, name ? … }
  # (new): images built for several platforms (their configs' os and
  # architecture, such as buildLayeredImage's architecture) assembled by
  # build-index into one OCI image index, an OCI layout tar; pushImage
  # pushes it as one tag. tag ("NAME[:TAG]") names it in index.json, for
  # podman load and ctr images import.
  buildIndex = { images, layerCompression ? null, tag ? null, name ? "multi-platform-image.tar" }:
    assert images != [ ] || throw "buildIndex: no images";
    # opt drops "": an unset variable's tag would name nothing, silently.
    assert tag != "" || throw "buildIndex: tag is empty: give NAME[:TAG], or null for an index without a name";
    mk {
      inherit name;
      kind = "output";
      args = [ "build-index" ] ++ opt "--layer-compression" layerCompression ++ opt "--tag" tag ++ map archiveOf images;
    };

  # pushImage { image, dest ? null, … }: a runnable script, as
  # nix2container's copyToRegistry:  "$(nix-build -A push)" [--dest REG/REPO:TAG]
  # Extra arguments go to push-image (--creds-file FILE, --cache, -v, …;
  # --creds USER:PASS too, but other users see it in the process list;
  # --archive-image NAME[:TAG] or @N for one image of a mergeImages output,
  # which is refused whole).
  pushImage =
    { image
    , dest ? null
    , tlsVerify ? true
    , layerCompression ? null
    , name ? "push-${baseNameOf (nameOf image)}"
    }:
    # As pullImage's imageName: a dest with a URL's user and password
    # (alice:TOKEN@ghcr.io/app:1) was written into the script, which the
    # store keeps readable by every user.
    assert dest == null || nameRefused dest == null || throw "pushImage: dest holds ${nameRefused dest} (not shown: it may hold credentials, which would be written into the world-readable store): give REGISTRY/REPO:TAG; credentials go to the script when it runs (--creds-file FILE)";
    let
      flags = opt "--dest" dest ++ opt "--layer-compression" layerCompression
        ++ flagIf (!tlsVerify) "--tls-verify=false";
      run = if image.isExe or false
        then ''${shq image} | push-image --image - ${shArgs flags} "$@"''
        else ''exec push-image --image ${shq image} ${shArgs flags} "$@"'';
    in
    writeScript name ''
      #!${shellPath}
      # Pushes ${inComment (baseNameOf (nameOf image))} with push-image (only the blobs the registry lacks).
      set -e
      PATH=${runtimePath}''${PATH:+:$PATH}
      export PATH
      ${run}
    '';

  # --- contents helpers (reference §4.4, §4.6) --------------------------

  # fakeNss is overridable as nixpkgs' (callPackage's override: new
  # arguments merged into the old ones, or a function of them).
  fakeNssWith = args@{ extraPasswdLines ? [ ], extraGroupLines ? [ ] }:
    withOverride fakeNssWith args (mk {
      name = "fake-nss";
      kind = "output";
      args = [ "fake-nss" ]
        ++ concatMap (l: [ "--extra-passwd" l ]) extraPasswdLines
        ++ concatMap (l: [ "--extra-group" l ]) extraGroupLines;
    });

  links = name: pairs: mk { inherit name; kind = "links"; args = concatMap (p: [ p.name p.value ]) pairs; };
  needs = what: x: if x != null then x else throw "dockertools-go: ${what} needs pkgs, or the busybox argument";
  # busybox as a string without context ("/nix/store/…" from a shell) is
  # no input of the derivations: Nix's sandbox would not show it. A store
  # path is taken as one (storePath), another directory imported.
  busyboxDir =
    if !(isString busybox) || builtins.hasContext busybox then busybox
    else if substring 0 (stringLength builtins.storeDir + 1) busybox == builtins.storeDir + "/" then builtins.storePath busybox
    else builtins.path { path = busybox; name = "busybox"; };
  busyboxBin = if busybox == null then null else "${busyboxDir}/bin/busybox";

  caBundle =
    if pkgs != null then "${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt"
    else if cacert != null then
      (if isString cacert && builtins.substring 0 1 cacert == "/" && !(builtins.hasContext cacert)
       then builtins.path { path = cacert; name = "ca-bundle.crt"; } else cacert)
    else if builtins.pathExists /etc/ssl/certs/ca-certificates.crt then
      builtins.path { path = /etc/ssl/certs/ca-certificates.crt; name = "ca-bundle.crt"; }
    else throw "dockertools-go: caCertificates needs pkgs, the cacert argument, or /etc/ssl/certs/ca-certificates.crt";

  # pullImage's CA bundle (SSL_CERT_FILE, as nixpkgs'): Nix's sandbox has
  # no /etc/ssl. A copy of caBundle under its own store path: a
  # fixed-output derivation must not name its inputs (Nix 2.8 aborts,
  # later ones refuse), and an image pulled may hold caCertificates.
  pullCaFile =
    if pkgs != null || cacert != null || builtins.pathExists /etc/ssl/certs/ca-certificates.crt
    then mk { name = "pull-image-ca-bundle.crt"; kind = "stdout"; args = [ "cat" caBundle ]; }
    else null;

  binShDrv = links "bin-sh" [
    { name = "bin/sh"; value = if pkgs != null then "${pkgs.bashInteractive}/bin/bash" else needs "binSh" busyboxBin; }
  ];
  # nix-shell images' shell: nixpkgs' bash; without pkgs, busybox as sh.
  defaultShell = if pkgs != null then "${pkgs.bashInteractive}/bin/bash" else "${binShDrv}/bin/sh";
  # The bundle SSL_CERT_FILE names in a nix-shell image, when one is given.
  caFile = if pkgs != null || cacert != null then caBundle else null;

  # nixpkgs' shellScript NAME TEXT: an executable script of TEXT, with
  # set -e and coreutils (then the image's /bin) on PATH, for runAsRoot or
  # an Entrypoint. Without pkgs, busybox as sh (binSh) runs it and PATH
  # is the image's /bin.
  shellScript = name: text: writeScript name ''
    #!${if pkgs != null then pkgs.runtimeShell else builtins.seq (needs "shellScript" busyboxBin) "${binShDrv}/bin/sh"}
    set -e
    export PATH=${if pkgs != null then "${pkgs.coreutils}/bin:/bin" else "/bin"}
    ${text}
  '';

  shadowSetupScript = mk {
    name = "shadow-setup.sh";
    kind = "stdout";
    args = [ "shadow-setup" ];
  };
in
{
  inherit streamLayeredImage buildLayeredImage buildImage pullImage exportImage mergeImages buildIndex pushImage
    streamNixShellImage buildNixShellImage shellScript;

  # nixpkgs' *WithNixDb: the same with includeNixDB (reference §4.5).
  buildImageWithNixDb = args: buildImage (args // { includeNixDB = true; });
  buildLayeredImageWithNixDb = args: buildLayeredImage (args // { includeNixDB = true; });

  # The tools and workflows the derivations run.
  tools = toolsDrv;

  # A snippet for runAsRoot (or fakeRootCommands with enableFakechroot)
  # that sources shadow-setup's script from the store (bound read-only
  # there); with pkgs, shadow's useradd and groupadd come first on PATH, as
  # in nixpkgs.
  shadowSetup = (if pkgs != null then "export PATH=${pkgs.shadow}/bin:$PATH\n" else "")
    + ". ${shadowSetupScript}\n";

  fakeNss = fakeNssWith { };

  usrBinEnv = links "usr-bin-env" [
    { name = "usr/bin/env"; value = if pkgs != null then "${pkgs.coreutils}/bin/env" else needs "usrBinEnv" busyboxBin; }
  ];
  binSh = binShDrv;
  caCertificates = links "ca-certificates" [
    { name = "etc/ssl/certs/ca-bundle.crt"; value = caBundle; }
    { name = "etc/ssl/certs/ca-certificates.crt"; value = caBundle; }
    { name = "etc/pki/tls/certs/ca-bundle.crt"; value = caBundle; }
  ];
}
