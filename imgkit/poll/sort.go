package poll

import "slices"

// SortFunc sorts s by cmp, looking at done (a phase's look, Stopped) as
// it goes: slices' sorts never return before they are done, and sorting
// 1,000,000 paths by size took about a second, past what a SIGTERM may
// wait. Runs of Every elements are sorted, then merged pairwise, a look
// before each run and every Every elements merged. cmp must be a total
// order (only an element compares equal to itself: break ties by
// something unique, such as a node's number), so that the result is the
// one sorted order whatever the algorithm, the same as slices.SortFunc's
// or SortStableFunc's. It returns false, with s in no particular order,
// when done closed.
func SortFunc[S ~[]E, E any](s S, cmp func(a, b E) int, done <-chan struct{}, phase string) bool {
	n := len(s)
	for lo := 0; lo < n; lo += Every {
		if Stopped(done, phase) {
			return false
		}
		slices.SortFunc(s[lo:min(lo+Every, n)], cmp)
	}
	if n <= Every {
		return true
	}
	src, dst := s, make(S, n)
	for width := Every; width < n; width *= 2 {
		for lo := 0; lo < n; lo += 2 * width {
			mid, hi := min(lo+width, n), min(lo+2*width, n)
			if !merge(dst[lo:hi], src[lo:mid], src[mid:hi], cmp, done, phase) {
				return false
			}
		}
		src, dst = dst, src
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
	return true
}

// merge writes the sorted a and b, merged, to out (len(a)+len(b) long),
// looking every Every elements: the last merges are of the whole slice.
func merge[E any](out, a, b []E, cmp func(a, b E) int, done <-chan struct{}, phase string) bool {
	i, j := 0, 0
	for k := range out {
		if k%Every == Every-1 && Stopped(done, phase) {
			return false
		}
		if j == len(b) || i < len(a) && cmp(a[i], b[j]) <= 0 {
			out[k] = a[i]
			i++
		} else {
			out[k] = b[j]
			j++
		}
	}
	return true
}
