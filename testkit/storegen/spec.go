package storegen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"path"
)

// Version changes whenever the generator's output for a given Spec
// changes, so caches keyed by Spec.Key are not reused across versions.
const Version = 1

// Spec describes a store to generate. Zero fields take the defaults
// documented on each field; Normalize fills them in.
type Spec struct {
	// Seed selects the store; every byte follows from it.
	Seed uint64 `json:"seed"`
	// StoreDir is the logical store directory (default /nix/store).
	StoreDir string `json:"storeDir"`
	// Paths is the number of store paths, the bottom and top ones included
	// (default 100, at least 2).
	Paths int `json:"paths"`
	// Files is the number of regular files, hardlinks not counted (default
	// 20 per path). Every path that is not a symlink holds at least one.
	Files int `json:"files"`
	// Bytes is the total size of the regular files' contents (default 64
	// KiB per file). Files that carry references grow to fit them, so the
	// real total can be slightly larger; the manifest has it.
	Bytes int64 `json:"bytes"`
	// Refs is the average number of references per path to other paths
	// (default 4).
	Refs float64 `json:"refs"`
	// Levels is the depth of the reference DAG between the bottom and the
	// top path (default about log2(Paths), from 3 to 12).
	Levels int `json:"levels"`
	// SizeSigma is the σ of the log-normal file-size distribution (default
	// 2: the mean file is about 7 times the median one).
	SizeSigma float64 `json:"sizeSigma"`
	// MaxFile caps the size of one file (default Bytes/100, at least 1 MiB).
	MaxFile int64 `json:"maxFile"`
}

// Normalize returns s with its defaults filled in, or an error when s
// cannot be generated.
func (s Spec) Normalize() (Spec, error) {
	if s.StoreDir == "" {
		s.StoreDir = "/nix/store"
	}
	if !path.IsAbs(s.StoreDir) || path.Clean(s.StoreDir) != s.StoreDir || s.StoreDir == "/" {
		return s, fmt.Errorf("store dir %q is not a clean absolute directory", s.StoreDir)
	}
	if s.Paths == 0 {
		s.Paths = 100
	}
	if s.Paths < 2 {
		return s, fmt.Errorf("%d paths: need at least 2 (a bottom and a top)", s.Paths)
	}
	if s.Files == 0 {
		s.Files = 20 * s.Paths
	}
	if s.Files < s.Paths {
		return s, fmt.Errorf("%d files for %d paths: need at least one file per path", s.Files, s.Paths)
	}
	if s.Bytes == 0 {
		s.Bytes = 64 << 10 * int64(s.Files)
	}
	if s.Bytes < 0 {
		return s, fmt.Errorf("negative size %d", s.Bytes)
	}
	if s.Refs == 0 {
		s.Refs = 4
	}
	if s.Refs < 0 || math.IsNaN(s.Refs) || math.IsInf(s.Refs, 0) {
		return s, fmt.Errorf("invalid reference density %v", s.Refs)
	}
	if s.Levels == 0 {
		s.Levels = min(max(int(math.Round(math.Log2(float64(s.Paths)))), 3), 12)
	}
	if s.Levels < 1 {
		return s, fmt.Errorf("invalid number of levels %d", s.Levels)
	}
	if s.SizeSigma == 0 {
		s.SizeSigma = 2
	}
	if s.SizeSigma < 0 || math.IsNaN(s.SizeSigma) || s.SizeSigma > 10 {
		return s, fmt.Errorf("invalid size sigma %v", s.SizeSigma)
	}
	if s.MaxFile == 0 {
		s.MaxFile = max(s.Bytes/100, 1<<20)
	}
	if s.MaxFile <= 0 {
		return s, fmt.Errorf("invalid maximum file size %d", s.MaxFile)
	}
	return s, nil
}

// Key names the store s generates: equal keys mean byte-identical stores.
// It covers the generator Version, so a changed generator gets new keys.
func (s Spec) Key() (string, error) {
	n, err := s.Normalize()
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(struct {
		Version int
		Spec    Spec
	}{Version, n})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}
