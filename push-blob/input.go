package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/tarsafe"
)

// pushLayer is one layer of the image to push, as the input has it.
type pushLayer struct {
	index  int
	diffID string
	// size is the layer tar's length, -1 when only decompressing tells.
	size int64
	// ref is set for a reference layer: no bytes, only blobs the
	// registry should hold.
	ref *layerstream.Ref
	// stored is the layer as the input stores it (nil for a reference),
	// compressed as storedKind; storedDigest is its digest when known
	// without reading it (an OCI blob's name, an uncompressed layer's
	// diff_id).
	stored       *io.SectionReader
	storedKind   compress.Kind
	storedDigest string
	// open returns the layer tar, verified against diffID at EOF.
	open func() (io.ReadCloser, error)
	// release frees what holds the layer (a spool file); may be nil.
	release func()
}

// image is what is pushed. produce sends its layers, bottom first, as they
// become known, and then returns the config; close releases the input.
type image struct {
	name string // for messages: the file, or stdin
	// randomAccess: holding a layer costs nothing (an archive); a
	// stream's layers are spooled, so only --jobs are held at once.
	randomAccess bool
	// layers is the number of layers when known before they are read
	// (an archive), else 0 (a stream: its reader checks as they come).
	layers  int
	produce func(ctx context.Context, send func(*pushLayer) error) ([]byte, error)
	close   func()
	// platform is the one its config names, for an image of a
	// multi-platform index.
	platform v1.Platform
	// saved is, on the first image, the image index the archive names
	// for what is pushed (savedIndex), or nil.
	saved *savedIndex
}

// savedIndex is an archive's own image index, read whole (archive.Tree):
// a docker save of a multi-platform image of the containerd image store
// (whose index may hold one image and its attestations), or the index an
// OCI layout names. Run pushes it as it is when it can (pushTree).
type savedIndex struct {
	digest string // the index's
	tree   *archive.Tree
	// docker: a docker save's, pushed as stored whatever
	// --layer-compression says, as docker push pushes it.
	docker bool
}

// withSavedIndex reads the image index the archive names, digest, and
// keeps it on imgs[0]; a malformed one (a digest or size that lies,
// indexes nested too deep) is refused, before anything is sent, and so is
// one holding an image deeper than runtimes take, as pushImage refuses it.
func withSavedIndex(a *archive.Archive, display, digest string, imgs []*image) ([]*image, error) {
	t, err := a.Tree(digest)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", display, err)
	}
	for _, d := range t.Docs {
		if d.ImageLayers > oci.RuntimeLayerLimit {
			return nil, fmt.Errorf("%s: image %s: %d layers, more than the %d runtimes accept: %w", display, d.Digest, d.ImageLayers, oci.RuntimeLayerLimit, errdefs.ErrTooManyLayers)
		}
	}
	imgs[0].saved = &savedIndex{digest: digest, tree: t, docker: a.Format == "docker"}
	return imgs, nil
}

// inputName is how messages name the input file: quoted, or stdin.
func inputName(file string) string {
	if file == "-" {
		return "stdin"
	}
	return fmt.Sprintf("%q", file)
}

// openImage opens the input: a layer stream (its first member is a layer
// or the trailer), else an image archive. A multi-platform archive
// (tar-merge --index) gives each of its images, with its platform, and
// index true, unless which picks one.
func openImage(o *cli.IO, file, which string) (imgs []*image, index bool, err error) {
	display := inputName(file)
	var r io.Reader
	var head []byte
	var closeFile func()
	if file == "-" {
		if f, ok := o.Stdin.(*os.File); ok && isRegular(f) {
			// Redirected from a file: peek without moving the offset,
			// so that an archive is read in place.
			head = peekAt(f)
			r = f
		} else {
			br := bufio.NewReaderSize(o.Stdin, 1<<20)
			head, _ = br.Peek(headSize)
			r = br
		}
		closeFile = func() {}
	} else {
		in, err := o.OpenNamed(file)
		if err != nil {
			return nil, false, fmt.Errorf("reading the image: %w", notFound(file, err))
		}
		if err := archive.NotADir(in); err != nil {
			in.Close()
			return nil, false, fmt.Errorf("reading %s: %w", display, err)
		}
		if f, ok := in.(*os.File); ok && isRegular(f) {
			head, r = peekAt(f), f
		} else {
			// A FIFO (or a device) is read once: opened again to be read
			// as an archive, it lost what the peek had read.
			br := bufio.NewReaderSize(in, 1<<20)
			head, _ = br.Peek(headSize)
			r = br
		}
		closeFile = func() { in.Close() }
	}
	if isLayerStream(head) {
		if which != "" {
			closeFile()
			return nil, false, cli.Usagef("--archive-image: %s is a layer stream, which holds one image", display)
		}
		return []*image{streamImage(r, display, closeFile)}, false, nil
	}
	opts := archive.Options{Open: o.OpenNamed}
	if _, peeked := r.(*bufio.Reader); peeked && file != "-" {
		opts.Open = func(string) (io.ReadCloser, error) { return peekedFile{r, closeFile}, nil }
	} else if file != "-" {
		closeFile()
		r = nil
	}
	a, err := archive.OpenWith(file, r, opts)
	if err != nil {
		return nil, false, err
	}
	if which == "" || strings.HasPrefix(which, "@") {
		imgs, index, err := wholeArchive(a, display, which)
		if err != nil || imgs != nil {
			if err != nil {
				a.Close()
			}
			return imgs, index, err
		}
	}
	// Every image of a multi-platform one has its name: the one this
	// machine would pull, not the first platform's; the only one, whatever
	// its platform, when it holds one.
	img, err := a.FindDefault(which, "", oci.HostPlatform())
	if err != nil {
		a.Close()
		return nil, false, err
	}
	return []*image{archiveImage(a, img, display)}, false, nil
}

// wholeArchive is what an archive given without --archive-image pushes:
// all of it, as docker push pushes a tag. A multi-platform archive (an
// OCI layout naming one index), or a docker save of one multi-platform
// image holding more than one of its images (the containerd image store:
// manifest.json lists the saving daemon's platform only), is its images,
// pushed as an index. Several images that are not one multi-platform
// image cannot go under one tag: refused, as skopeo and crane refuse such
// an archive, rather than push the first and drop the others unsaid; the
// names of one image (sameImages) are one image.
// which "@N" takes the archive's Nth image (archive.Groups, from 0, as
// skopeo's docker-archive:FILE:@N), pushed as the whole archive would be:
// the way to name an untagged one.
func wholeArchive(a *archive.Archive, display, which string) ([]*image, bool, error) {
	if a.MultiPlatform && which == "" {
		imgs, err := platformImages(a, display, a.Images)
		if err == nil {
			imgs, err = withSavedIndex(a, display, a.Images[0].Index, imgs)
		}
		return imgs, true, err
	}
	groups := a.Groups()
	if n, ok := strings.CutPrefix(which, "@"); ok {
		i, err := strconv.Atoi(n)
		if err != nil || i < 0 || i >= len(groups) || n != strconv.Itoa(i) {
			return nil, false, cli.Usagef("--archive-image %q: %s holds %d images: want @0 to @%d (their places in it), or NAME[:TAG]", which, display, len(groups), len(groups)-1)
		}
		groups = groups[i : i+1]
	}
	var distinct [][]*archive.Image
	for _, g := range groups {
		if !slices.ContainsFunc(distinct, func(d []*archive.Image) bool { return sameImages(d, g) }) {
			distinct = append(distinct, g)
		}
	}
	groups = distinct
	if len(groups) > 1 {
		var names []string
		for i, g := range groups {
			if i == 4 {
				names = append(names, "…")
				break
			}
			name := "untagged"
			if len(g[0].RepoTags) > 0 {
				name = errdefs.Quote(g[0].RepoTags[0])
			}
			names = append(names, name)
		}
		return nil, false, fmt.Errorf("%s holds %d images (%s), which one tag cannot name: give the one to push with --archive-image NAME[:TAG] (or @N, its place from 0): %w",
			display, len(groups), strings.Join(names, ", "), errdefs.ErrInvalidInput)
	}
	group := groups[0]
	if group[0].Index == "" {
		return []*image{archiveImage(a, group[0], display)}, false, nil
	}
	if !slices.ContainsFunc(group, func(img *archive.Image) bool { return img.ConfigDigest != group[0].ConfigDigest }) {
		imgs, err := withSavedIndex(a, display, group[0].Index, []*image{archiveImage(a, group[0], display)})
		return imgs, false, err
	}
	imgs, err := platformImages(a, display, group)
	if err == nil {
		imgs, err = withSavedIndex(a, display, group[0].Index, imgs)
	}
	return imgs, true, err
}

// sameImages reports whether two of archive.Groups are the same images
// under other names (an OCI layout of a skopeo copy to oci:DIR:one and
// oci:DIR:two, both naming one manifest): the same configs and layers,
// pushed as the same manifests, which one tag names as well as either.
func sameImages(a, b []*archive.Image) bool {
	return slices.EqualFunc(a, b, func(x, y *archive.Image) bool {
		return x.ConfigDigest == y.ConfigDigest && slices.EqualFunc(x.Layers, y.Layers, func(l, m *archive.Layer) bool {
			return l.DiffID == m.DiffID && l.BlobDigest() == m.BlobDigest()
		})
	})
}

// platformImages are the images of a multi-platform archive, each with
// the platform its config names; two for one platform, or one without,
// are refused before anything is sent.
func platformImages(a *archive.Archive, display string, images []*archive.Image) ([]*image, error) {
	imgs := make([]*image, len(images))
	configs := make([][]byte, len(images))
	for i, img := range images {
		imgs[i] = archiveImage(a, img, fmt.Sprintf("%s (image %d)", display, i+1))
		configs[i] = img.ConfigBytes
	}
	ps, err := oci.ConfigPlatforms(configs, func(i int) string { return imgs[i].name })
	for i, p := range ps {
		imgs[i].platform = p
	}
	return imgs, err
}

func isRegular(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

// headSize is how much of the input is looked at to tell a layer stream:
// its first member's header, and the PAX header before it when that layer
// is 8 GiB or more (1.5 KiB in all as layerstream writes it), with room
// to spare.
const headSize = 64 << 10

// peekedFile is a named input that is no regular file, its start peeked
// at: the archive reads it through the peek's buffer.
type peekedFile struct {
	io.Reader
	close func()
}

func (p peekedFile) Close() error { p.close(); return nil }

func peekAt(f *os.File) []byte {
	b := make([]byte, headSize)
	n, _ := f.ReadAt(b, 0)
	return b[:n]
}

// isLayerStream tells a layer stream (an uncompressed tar whose first
// member is layers/NNN.tar, layers/NNN.ref, config.json or stream.json)
// from an image archive.
func isLayerStream(head []byte) bool {
	if compress.Detect(head) != compress.None {
		return false
	}
	hdr, err := tarsafe.Next(tar.NewReader(bytes.NewReader(head)))
	if err != nil {
		return false
	}
	return strings.HasPrefix(hdr.Name, "layers/") || hdr.Name == layerstream.ConfigMember || hdr.Name == layerstream.TrailerMember
}

// archiveImage pushes the image of an archive with its config verbatim,
// so the image ID stays the config's digest.
func archiveImage(a *archive.Archive, img *archive.Image, display string) *image {
	produce := func(ctx context.Context, send func(*pushLayer) error) ([]byte, error) {
		for i, l := range img.Layers {
			pl := &pushLayer{index: i, diffID: l.DiffID, size: -1, stored: l.Stored(), open: l.Open}
			kind, err := l.Compression()
			if err != nil {
				return nil, fmt.Errorf("%s: layer %d: %w", display, i, err)
			}
			pl.storedKind = kind
			switch {
			case kind == compress.None:
				pl.size, pl.storedDigest = pl.stored.Size(), l.DiffID
			default:
				// An OCI blob is named by its digest; reading it
				// checks the bytes against that name.
				pl.storedDigest = l.BlobDigest()
			}
			if err := send(pl); err != nil {
				return nil, err
			}
		}
		return img.ConfigBytes, nil
	}
	return &image{name: display, randomAccess: true, layers: len(img.Layers), produce: produce, close: func() { a.Close() }}
}

// notFound words an error opening a file.
func notFound(name string, err error) error {
	if os.IsNotExist(err) {
		return fmt.Errorf("%q: %w", name, errdefs.ErrNotFound)
	}
	return fmt.Errorf("%q: %w", name, cli.PathCause(err))
}
