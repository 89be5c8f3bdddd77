// Popularity orders the store paths of a closure graph and splits them into
// layers, as nixpkgs' buildLayeredImage and streamLayeredImage do.
//
// Usage:
//
//	popularity [--max N] [--base-layers K] [--exclude PATH]... [--strategy popularity|size] [--list] [--key KEY] [GRAPH]
//	popularity --pipeline FILE|JSON [--base-layers K] [--exclude PATH]... [--list] [--key KEY] [GRAPH]
//
// Input: a closure graph (docs/formats.md, section 1) from the file GRAPH,
// or from stdin when GRAPH is - or absent. Every shape Nix writes is read:
// our canonical array, the array or the object keyed by path of
// `nix path-info --json --recursive`, and exportReferencesGraph's
// structured-attrs file {"KEY": [...]} (--key names the member; by default
// the object's only array member). Only path, references and narSize are
// used. The same graph in any shape gives the same output. Paths are UTF-8
// text on one line: a graph that is not UTF-8, or a path that holds a NUL
// or a newline, is bad input.
//
// Output: a layer plan (docs/formats.md, section 2) on stdout: a JSON array
// of layers, bottom first, each an array of store paths. With --list, the
// paths one per line instead, in the strategy's order and unsplit.
//
// # Layer budget
//
// --max N is the image's total number of layers, as nixpkgs' maxLayers
// (default 100): K base-image layers (--base-layers), the store layers and
// the customisation layer. So the plan has at most N − 1 − K layers. When
// that leaves no store layer (--max 1, or N ≤ K + 1) it is a usage error,
// as it is in nixpkgs; so is N above 125, the layers runtimes accept
// (nixpkgs builds an image none loads).
//
// # Strategy popularity (default)
//
// The order of nixpkgs' referencesByPopularity (closure-graph.py, reference
// §6.1), exactly:
//
//   - Self-references are ignored. Roots are the paths that no other path
//     references.
//   - R(u) is the number of distinct reference paths from any root to u; a
//     root has R = 1.
//   - popularity(x) is the sum of R(u) over x itself and every path that
//     references x, directly or through others.
//   - Most popular first. Equal popularities are ordered by the key that
//     moves the path's first "-"-separated piece to the end
//     ("/nix/store/abc-hello-2.12" has the key "hello-2.12-/nix/store/abc"),
//     ascending in byte order: by name, then version, then hash.
//
// Counts are exact however large they grow (in a chain where each path
// references the next two they pass 2^64 within 100 paths), so the order
// never suffers from overflow or rounding. What they may take is bounded:
// a graph whose counts would need more than 128 MiB (paths × the bits of
// the largest count / 8; in that chain, 0.69 bits per path, so 60,000
// paths pass it) is refused as too large, before the memory is taken;
// 1,000,000 paths of uniformly drawn references need 24 MB.
//
// The remainder: paths without a finite popularity, that is, those no root
// reaches (only a cycle of references between different paths leads to
// them) and those on or below a cycle that a root reaches. closure-graph.py
// appends the first kind in Python's random set order and fails outright
// on the second. Here both come after the ranked paths, ordered by the
// same key. A path a root reaches is ranked even when a rootless cycle
// references it too; the cycle adds nothing to its popularity. (Nix
// forbids such cycles; -v says how many paths were not ranked.)
//
// The split is nixpkgs' classic one (reference §6.2): with A = N − 1 − K
// store layers, the A − 1 most popular paths get a layer each and one more
// layer holds all the rest in order. Fewer paths than layers gives one layer
// per path, with no empty layer, as nixpkgs' pipeline of G2 makes too
// (its empty last graph is left out; see limit_layers below).
//
// # Strategy size
//
// nixpkgs' newest default, auto-layer.py (reference §6.4), with A = N − 1 − K
// as its layer limit. In short: the largest path by narSize becomes a
// primary path P with a layer of its own; every path P depends on moves to
// a layer named by the set of primary paths that depend on it but not on
// each other; the next largest path is taken while the number of distinct
// layers stays within A. Then:
//
//   - Paths of equal narSize are taken in reverse path order (the largest
//     path string first), as Python does with Nix's path-sorted input.
//   - Paths inside a layer are sorted by (name, hash), where hash is the
//     path up to its first "-" and name the rest; a path without "-" has an
//     empty name.
//   - Layers are ordered by closure size (the narSize sum of everything
//     the layer's paths reference, themselves included), ascending. Where
//     Python's order depends on its hash seed, equal closure sizes, the
//     layer whose first path sorts first (by the previous rule) comes first.
//
// --exclude paths take part in the split and are then removed; a layer left
// empty is dropped, so the plan can have fewer than A layers.
//
// # Excluded roots
//
// nixpkgs ranks the closure of two roots that are not store paths: the
// image configuration and the customisation layer. closure-scan adds such
// roots to the graph with --extra-root; --exclude PATH ranks with them and
// leaves them out of the output, as nixpkgs does. Matching is exact (nixpkgs
// matches substrings); naming a path that is not in the graph is an error.
//
// # Layering pipelines (--pipeline)
//
// --pipeline splits by a layering pipeline, nixpkgs' layeringPipeline
// (flatten_references_graph, reference §6.3): the JSON pipeline itself
// when the value starts with "[", else a file holding it. As in nixpkgs,
// --max is then ignored; --base-layers still counts against the 125
// layers runtimes accept (nixpkgs would build an image none loads): base
// layers that leave no room for a store layer and the customisation layer
// are a usage error, a plan that makes the image too big bad input.
//
// The graph is prepared as nixpkgs prepares it: the --exclude paths and
// the references to them are removed first (so they change the roots, and
// the popularity, unlike the strategies above), and the rest is ordered
// by narSize, ascending, ties in path order (Nix's order). That is the
// order of the nodes of the graph the pipeline starts from.
//
// A pipeline is a list of steps, each a list of a function name and its
// arguments, applied in turn, each to what the one before made. Values
// are graphs (nodes in order, with the references between them), lists,
// and dicts holding some of the keys main, common and rest:
//
//	popularity_contest          graph → list of one-path graphs, in the
//	                            order of the popularity strategy
//	limit_layers N              list → the first N−1 items as they
//	                            are, then one graph of all the rest
//	                            (see below)
//	split_every N               graph → list of graphs of N paths, in order
//	subcomponent_out PATHS      graph → {main: PATHS and everything they
//	                            reference, directly or not; rest: the others}
//	subcomponent_in PATHS       graph → {main: PATHS and everything that
//	                            references them; rest: the others}
//	split_paths SPLIT           graph → {main, common, rest}, see below
//	remove_paths PATHS          graph → the graph without PATHS
//	over KEY STEP               dict → the dict with STEP applied to KEY
//	map STEP                    list → STEP applied to each item
//	reverse                     list → the list reversed
//	flatten                     any → the list of its graphs, depth first
//	pipe [STEP...]              any → the steps applied in turn
//
// PATHS is a list of store paths; SPLIT is a list of store paths and
// {"children_of": PATHS} objects (every path PATHS reference). Where
// remove_paths and children_of take a store path alone as a list of it,
// the others take a string or an object given for the list as nixpkgs'
// Python does, iterated: the string's characters (so a store path alone
// matches nothing) or the object's keys are the paths (-v says so). Paths
// that are not in the graph at hand are ignored (-v names those not in the
// graph at all). split_paths returns {rest: the graph} when no split path
// is in it, and {main: the graph} when the graph's only root is one; else
// main is the split paths and what only they reach, common what they and
// the other roots reach, and rest the other paths; an empty part is left
// out. The graph main comes from has no references into the split paths
// (nixpkgs deletes them), and a graph limit_layers merges keeps only the
// references within each of the graphs merged (igraph's disjoint union):
// a later step sees the references nixpkgs' graphs have.
//
// limit_layers merges as nixpkgs does (lib.py's merge_graphs, in
// pkgs/by-name/fl/flatten-references-graph at commit 72a5559): the rest
// is added with Python's + to an empty graph, so fewer than N items are
// followed by an empty graph (no layer, but a later reverse or
// limit_layers counts it), and a graph plus a list of graphs is their
// union: the lists split_every makes are merged into the graph too, which
// leaves a list of lists and a graph (map takes it for no step; Python
// fails there). The lists the other functions make are iterators in
// Python, which + cannot add to a graph: merging one is an error, found
// when the step runs, as nixpkgs fails there.
//
// The result is flattened: each graph is a layer, its paths in its order,
// dict values in the order main, common, rest. An empty graph (say main
// of subcomponent_out PATHS, none of them in the graph) makes no layer:
// nixpkgs' flatten_references_graph.py leaves empty layers out of its
// output (pkgs/by-name/fl/flatten-references-graph, commit 624f3d1), so
// its image has no layer of /nix alone either. A pipeline that ends with a
// graph (the empty pipeline [] too) makes one layer of it.
//
// Where this differs from nixpkgs' Python:
//
//   - map over the list of lists and a graph limit_layers makes of lists
//     is refused even for a step that does nothing (["pipe", []]), which
//     Python runs; any other step fails there.
//   - over KEY on a dict without KEY (split_paths leaves empty parts out)
//     keeps the dict as it is; Python fails (KeyError).
//   - split_paths puts the paths no root reaches (only a cycle of
//     references between paths leads to them, which Nix never makes) in
//     rest; Python leaves them out of every part, so out of the image.
//   - popularity_contest orders the paths on or below a cycle as the
//     popularity strategy does (Python appends them in random order or
//     fails).
//   - A pipeline that ends with a graph (the empty one, or one ending
//     with remove_paths) makes one layer of it, and flatten of a graph a
//     list of it; Python fails there ("'Graph' object is not iterable").
//   - A step given a kind of value it does not take, an unknown function,
//     a wrong number of arguments or an argument of the wrong type is an
//     error naming the step, found before the graph is read: steps are
//     numbered from 1, and 3.2 is the second step inside step 3 (the step
//     of over and map is N.1).
//
// For example, the closure of one package in layers of its own, by
// popularity, then the rest of the closure by popularity in at most 50
// layers:
//
//	popularity --pipeline '[["subcomponent_out", ["/nix/store/…-perl-5.38"]],
//	    ["over", "main", ["pipe", [["popularity_contest"], ["limit_layers", 20]]]],
//	    ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 50]]]]]' graph.json
//
// # Complexity
//
// N paths, M references, counts of w 64-bit words. Popularity: reading, R
// and sorting take O((N+M)·w + N·log N). Summing R over ancestor sets takes
// one pass over the paths below each block of 2048 ancestors (those
// paths only, and the references out of them), with bitsets:
// O(N·(N+M)/64) word operations at worst, far less where a path's ancestors
// in a block are all or none of them, as in real closures; blocks hold
// paths of equal or near height (longest reference path down), which makes
// that more common, and are shared by all CPUs. Memory: O(N·w) words plus
// at most about 300 bytes per path and 8 per reference per CPU. `make
// bench` times 100,000 and 1,000,000 paths with about 8 references each
// (popularity), and with 8 references each drawn uniformly, broad and
// irregular ancestor sets (popularity-uniform): there the passes cost
// O(N²), a block's bits partly set for most paths below it.
//
// Size: each round searches the dependencies and users of one path, O(N+M),
// and in a DAG there are at most A + 1 rounds (every accepted round adds a
// layer); closure sizes take one search per layer: O(A·(N+M)). With
// reference cycles a round may add no layer, up to N rounds.
//
// # Exit status
//
// 0 when the output is complete; 1 for bad input (unreadable or malformed
// JSON, a reference to a path not in the graph, a path listed twice or not
// UTF-8 on one line, an --exclude path not in the graph; a --pipeline that
// cannot be read, is a file of more than 16 MiB, is not JSON or is not a
// valid pipeline, or makes more layers than runtimes accept) with one line
// on stderr and nothing on stdout; 2 for a usage error (such as --max
// above 125, --base-layers 124 or more, with --pipeline or without, or
// --pipeline with --strategy size), found before any input is read.
//
// # Examples
//
// The store layers of an image of ./result with at most 100 layers:
//
//	closure-scan ./result | popularity --max 100 | layer-pack | manifest-gen --name hello > hello.tar
//
// The same with nixpkgs' closure roots, on top of a 3-layer base image:
//
//	closure-scan --extra-root "$conf" --extra-root "$custom" ./result |
//	  popularity --max 100 --base-layers 3 --exclude "$conf" --exclude "$custom"
//
// The popularity order of a Nix closure:
//
//	nix path-info --json --recursive ./result | popularity --list
package main
