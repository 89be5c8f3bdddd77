package main

// search calls found with every window of hashLen bytes of s that consists
// of base32 characters only, in order, stopping at the first error. These
// are the windows Nix's reference scanner looks up in its set of hash
// parts; overlapping windows inside a longer base32 run all count.
//
// As in Nix's RefScanSink, a window is tested from its last byte backwards:
// the first byte outside the alphabet, at i+j, rules out every window that
// starts at or before i+j, so on binary data most windows cost one table
// lookup and the scan moves hashLen bytes at a time. Inside a run, each next
// window only needs its new last byte tested.
func search(s []byte, found func(window []byte) error) error {
	n := len(s)
	i := 0
	for i+hashLen <= n {
		j := hashLen - 1
		for j >= 0 && isBase32[s[i+j]] {
			j--
		}
		if j >= 0 {
			i += j + 1
			continue
		}
		for {
			if err := found(s[i : i+hashLen]); err != nil {
				return err
			}
			if i+hashLen >= n || !isBase32[s[i+hashLen]] {
				i += hashLen + 1
				break
			}
			i++
		}
	}
	return nil
}
