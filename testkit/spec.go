package testkit

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// TarOptions choose the output of MakeTar.
type TarOptions struct {
	Format   string // "pax" (default), "gnu" or "ustar"
	Compress string // "", "gzip", "zstd" or "xz"
}

// MakeTar writes the tar described by spec (see the package doc) to w.
func MakeTar(spec io.Reader, w io.Writer, opts TarOptions) error {
	format := tar.FormatPAX
	switch opts.Format {
	case "", "pax":
	case "gnu":
		format = tar.FormatGNU
	case "ustar":
		format = tar.FormatUSTAR
	default:
		return fmt.Errorf("mktar: unknown format %q", opts.Format)
	}
	out, closeOut, err := compressWriter(w, opts.Compress)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(out)
	sc := bufio.NewScanner(spec)
	sc.Buffer(nil, 1<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hdr, body, err := parseSpecLine(line)
		if err != nil {
			return fmt.Errorf("mktar: line %d: %v", lineNo, err)
		}
		hdr.Format = format
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("mktar: line %d: %v", lineNo, err)
		}
		if body != nil {
			if _, err := io.Copy(tw, body); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return closeOut()
}

func compressWriter(w io.Writer, kind string) (io.Writer, func() error, error) {
	switch kind {
	case "", "none":
		return w, func() error { return nil }, nil
	case "gzip":
		zw := gzip.NewWriter(w)
		return zw, zw.Close, nil
	case "gzip-fast":
		// Other bytes than the tools' gzip recipe: what a foreign
		// compressor stored.
		zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
		return zw, zw.Close, err
	case "zstd":
		zw, err := zstd.NewWriter(w)
		if err != nil {
			return nil, nil, err
		}
		return zw, zw.Close, nil
	case "xz":
		zw, err := xz.NewWriter(w)
		if err != nil {
			return nil, nil, err
		}
		return zw, zw.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown compression %q", kind)
}

// token is one field of a spec line; quoted fields are never key=value.
type token struct {
	s      string
	quoted bool
}

// fields splits a spec line on blanks, honouring Go-quoted tokens.
func fields(line string) ([]token, error) {
	var out []token
	for line = strings.TrimLeft(line, " \t"); line != ""; line = strings.TrimLeft(line, " \t") {
		if line[0] == '"' {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, fmt.Errorf("bad quoted string in %q", line)
			}
			s, _ := strconv.Unquote(q)
			out = append(out, token{s, true})
			line = line[len(q):]
			continue
		}
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		out = append(out, token{line[:end], false})
		line = line[end:]
	}
	return out, nil
}

func parseSpecLine(line string) (*tar.Header, io.Reader, error) {
	toks, err := fields(line)
	if err != nil {
		return nil, nil, err
	}
	f := make([]string, len(toks))
	for i, t := range toks {
		f[i] = t.s
	}
	if len(f) < 4 {
		return nil, nil, fmt.Errorf("want TYPE MODE UID:GID NAME [ARG], got %q", line)
	}
	mode, err := strconv.ParseInt(f[1], 8, 64)
	if err != nil {
		return nil, nil, fmt.Errorf("bad mode %q", f[1])
	}
	uid, gid, ok := strings.Cut(f[2], ":")
	if !ok {
		return nil, nil, fmt.Errorf("bad owner %q", f[2])
	}
	hdr := &tar.Header{Name: f[3], Mode: mode, ModTime: time.Unix(1, 0)}
	if hdr.Uid, err = strconv.Atoi(uid); err != nil {
		return nil, nil, fmt.Errorf("bad uid %q", uid)
	}
	if hdr.Gid, err = strconv.Atoi(gid); err != nil {
		return nil, nil, fmt.Errorf("bad gid %q", gid)
	}
	rest := f[4:]
	var arg string
	if len(rest) > 0 && (toks[4].quoted || !strings.Contains(rest[0], "=")) {
		arg, rest = rest[0], rest[1:]
	}
	var body io.Reader
	switch f[0] {
	case "d":
		hdr.Typeflag = tar.TypeDir
	case "f":
		hdr.Typeflag = tar.TypeReg
		hdr.Size = int64(len(arg))
		body = strings.NewReader(arg)
	case "l":
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, arg
	case "h":
		hdr.Typeflag, hdr.Linkname = tar.TypeLink, arg
	case "c", "b":
		hdr.Typeflag = tar.TypeChar
		if f[0] == "b" {
			hdr.Typeflag = tar.TypeBlock
		}
		maj, min, _ := strings.Cut(arg, ":")
		hdr.Devmajor, _ = strconv.ParseInt(maj, 10, 64)
		hdr.Devminor, _ = strconv.ParseInt(min, 10, 64)
	case "p":
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil, nil, fmt.Errorf("unknown type %q", f[0])
	}
	for _, kv := range rest {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || f[0] != "f" {
				return nil, nil, fmt.Errorf("bad %q", kv)
			}
			hdr.Size = n
			body = io.LimitReader(patternReader(uint64(n)), n)
		case "zeros":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || f[0] != "f" {
				return nil, nil, fmt.Errorf("bad %q", kv)
			}
			hdr.Size = n
			body = io.LimitReader(zeroReader{}, n)
		case "mtime":
			s, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("bad %q", kv)
			}
			hdr.ModTime = time.Unix(s, 0)
		case "uname":
			hdr.Uname = v
		case "gname":
			hdr.Gname = v
		default:
			if name, ok := strings.CutPrefix(k, "xattr."); ok && name != "" {
				if strings.HasPrefix(v, `"`) {
					if v, err = strconv.Unquote(v); err != nil {
						return nil, nil, fmt.Errorf("bad %q", kv)
					}
				}
				if hdr.PAXRecords == nil {
					hdr.PAXRecords = map[string]string{}
				}
				hdr.PAXRecords["SCHILY.xattr."+name] = v
				continue
			}
			return nil, nil, fmt.Errorf("unknown key %q", k)
		}
	}
	return hdr, body, nil
}

// zeroReader gives zero bytes: a file of them compresses to almost
// nothing, as a decompression bomb's does.
type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// patternReader gives deterministic pseudo-random bytes seeded by seed.
func patternReader(seed uint64) io.Reader {
	return &prng{r: rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})}
}

type prng struct{ r *rand.ChaCha8 }

func (p *prng) Read(b []byte) (int, error) { return p.r.Read(b) }
