package layerstream

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"dockertools.dev/imgkit/errdefs"
)

// RefVersion is the trailer version of a stream that holds reference
// layers. Readers of version 1 refuse it, as they must: they would take a
// reference for an empty layer.
const RefVersion = 2

// Blob is a stored form of a layer that a registry (or an image layout)
// may hold: its media type, the digest and size of the stored bytes.
type Blob struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// Ref is a reference layer: a layer the stream does not carry because the
// consumer can refer to it without its bytes (its blob is known to be in
// the destination registry already). DiffID and Size describe the layer
// tar; Blobs, at least one, are stored forms of it.
type Ref struct {
	DiffID string `json:"diff_id"`
	Size   int64  `json:"size"`
	Blobs  []Blob `json:"blobs"`
}

// Blob returns the stored form with the given media type.
func (r *Ref) Blob(mediaType string) (Blob, bool) {
	for _, b := range r.Blobs {
		if b.MediaType == mediaType {
			return b, true
		}
	}
	return Blob{}, false
}

// RefMemberName is the member name of a reference layer at position i.
func RefMemberName(i int) string { return fmt.Sprintf("layers/%03d.ref", i) }

// maxRef bounds a reference member: a few descriptors.
const maxRef = 1 << 20

func (ref Ref) check() error {
	if !validDigest(ref.DiffID) {
		return fmt.Errorf("diff_id %q is not a sha256 digest", ref.DiffID)
	}
	if ref.Size < 0 {
		return fmt.Errorf("size %d", ref.Size)
	}
	if len(ref.Blobs) == 0 {
		return errors.New("no blobs")
	}
	for _, b := range ref.Blobs {
		if !validDigest(b.Digest) || b.Size < 0 || b.MediaType == "" {
			return fmt.Errorf("blob %+v is not a media type, a sha256 digest and a size", b)
		}
	}
	return nil
}

// WriteRef writes a reference layer: a small member, layers/NNN.ref,
// holding ref as JSON, and a trailer entry with info's Paths and Comment
// and ref's DiffID, Size and Blobs. The stream becomes version RefVersion.
func (w *Writer) WriteRef(ref Ref, info LayerInfo) (LayerInfo, error) {
	if w.open != nil || w.config || w.closed {
		return info, errors.New("layer stream: layer started out of order")
	}
	i := len(w.layers)
	if err := ref.check(); err != nil {
		return info, fmt.Errorf("layer stream: layer %d: reference: %v: %w", i, err, errdefs.ErrInvalidInput)
	}
	data, err := json.Marshal(ref)
	if err != nil {
		return info, err
	}
	data = append(data, '\n')
	if err := w.tw.WriteHeader(header(RefMemberName(i), int64(len(data)))); err != nil {
		return info, writeError(err)
	}
	if _, err := w.tw.Write(data); err != nil {
		return info, writeError(err)
	}
	info.DiffID, info.Size, info.Blobs = ref.DiffID, ref.Size, ref.Blobs
	w.layers = append(w.layers, info)
	w.refs = true
	return info, nil
}

// readRef reads a reference member.
func (r *Reader) readRef(hdr *tar.Header) (*Layer, error) {
	i := len(r.sizes)
	if hdr.Size > maxRef {
		return nil, invalid("%s of %d bytes", hdr.Name, hdr.Size)
	}
	data, err := io.ReadAll(r.member(hdr.Size))
	if err != nil {
		return nil, readFailed(err, "reading %s", hdr.Name)
	}
	var ref Ref
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ref); err != nil {
		return nil, invalid("%s: %v", hdr.Name, err)
	}
	if err := ref.check(); err != nil {
		return nil, invalid("%s: %v", hdr.Name, err)
	}
	l := &Layer{Index: i, Size: ref.Size, Ref: &ref, r: &body{}}
	r.cur = l
	r.sizes = append(r.sizes, ref.Size)
	r.refs = append(r.refs, &ref)
	return l, nil
}

// checkRefEntry checks that trailer entry i agrees with its member about
// being a reference.
func (r *Reader) checkRefEntry(version, i int, l LayerInfo) error {
	ref := r.refs[i]
	switch {
	case ref != nil && version == Version:
		return invalid("layer %d is a reference, which a version %d stream cannot hold", i, Version)
	case (ref != nil) != (len(l.Blobs) > 0):
		return invalid("layer %d: %s and the member disagree about it being a reference", i, TrailerMember)
	case ref != nil && (l.DiffID != ref.DiffID || !slices.Equal(l.Blobs, ref.Blobs)):
		return invalid("layer %d: %s and the reference member describe different layers", i, TrailerMember)
	}
	return nil
}
