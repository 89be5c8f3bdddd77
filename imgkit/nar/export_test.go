package nar

// SetTestHookOpen sets testHookOpen (dump.go) for the tests of package
// nar_test.
func SetTestHookOpen(f func(rel string)) { testHookOpen = f }
