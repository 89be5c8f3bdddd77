package testkit

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
)

// listenLogged opens logFile for appending (one line per request a test
// proxy sees) and a listener on a free loopback port.
func listenLogged(logFile string) (net.Listener, *os.File, error) {
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logf.Close()
		return nil, nil, err
	}
	return l, logf, nil
}

// reverseProxy forwards to upstream (host:port) over plain HTTP, keeping
// the Host the client asked for, so that the registry's URLs stay the
// proxy's.
func reverseProxy(upstream string) *httputil.ReverseProxy {
	target := &url.URL{Scheme: "http", Host: upstream}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		ErrorLog: quietLog(),
	}
}

// serve serves h on l in the background; the cuts and refusals the tests
// provoke are expected, so nothing is logged.
func serve(l net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ErrorLog: quietLog()}
	go srv.Serve(l)
	return srv
}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }
