package storefs

// setPortable sets the switch to the walk off Linux, and returns what
// puts it back.
func setPortable(on bool) (restore func()) {
	was := portable
	portable = on
	return func() { portable = was }
}
