package archive

// savedPlatforms adds the other platforms of the multi-platform images a
// docker save holds. Docker 25 and later write an OCI layout beside
// manifest.json; with the containerd image store (the default of new
// Docker Engine installs since 29, and of Docker Desktop) index.json then
// names an image's index, while manifest.json lists one image of it only:
// the one for the platform of the daemon that saved it, which is not the
// one for the platform being built or run here when the archive was saved
// elsewhere (an arm64 Mac, an amd64 CI). So the image manifest.json lists
// gets Index and Platform, and the index's other images follow it with its
// RepoTags, as an OCI layout's would: FindFor and FindDefault then choose
// among them, Find still takes manifest.json's.
//
// Only images whose blobs are all in the archive count: docker save skips
// the manifests of platforms it never pulled, and the config and layers of
// those whose content is incomplete (containerd's WithSkipMissing), and
// those images are no images here. Attestation manifests (platform
// unknown/unknown) and artifacts are no images either. An index with one
// complete image (one platform pulled of many) adds none, but its image
// gets Index all the same: FindFor another platform then says that the
// archive has none, as it does for an OCI index of one image, rather
// than give this one. MultiPlatform stays false: Groups gives the images
// of the index together (push-blob pushes them as an index).
func (a *Archive) savedPlatforms() error {
	idx, err := a.readIndexJSON()
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, d := range idx.Manifests {
		if d.MediaType != mediaOCIIndex && d.MediaType != mediaDockerList || done[d.Digest] || !a.hasBlob(d.Digest) {
			continue
		}
		done[d.Digest] = true
		images, err := a.completeImages(d, d.Digest, 1, map[string]bool{})
		if err != nil {
			return err
		}
		a.attach(d, images)
	}
	return nil
}

// completeImages reads the image index d and returns its images whose
// manifest, config and layers the archive holds, in its order, with those
// of the indexes it nests (at most maxIndexDepth deep, each read once:
// seen), in their place; a manifest listed again (by a nested index) is
// the image it was, not another for its platform. root is the index index.json names (Image.Index),
// at depth 1 (as walkIndex counts).
func (a *Archive) completeImages(d descriptor, root string, depth int, seen map[string]bool) ([]*Image, error) {
	if depth > maxIndexDepth {
		return nil, invalid("index %s: indexes nested more than %d deep", d.Digest, maxIndexDepth)
	}
	index, err := a.readDoc(d)
	if err != nil || depth > 1 && isReferrerIndex(index) {
		return nil, err
	}
	var images []*Image
	for _, m := range index.Manifests {
		if (m.MediaType == mediaOCIIndex || m.MediaType == mediaDockerList) && !seen[m.Digest] && a.hasBlob(m.Digest) {
			seen[m.Digest] = true
			nested, err := a.completeImages(m, root, depth+1, seen)
			if err != nil {
				return nil, err
			}
			images = append(images, nested...)
			continue
		}
		if m.Platform != nil && m.Platform.OS == "unknown" ||
			m.MediaType != mediaOCIManifest && m.MediaType != mediaDockerV2 || !a.hasBlob(m.Digest) || seen[m.Digest] {
			continue
		}
		seen[m.Digest] = true
		doc, err := a.readDoc(m)
		if err != nil {
			return nil, err
		}
		if doc.Config == nil || isArtifact(doc) || !a.hasBlob(doc.Config.Digest) {
			continue
		}
		complete := true
		for _, l := range doc.Layers {
			complete = complete && a.hasBlob(l.Digest)
		}
		if !complete {
			continue
		}
		img, err := a.ociImage(m, doc, nil)
		if err != nil {
			return nil, err
		}
		img.Index = root
		if m.Platform != nil && m.Platform.OS != "" && m.Platform.Architecture != "" {
			img.Platform = m.Platform
		}
		images = append(images, img)
	}
	return images, nil
}

// attach finds the image manifest.json lists for the index d (the one of
// its names, or of none when d has none, whose config is one of images')
// and puts the index's other images after it.
func (a *Archive) attach(d descriptor, images []*Image) {
	name := d.Annotations[annotationImageRef]
	for at, own := range a.Images {
		if own.Index != "" || (name == "" && len(own.RepoTags) > 0) || (name != "" && !tagged(own, name, "")) {
			continue
		}
		var others []*Image
		for _, img := range images {
			if img.ConfigDigest == own.ConfigDigest && own.Index == "" {
				own.Index, own.Platform = d.Digest, img.Platform
				continue
			}
			img.RepoTags = own.RepoTags
			others = append(others, img)
		}
		if own.Index == "" {
			continue
		}
		a.Images = append(a.Images[:at+1], append(others, a.Images[at+1:]...)...)
		return
	}
}

// hasBlob reports whether the archive holds the blob digest.
func (a *Archive) hasBlob(digest string) bool {
	return validDigest(digest) && a.has(blobPath(digest))
}
