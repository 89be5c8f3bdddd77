package cli

// MaxID is the largest uid or gid: Linux's are 32 bits, and the all-ones
// one is -1, which chown takes for "leave it". A larger id in a tar is
// refused by GNU tar and cut to 32 bits by an unpacker's chown (4294967296
// would be root); in an image's User or /etc/passwd, chown fails on it.
const MaxID = 1<<32 - 2

// CheckID is the usage error of flag --NAME given V, unless V is a Linux
// id (0 to MaxID).
func CheckID(name string, v int64) error {
	if v < 0 || v > MaxID {
		return Usagef("--%s %d is not an id from 0 to %d", name, v, int64(MaxID))
	}
	return nil
}
