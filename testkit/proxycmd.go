package testkit

import (
	"flag"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// ProxyCommands returns the script command for a registry behind a
// recording proxy, to add to Params' Cmds:
//
//	registry-proxy [-htpasswd FILE] [-cut-after N [-stop | -restart]]
//	    starts a registry as registry-start does ($REGISTRY, $REGISTRY_DIR,
//	    $REGISTRY_LOG) and a proxy in front of it: $PROXY (host:port) and
//	    $PROXY_LOG (see StartProxy for its lines). -cut-after N cuts the
//	    first blob download longer than N bytes after N bytes, once; with
//	    -stop the registry is killed at that moment, with -restart it is
//	    killed and started again a second later (same storage and port).
func ProxyCommands() Cmds {
	return Cmds{
		"registry-proxy": cmdRegistryProxy,
	}
}

func cmdRegistryProxy(ts *testscript.TestScript, neg bool, args []string) {
	var ropts RegistryOptions
	var cutAfter int64
	var stop, restart bool
	rest := flags(ts, "registry-proxy", args, func(fs *flag.FlagSet) {
		fs.StringVar(&ropts.Htpasswd, "htpasswd", "", "")
		fs.Int64Var(&cutAfter, "cut-after", 0, "")
		fs.BoolVar(&stop, "stop", false, "")
		fs.BoolVar(&restart, "restart", false, "")
	})
	if len(rest) != 0 || stop && restart || (stop || restart) && cutAfter == 0 {
		ts.Fatalf("usage: registry-proxy [-htpasswd FILE] [-cut-after N [-stop | -restart]]")
	}
	r, dir := startScriptRegistry(ts, &ropts)

	// The registry running now; a restart replaces it.
	var mu sync.Mutex
	var restarting sync.WaitGroup
	current := r
	ts.Defer(func() {
		restarting.Wait()
		mu.Lock()
		defer mu.Unlock()
		if current != nil {
			current.Stop()
		}
	})
	popts := ProxyOptions{CutAfter: cutAfter}
	if stop || restart {
		popts.OnCut = func() {
			mu.Lock()
			current.Stop()
			current = nil
			mu.Unlock()
			if !restart {
				return
			}
			restarting.Add(1)
			go func() {
				defer restarting.Done()
				time.Sleep(time.Second)
				again := ropts
				again.Dir, again.Addr = r.Dir, r.Addr
				r2, err := StartRegistry(dir, again)
				if err != nil {
					ts.Logf("registry-proxy: restarting the registry: %v", err)
					return
				}
				mu.Lock()
				current = r2
				mu.Unlock()
			}()
		}
	}
	p, err := StartProxy(r.Addr, ts.MkAbs("proxy.log"), popts)
	ts.Check(err)
	ts.Defer(p.Stop)
	ts.Setenv("PROXY", p.Addr)
	ts.Setenv("PROXY_LOG", p.Log)
}
