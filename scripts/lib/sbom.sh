# sbom.sh: the --sbom FORMAT flag of the workflows that write a file
# (build-layered-image, build-image), sourced after common.sh. The SBOM of
# the image (manifest-gen --sbom-graph: imgkit/sbom says what is in it) is
# written beside -o OUT as OUT.cdx.json (cyclonedx) and OUT.spdx.json
# (spdx), which manifest-gen renames into place with the image (two
# builds of one OUT at once leave one build's image and SBOMs, never a
# mix). The workflow collects the formats with sbom_add, calls sbom_check
# OUT before any work, and gives manifest-gen -o OUT, --sbom-graph and
# --sbom-FORMAT OUT$(sbom_suffix FORMAT) for each.

# sbom_add LIST FORMAT prints LIST with FORMAT (cyclonedx or spdx) added,
# once.
sbom_add() {
	case $2 in cyclonedx | spdx) ;; *) usage_error "--sbom \"$2\": want cyclonedx or spdx" ;; esac
	case " $1 " in *" $2 "*) printf '%s\n' "$1" ;; *) printf '%s\n' "${1:+$1 }$2" ;; esac
}

# sbom_suffix FORMAT is the file suffix of FORMAT.
sbom_suffix() {
	case $1 in cyclonedx) echo .cdx.json ;; spdx) echo .spdx.json ;; esac
}

# sbom_check OUT: a usage error unless each SBOM file beside OUT may be
# written.
sbom_check() {
	for sb_f in $sbom_formats; do check_output "$1$(sbom_suffix "$sb_f")" "--sbom $sb_f:"; done
}
