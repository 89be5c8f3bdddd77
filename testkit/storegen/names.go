package storegen

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"dockertools.dev/imgkit/storefs"
)

// randomHash draws a store path's hash part: storefs.HashLen characters
// of Nix's base32.
func randomHash(rng *rand.Rand) string {
	var b [storefs.HashLen]byte
	for i := range b {
		b[i] = storefs.Base32[rng.IntN(len(storefs.Base32))]
	}
	return string(b[:])
}

// words name packages, directories and files, and fill text files. None is
// long enough to be mistaken for a hash part.
var words = strings.Fields(`
	acl attr audit bash binutils bison brotli bzip2 cairo coreutils cpio
	curl cyrus db dbus diffutils e2fsprogs elfutils expat file findutils
	flex fontconfig freetype gawk gcc gdbm gettext glib gmp gnugrep gnused
	gnutar gperf gzip harfbuzz icu iproute keyutils kmod krb5 less libarchive
	libcap libffi libidn2 libjpeg libpng libpsl libseccomp libssh2 libtasn1
	libtiff libunistring libuv libxml2 libxslt libyaml lz4 lzo m4 mpfr ncurses
	nettle nghttp2 openldap openssl p11kit pam patch pcre2 perl pixman
	pkgconfig popt python readline rsync ruby sqlite systemd tcl texinfo
	tzdata unzip utillinux which xz zlib zstd
	abort alloc apply array buffer build cache check close config connect
	convert create data debug decode default define delete device digest
	error event export extern filter format frame handle header import index
	init input install layer length limit linker list load local lookup
	main manual match memory merge module option output parse path plugin
	policy print queue range read record reference release render request
	result return runtime scan schema section server session shared signal
	source stack state static status stream string struct symbol table
	target thread token trace update value vector version write
`)

func word(rng *rand.Rand) string { return words[rng.IntN(len(words))] }

// packageName returns a name-version like those of nixpkgs, sometimes with
// an output suffix.
func packageName(rng *rand.Rand) string {
	name := word(rng)
	if rng.IntN(4) == 0 {
		name += "-" + word(rng)
	}
	v := fmt.Sprintf("%d.%d", rng.IntN(10), rng.IntN(40))
	if rng.IntN(2) == 0 {
		v += fmt.Sprintf(".%d", rng.IntN(20))
	}
	name += "-" + v
	switch rng.IntN(10) {
	case 0:
		name += "-dev"
	case 1:
		name += "-lib"
	case 2:
		name += "-man"
	}
	return name
}

// textPool is the filler of text files: lines of words, from which each
// file takes a slice at a random offset. Sharing one pool keeps generation
// at memory speed.
func textPool(rng *rand.Rand, size int) []byte {
	var b strings.Builder
	b.Grow(size + 128)
	for b.Len() < size {
		n := 3 + rng.IntN(12)
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(word(rng))
		}
		b.WriteByte('\n')
	}
	return []byte(b.String()[:size])
}
