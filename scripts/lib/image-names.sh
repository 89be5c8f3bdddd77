# image-names.sh: the image names and tags the workflows are given
# (POSIX sh, sourced by common.sh): -t/--repo_tag NAME:TAG split as
# nixpkgs' stream script splits it, pull-image's --final-image-name and
# --final-image-tag, and the names refused before any work: upper case a
# name written as given would carry into an image docker load refuses,
# and a name holding an @ or a scheme, which may hold credentials and is
# then not shown.

# check_final_ref checks the name and tag pull-image writes into the
# archive (final_name, final_tag) before any download, by manifest-gen,
# which writes them (a name it refuses stopped the pull only once blobs
# came in). An empty tag ("$TAG" unset) is refused: manifest-gen would
# read it as no tag and tag the image by its config's digest. A tag in
# the name (nixpkgs' finalImageName = "nginx:1") is refused in the
# workflow's words: manifest-gen's named its own --name and --tag.
check_final_ref() {
	[ -n "$final_tag" ] || usage_error "--final-image-tag \"\": want a tag (leave it out for latest)"
	case ${final_name##*/} in
	*:*) usage_error "--final-image-name \"$final_name\": a name without a tag; the tag goes in --final-image-tag" ;;
	esac
	name_lower_case "--final-image-name" "$final_name"
	# With no upper case in its path, the name is as valid as given (the
	# pull writes it so, --repo-tag) as lower-cased (--name, whose words
	# the errors use).
	check_flags manifest-gen --name "$final_name" --tag "$final_tag"
}

# refuse_name OPTION VALUE WANT refuses VALUE, an image name holding an
# @ or a scheme, saying what it should be (WANT). It is shown only when
# its one @ is followed by a digest: alice:TOKEN@ghcr.io/app (a URL's
# user and password, as git takes them) would go to the terminal, or a
# CI job's log, as pullImage refuses it unshown.
refuse_name() {
	case $2 in
	*://* | *@*@*) ;;
	*@sha256:* | *@sha384:* | *@sha512:* | *@blake3:*) usage_error "$1 \"$2\": $3" ;;
	esac
	usage_error "$1 holds an @ not followed by a digest, or a scheme (not shown: it may hold credentials): $3"
}

# split_repo_tag sets name and tag from repo_tag (-t, --repo_tag
# NAME:TAG, nixpkgs' stream script's option), when it was given
# (repo_tag_seen): the tag is what follows the last colon that is not
# part of a registry host's port (a colon followed by a slash), latest
# when there is none. An empty one ("$TAG" unset), or an empty half of
# it ("NAME:", ":TAG"), is a usage error: it would give the default's
# name or tag without a word (nixpkgs writes "NAME:", which docker load
# refuses). A digest ("NAME@sha256:...") names no tag: refused here, in -t's
# words (split, it reached manifest-gen as --name "NAME@sha256"). It sets
# tag_seen: the tag goes to manifest-gen, as --repo-tag NAME:TAG, which
# writes it as given (nixpkgs' script does) and checks it; upper case in
# the repository's path (not a registry host's: docker's rule), which
# docker load refuses, is refused here in -t's words first.
split_repo_tag() {
	[ -n "$repo_tag_seen" ] || return 0
	[ -n "$repo_tag" ] || usage_error "--repo_tag \"\": want NAME[:TAG]"
	[ -z "$name$tag$tag_seen" ] || usage_error "--repo_tag gives the name and tag; drop --name and --tag"
	case $repo_tag in *@*) usage_error "--repo_tag \"$repo_tag\": a digest names no tag: want NAME[:TAG]" ;; esac
	name=${repo_tag%:*} tag=${repo_tag##*:} tag_seen=1
	case $tag in */*) name=$repo_tag tag= ;; esac
	[ "$name" != "$repo_tag" ] || tag=latest
	[ -n "$name" ] && [ -n "$tag" ] || usage_error "--repo_tag \"$repo_tag\": want NAME[:TAG]"
	name_lower_case "--repo_tag \"$repo_tag\"" "$name" ", or give it as --name, which is lower-cased as nixpkgs lower-cases name"
}

# name_lower_case WHAT NAME [HINT]: a usage error when NAME, a name written
# into an image as given (-t, --final-image-name: nixpkgs writes them so),
# has upper case in its repository path, which docker load and skopeo
# refuse ("repository name must be lowercase"); a registry host's (the
# first component, with a dot or colon, or localhost) may have it, as
# docker's rule is. Refused, not lower-cased: that is another name.
name_lower_case() {
	nl_path=$2
	case ${2%%/*} in
	*.* | *:* | localhost) nl_path=${2#*/} ;;
	esac
	case $nl_path in
	*[ABCDEFGHIJKLMNOPQRSTUVWXYZ]*)
		usage_error "$1: \"$2\" is not a repository name docker accepts: upper case outside the registry host (nixpkgs would write it as given, and docker load refuse it); write it in lower case${3-}"
		;;
	esac
}
