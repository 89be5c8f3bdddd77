package testkit

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// PushCommands returns the script commands of push tests, to add to
// Params' Cmds:
//
//	registry-writes LOG
//	    prints, sorted, what the registry's access log LOG (such as
//	    $REGISTRY_LOG) says was written: "upload DIGEST" for each blob
//	    upload committed, "mount DIGEST" for each blob mounted from
//	    another repository, "manifest REPO:REF" for each manifest put.
//	    Empty the log (: > "$REGISTRY_LOG") to count from a point on.
//	upload-proxy -cut-after N
//	    starts a registry as registry-start does ($REGISTRY, $REGISTRY_DIR,
//	    $REGISTRY_LOG) and a proxy in front of it ($UPLOAD_PROXY,
//	    host:port) that cuts, once, the first blob upload request (PATCH)
//	    whose bytes go past byte N of the blob (by its Content-Range, else
//	    from 0): the bytes before N are forwarded, then both connections
//	    are broken. Its log,
//	    $UPLOAD_PROXY_LOG, has a line per PATCH:
//	        PATCH content-range=RANGE status=STATUS [cut]
//	    (RANGE "-" without a Content-Range header).
func PushCommands() Cmds {
	return Cmds{
		"registry-writes": cmdRegistryWrites,
		"upload-proxy":    cmdUploadProxy,
	}
}

var accessRE = regexp.MustCompile(`"([A-Z]+) (\S+) HTTP/[0-9.]+" ([0-9]{3}) `)

// RegistryWrites reads a distribution registry's access log; see
// PushCommands.
func RegistryWrites(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := accessRE.FindStringSubmatch(sc.Text())
		if m == nil || m[3] != "201" {
			continue
		}
		u, err := url.Parse(m[2])
		if err != nil {
			return nil, err
		}
		_, rest, ok := strings.Cut(strings.TrimPrefix(u.Path, "/v2/"), "/blobs/uploads/")
		switch {
		case ok && m[1] == "PUT":
			out = append(out, "upload "+u.Query().Get("digest"))
		case ok && m[1] == "POST" && rest == "" && u.Query().Get("mount") != "":
			out = append(out, "mount "+u.Query().Get("mount"))
		case m[1] == "PUT" && strings.Contains(u.Path, "/manifests/"):
			repo, ref, _ := strings.Cut(strings.TrimPrefix(u.Path, "/v2/"), "/manifests/")
			out = append(out, "manifest "+repo+":"+ref)
		}
	}
	slices.Sort(out)
	return out, sc.Err()
}

func cmdRegistryWrites(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: registry-writes LOG")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	lines, err := RegistryWrites(f)
	ts.Check(err)
	for _, l := range lines {
		fmt.Fprintln(ts.Stdout(), l)
	}
}

func cmdUploadProxy(ts *testscript.TestScript, neg bool, args []string) {
	var cutAfter, refuseAfter int64
	rest := flags(ts, "upload-proxy", args, func(fs *flag.FlagSet) {
		fs.Int64Var(&cutAfter, "cut-after", 0, "")
		fs.Int64Var(&refuseAfter, "refuse-after", 0, "")
	})
	if len(rest) != 0 || (cutAfter > 0) == (refuseAfter > 0) {
		ts.Fatalf("usage: upload-proxy -cut-after N | -refuse-after N")
	}
	cmdRegistryStart(ts, false, nil)
	p, err := startUploadProxy(ts.Getenv("REGISTRY"), ts.MkAbs("upload-proxy.log"), max(cutAfter, refuseAfter), refuseAfter > 0)
	ts.Check(err)
	ts.Defer(p.stop)
	ts.Setenv("UPLOAD_PROXY", p.addr)
	ts.Setenv("UPLOAD_PROXY_LOG", p.logFile)
}

// uploadProxy forwards to a registry and cuts one upload request.
type uploadProxy struct {
	addr, logFile string
	srv           *http.Server
	rp            *httputil.ReverseProxy
	target        string
	cutAfter      int64
	refuse        bool // answer 503 instead of cutting

	mu   sync.Mutex
	cut  bool
	logf *os.File
}

func startUploadProxy(upstream, logFile string, cutAfter int64, refuse bool) (*uploadProxy, error) {
	l, logf, err := listenLogged(logFile)
	if err != nil {
		return nil, err
	}
	p := &uploadProxy{addr: l.Addr().String(), logFile: logFile, logf: logf, cutAfter: cutAfter, refuse: refuse, target: upstream}
	p.rp = reverseProxy(upstream)
	p.srv = serve(l, http.HandlerFunc(p.serve))
	return p, nil
}

func (p *uploadProxy) stop() {
	p.srv.Close()
	p.mu.Lock()
	p.logf.Close()
	p.mu.Unlock()
}

func (p *uploadProxy) logLine(r *http.Request, status int, what string) {
	cr := r.Header.Get("Content-Range")
	if cr == "" {
		cr = "-"
	}
	line := fmt.Sprintf("PATCH content-range=%s status=%d", cr, status)
	if what != "" {
		line += " " + what
	}
	p.mu.Lock()
	fmt.Fprintln(p.logf, line)
	p.mu.Unlock()
}

func (p *uploadProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPatch {
		p.rp.ServeHTTP(w, r)
		return
	}
	start := int64(0)
	if cr := r.Header.Get("Content-Range"); cr != "" {
		fmt.Sscanf(cr, "%d-", &start)
	}
	keep := p.cutAfter - start
	p.mu.Lock()
	cut := !p.cut && keep >= 0 && r.ContentLength > keep
	p.cut = p.cut || cut
	p.mu.Unlock()
	if !cut {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		p.rp.ServeHTTP(rec, r)
		p.logLine(r, rec.status, "")
		return
	}
	if p.refuse {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
		p.logLine(r, http.StatusServiceUnavailable, "refused")
		return
	}
	// Forward the bytes before the cut, then break both connections: the
	// registry sees a body that ends early, the client a connection reset
	// in the middle of its request.
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.RequestURI = "http", p.target, ""
	pr, pw := io.Pipe()
	go func() {
		io.CopyN(pw, r.Body, keep)
		pw.CloseWithError(io.ErrUnexpectedEOF)
	}()
	out.Body = pr
	if resp, err := http.DefaultTransport.RoundTrip(out); err == nil {
		resp.Body.Close()
	}
	p.logLine(r, 0, "cut")
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
