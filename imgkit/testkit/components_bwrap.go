package testkit

// bwrap (bubblewrap, which scripts/install-test-deps installs) lets a test
// run a command as another user in a user namespace that may create no
// further ones (bwrap --disable-userns, bubblewrap 0.8 and later): the
// machine a --run-as-root test needs to see refused, without changing the
// host's sysctls under other tests.
func init() { componentBinaries["bwrap"] = []string{"bwrap"} }
