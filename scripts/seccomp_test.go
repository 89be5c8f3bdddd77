package scripts

import (
	"bytes"
	"encoding/binary"
	"os/exec"
	"testing"

	"golang.org/x/net/bpf"
)

// seccompCall is the part of struct seccomp_data the filter reads.
type seccompCall struct {
	name       string
	arch, nr   uint32
	arg0, arg1 uint32
}

// The answers seccomp_filter gives, and the architectures it knows.
const (
	allow  = 0x7fff0000
	eacces = 0x0005000d
	enosys = 0x00050026

	archX86_64  = 0xc000003e
	archI386    = 0x40000003
	archAarch64 = 0xc00000b7
	archArm     = 0x40000028

	afUnix, afInet         = 1, 2
	sockStream, sockDgram  = 1, 2
	sockCloexec            = 0x80000
	sysSocket, sysSockpair = 1, 8
)

// TestSeccompFilter runs the program seccomp_filter prints (by sh and by
// bash, which must print the same bytes) in a classic BPF machine over
// the calls it must refuse and some it must let through, for each
// architecture it knows. The sandbox test with a real socket is
// layered_commands_unix_sockets_refused; this one covers what this
// machine cannot run (the other architecture, the 32-bit ones, x32).
func TestSeccompFilter(t *testing.T) {
	cases := map[string][]struct {
		call seccompCall
		want uint32
	}{
		"x86_64": {
			{seccompCall{"socket unix", archX86_64, 41, afUnix, sockStream}, eacces},
			{seccompCall{"socket unix cloexec", archX86_64, 41, afUnix, sockStream | sockCloexec}, eacces},
			{seccompCall{"socket inet", archX86_64, 41, afInet, sockStream}, allow},
			{seccompCall{"socketpair unix dgram", archX86_64, 53, afUnix, sockDgram | sockCloexec}, eacces},
			{seccompCall{"socketpair unix stream", archX86_64, 53, afUnix, sockStream}, allow},
			{seccompCall{"io_uring_setup", archX86_64, 425, 8, 0}, enosys},
			{seccompCall{"x32 socket", archX86_64, 0x40000000 | 41, afUnix, sockStream}, enosys},
			{seccompCall{"read", archX86_64, 0, 0, 0}, allow},
			{seccompCall{"connect", archX86_64, 42, 3, 0}, allow},
			{seccompCall{"i386 socket inet", archI386, 359, afInet, sockStream}, eacces},
			{seccompCall{"i386 socketpair", archI386, 360, afUnix, sockStream}, eacces},
			{seccompCall{"i386 socketcall socket", archI386, 102, sysSocket, 0}, eacces},
			{seccompCall{"i386 socketcall socketpair", archI386, 102, sysSockpair, 0}, eacces},
			{seccompCall{"i386 socketcall connect", archI386, 102, 3, 0}, allow},
			{seccompCall{"i386 io_uring_setup", archI386, 425, 8, 0}, enosys},
			{seccompCall{"i386 read", archI386, 3, 0, 0}, allow},
			{seccompCall{"aarch64 on x86_64", archAarch64, 198, afUnix, sockStream}, enosys},
		},
		"aarch64": {
			{seccompCall{"socket unix", archAarch64, 198, afUnix, sockStream}, eacces},
			{seccompCall{"socket inet", archAarch64, 198, afInet, sockDgram}, allow},
			{seccompCall{"socketpair unix dgram", archAarch64, 199, afUnix, sockDgram}, eacces},
			{seccompCall{"socketpair unix stream", archAarch64, 199, afUnix, sockStream | sockCloexec}, allow},
			{seccompCall{"io_uring_setup", archAarch64, 425, 8, 0}, enosys},
			{seccompCall{"high number", archAarch64, 0x40000000 | 198, afUnix, 0}, allow},
			{seccompCall{"openat", archAarch64, 56, 0, 0}, allow},
			{seccompCall{"arm socket", archArm, 281, afInet, sockStream}, eacces},
			{seccompCall{"arm socketpair", archArm, 288, afUnix, sockStream}, eacces},
			{seccompCall{"arm io_uring_setup", archArm, 425, 8, 0}, enosys},
			{seccompCall{"arm read", archArm, 3, 0, 0}, allow},
			{seccompCall{"x86_64 on aarch64", archX86_64, 41, afUnix, sockStream}, enosys},
		},
	}
	for arch, calls := range cases {
		prog := seccompFilter(t, "sh", arch)
		if other := seccompFilter(t, "bash", arch); !bytes.Equal(prog, other) {
			t.Fatalf("%s: sh and bash print different programs", arch)
		}
		vm := seccompVM(t, arch, prog)
		for _, c := range calls {
			got, err := vm.Run(c.call.data())
			if err != nil {
				t.Fatalf("%s: %s: %v", arch, c.call.name, err)
			}
			if uint32(got) != c.want {
				t.Errorf("%s: %s: answer %#x, want %#x", arch, c.call.name, got, c.want)
			}
		}
	}
	if out, err := exec.Command("sh", "-c", ". lib/sandbox.sh && seccomp_filter ppc64le").Output(); err == nil {
		t.Errorf("seccomp_filter printed %d bytes for an architecture it does not know, and succeeded", len(out))
	}
}

// seccompFilter is what seccomp_filter ARCH prints when shell runs it.
func seccompFilter(t *testing.T, shell, arch string) []byte {
	t.Helper()
	out, err := exec.Command(shell, "-c", ". lib/sandbox.sh && seccomp_filter "+arch).Output()
	if err != nil {
		t.Fatalf("%s: seccomp_filter %s: %v", shell, arch, err)
	}
	return out
}

// seccompVM decodes prog (struct sock_filter, little-endian) into a
// classic BPF machine. Seccomp loads words of seccomp_data in the
// machine's order where a packet filter loads them big-endian, so the
// calls are laid out big-endian (data) for the machine to read the same
// numbers.
func seccompVM(t *testing.T, arch string, prog []byte) *bpf.VM {
	t.Helper()
	if len(prog) == 0 || len(prog)%8 != 0 {
		t.Fatalf("%s: program of %d bytes, not whole instructions", arch, len(prog))
	}
	raw := make([]bpf.RawInstruction, len(prog)/8)
	for i := range raw {
		b := prog[i*8:]
		raw[i] = bpf.RawInstruction{Op: binary.LittleEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.LittleEndian.Uint32(b[4:])}
	}
	insns, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("%s: the program holds an instruction BPF does not have", arch)
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatalf("%s: %v", arch, err)
	}
	return vm
}

// data lays c out as seccomp_data: nr, arch, ip (zero), args[0], args[1].
func (c seccompCall) data() []byte {
	b := make([]byte, 32)
	binary.BigEndian.PutUint32(b[0:], c.nr)
	binary.BigEndian.PutUint32(b[4:], c.arch)
	binary.BigEndian.PutUint32(b[16:], c.arg0)
	binary.BigEndian.PutUint32(b[24:], c.arg1)
	return b
}

// TestSeccompFilterOn32BitHosts: a 32-bit host's uname -m (i686, armv7l,
// or a 64-bit kernel's under linux32) gets a filter that refuses its own
// sockets and the 64-bit ones a kernel under linux32 still runs; a
// big-endian arm, whose instructions would be laid out the other way, none.
// (seccomp_filter failed for them, and the commands ran unfiltered.)
func TestSeccompFilterOn32BitHosts(t *testing.T) {
	cases := map[string][]seccompCall{
		"i686":     {{"i386 socketcall socket", archI386, 102, sysSocket, 0}, {"i386 socket", archI386, 359, afUnix, sockStream}, {"socket unix", archX86_64, 41, afUnix, sockStream}},
		"i386":     {{"i386 socketpair", archI386, 360, afUnix, sockDgram}},
		"armv7l":   {{"arm socket", archArm, 281, afUnix, sockStream}, {"socket unix", archAarch64, 198, afUnix, sockStream}},
		"armv6l":   {{"arm socketpair", archArm, 288, afUnix, sockDgram}},
		"armv5tel": {{"arm socket", archArm, 281, afUnix, sockStream}},
	}
	for arch, calls := range cases {
		vm := seccompVM(t, arch, seccompFilter(t, "sh", arch))
		for _, c := range calls {
			if got, err := vm.Run(c.data()); err != nil || uint32(got) != eacces {
				t.Errorf("%s: %s: answer %#x (%v), want %#x", arch, c.name, got, err, eacces)
			}
		}
	}
	if out, err := exec.Command("sh", "-c", ". lib/sandbox.sh && seccomp_filter armv7b").Output(); err == nil {
		t.Errorf("seccomp_filter printed %d bytes for big-endian arm, and succeeded", len(out))
	}
}

// TestSeccompFilterUnixPairTypes: a pair of AF_UNIX sockets is made only
// of a connected type (stream, seqpacket), whatever flags the type has;
// SOCK_RAW, which the kernel makes a datagram socket for AF_UNIX (one
// that may sendto(2) any named socket), is refused as SOCK_DGRAM is.
// (Only SOCK_DGRAM was refused: a raw pair reached a host socket.)
func TestSeccompFilterUnixPairTypes(t *testing.T) {
	const sockRaw, sockSeqpacket, sockRdm, sockNonblock = 3, 5, 4, 0x800
	pairs := map[string]uint32{"x86_64": 53, "aarch64": 199}
	types := []struct {
		name string
		typ  uint32
		want uint32
	}{
		{"stream", sockStream | sockCloexec, allow},
		{"seqpacket", sockSeqpacket, allow},
		{"dgram", sockDgram, eacces},
		{"raw", sockRaw, eacces},
		{"raw nonblock", sockRaw | sockNonblock | sockCloexec, eacces},
		{"rdm", sockRdm, eacces},
	}
	arches := map[string]uint32{"x86_64": archX86_64, "aarch64": archAarch64}
	for arch, nr := range pairs {
		vm := seccompVM(t, arch, seccompFilter(t, "sh", arch))
		for _, ty := range types {
			got, err := vm.Run(seccompCall{ty.name, arches[arch], nr, afUnix, ty.typ}.data())
			if err != nil || uint32(got) != ty.want {
				t.Errorf("%s: socketpair unix %s: answer %#x (%v), want %#x", arch, ty.name, got, err, ty.want)
			}
		}
		if got, _ := vm.Run(seccompCall{"inet", arches[arch], nr, afInet, sockRaw}.data()); uint32(got) != allow {
			t.Errorf("%s: socketpair inet raw: answer %#x, want %#x", arch, got, allow)
		}
	}
}
