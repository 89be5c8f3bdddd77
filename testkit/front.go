package testkit

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// Front is a server in front of a registry that does what Debian's
// docker-registry cannot do without a separate token service: bearer-token
// authentication as Docker Hub, GitLab or Harbor do it (Docker's token
// auth specification), and TLS with a self-signed certificate. Requests it
// lets through go to the registry unchanged, with their Host kept, so the
// registry's Location headers point at the front.
type Front struct {
	Addr string // host:port
	Log  string // one line per request, see StartFront

	srv   *httptest.Server
	opts  FrontOptions
	mu    sync.Mutex
	logf  *os.File
	grant map[string]map[string]bool // token → granted "repository:NAME:ACTION"
	uses  map[string]int             // token → registry requests it let through
}

// FrontOptions configure StartFront.
type FrontOptions struct {
	// Token makes the front ask for bearer tokens: a request without a
	// valid one gets 401 with "WWW-Authenticate: Bearer realm=…/token,
	// service=front,scope=repository:NAME:ACTIONS", and GET /token issues
	// tokens for the scopes asked.
	Token bool
	// Creds, when set ("USER:PASS"), is the only basic auth /token accepts;
	// without it tokens go to anyone (anonymous pulls, as from a public
	// repository).
	Creds string
	// TLS serves HTTPS with a self-signed certificate for 127.0.0.1, which
	// clients accept only when told not to verify it.
	TLS bool
	// Delay holds each registry request this long before forwarding it: a
	// slow registry, so that a client's progress bar is drawn.
	Delay time.Duration
	// AnonymousPull, with Creds, gives a token without basic auth too,
	// granting only pull (Docker Hub's public repositories): a push
	// without credentials is refused with a token in hand.
	AnonymousPull bool
	// TokenUses, when > 0, is how many registry requests a token is good
	// for: the next one gets 401 and a challenge, as when a token expires
	// in the middle of a push (Docker Hub's last five minutes).
	TokenUses int
}

// StartFront starts a front forwarding to upstream (host:port), logging
// to logFile lines that read
//
//	token user=USER scope=SCOPE... status=STATUS
//	METHOD PATH auth=bearer|expired|none status=STATUS
//
// (user "-" for an anonymous token request).
func StartFront(upstream, logFile string, opts FrontOptions) (*Front, error) {
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	f := &Front{Log: logFile, opts: opts, logf: logf, grant: map[string]map[string]bool{}, uses: map[string]int{}}
	rp := reverseProxy(upstream)
	rewrite := rp.Rewrite
	rp.Rewrite = func(r *httputil.ProxyRequest) {
		rewrite(r)
		r.SetXForwarded() // X-Forwarded-Proto: the registry's URLs say https behind TLS
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/token", f.token)
	mux.Handle("/", f.guard(rp))
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Config.ErrorLog = quietLog()
	if opts.TLS {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	f.Addr = f.srv.Listener.Addr().String()
	return f, nil
}

// Stop closes the front and its connections.
func (f *Front) Stop() {
	f.srv.Close()
	f.mu.Lock()
	f.logf.Close()
	f.mu.Unlock()
}

func (f *Front) logLine(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(f.logf, format+"\n", args...)
}

// token issues a token for the scopes asked, to the right basic auth (or
// anyone when the front has no Creds).
func (f *Front) token(w http.ResponseWriter, r *http.Request) {
	scopes := r.URL.Query()["scope"]
	user, pass, ok := r.BasicAuth()
	if !ok {
		user = "-"
	}
	pullOnly := false
	if f.opts.Creds != "" && !ok && f.opts.AnonymousPull {
		pullOnly = true // as Docker Hub: a token, for what anyone may do
	} else if f.opts.Creds != "" && (!ok || user+":"+pass != f.opts.Creds) {
		f.logLine("token user=%s scope=%s status=401", user, strings.Join(scopes, " "))
		w.Header().Set("WWW-Authenticate", `Basic realm="front"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"wrong credentials"}]}`, http.StatusUnauthorized)
		return
	}
	granted := map[string]bool{}
	// A scope parameter may hold several, space-separated (the token
	// spec; go-containerregistry sends a challenge's scope as it came).
	for _, s := range strings.Fields(strings.Join(scopes, " ")) {
		// repository:NAME:pull,push (NAME may hold ':' only before a port,
		// which repository names do not).
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			continue
		}
		for _, action := range strings.Split(s[i+1:], ",") {
			if !pullOnly || action == "pull" {
				granted[s[:i]+":"+action] = true
			}
		}
	}
	var b [16]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	f.mu.Lock()
	f.grant[tok] = granted
	f.mu.Unlock()
	f.logLine("token user=%s scope=%s status=200", user, strings.Join(scopes, " "))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
}

// guard lets a request through when its bearer token grants what it
// needs: anything for /v2/ itself, else pull (GET, HEAD) or push on its
// repository, and pull on the repository a mount is from.
func (f *Front) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		auth := "none"
		defer func() { f.logLine("%s %s auth=%s status=%d", r.Method, r.URL.Path, auth, rw.status) }()
		time.Sleep(f.opts.Delay)
		if !f.opts.Token {
			next.ServeHTTP(rw, r)
			return
		}
		var need []string
		scope := ""
		if repo, ok := repository(r.URL.Path); ok {
			need, scope = []string{"repository:" + repo + ":push"}, "repository:"+repo+":pull,push"
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				need, scope = []string{"repository:" + repo + ":pull"}, "repository:"+repo+":pull"
			}
			// A cross-repository mount needs pull on the repository it
			// mounts from, as distribution's token auth wants.
			if from := r.URL.Query().Get("from"); from != "" && r.Method == http.MethodPost {
				need = append(need, "repository:"+from+":pull")
				scope += " repository:" + from + ":pull"
			}
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		granted, known := f.grant[tok]
		expired := f.opts.TokenUses > 0 && f.uses[tok] >= f.opts.TokenUses
		if ok && known && !expired {
			f.uses[tok]++
		}
		f.mu.Unlock()
		if expired {
			auth = "expired"
		}
		if ok && known && !expired && grants(granted, need) {
			auth = "bearer"
			next.ServeHTTP(rw, r)
			return
		}
		scheme := "http"
		if f.opts.TLS {
			scheme = "https"
		}
		challenge := fmt.Sprintf(`Bearer realm="%s://%s/token",service="front"`, scheme, r.Host)
		if scope != "" {
			challenge += fmt.Sprintf(`,scope="%s"`, scope)
		}
		rw.Header().Set("WWW-Authenticate", challenge)
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusUnauthorized)
		io.WriteString(rw, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	})
}

func grants(granted map[string]bool, need []string) bool {
	for _, n := range need {
		if !granted[n] {
			return false
		}
	}
	return true
}

// repository returns NAME of a /v2/NAME/{manifests,blobs,tags}/… path.
func repository(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return "", false
	}
	for _, kind := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.Index(rest, kind); i > 0 {
			return rest[:i], true
		}
	}
	return "", false
}

// FrontCommands returns the script command for a registry behind a Front,
// to add to Params' Cmds:
//
//	registry-front [-token [-creds USER:PASS [-anonymous-pull]] [-token-uses N]] [-tls] [-delay DURATION]
//	    starts a registry as registry-start does ($REGISTRY, $REGISTRY_DIR,
//	    $REGISTRY_LOG; no authentication there, so tests can push and
//	    check directly) and a Front before it: $FRONT (host:port) and
//	    $FRONT_LOG (see StartFront and FrontOptions); with -tls,
//	    $FRONT_CA, its self-signed certificate (PEM), a CA bundle.
func FrontCommands() Cmds {
	return Cmds{
		"registry-front": cmdRegistryFront,
	}
}

func cmdRegistryFront(ts *testscript.TestScript, neg bool, args []string) {
	var opts FrontOptions
	rest := flags(ts, "registry-front", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&opts.Token, "token", false, "")
		fs.StringVar(&opts.Creds, "creds", "", "")
		fs.BoolVar(&opts.TLS, "tls", false, "")
		fs.DurationVar(&opts.Delay, "delay", 0, "")
		fs.IntVar(&opts.TokenUses, "token-uses", 0, "")
		fs.BoolVar(&opts.AnonymousPull, "anonymous-pull", false, "")
	})
	if len(rest) != 0 || (opts.Creds != "" || opts.TokenUses != 0) && !opts.Token || opts.AnonymousPull && opts.Creds == "" {
		ts.Fatalf("usage: registry-front [-token [-creds USER:PASS [-anonymous-pull]] [-token-uses N]] [-tls] [-delay DURATION]")
	}
	cmdRegistryStart(ts, false, nil)
	f, err := StartFront(ts.Getenv("REGISTRY"), ts.MkAbs("front.log"), opts)
	ts.Check(err)
	ts.Defer(f.Stop)
	ts.Setenv("FRONT", f.Addr)
	ts.Setenv("FRONT_LOG", f.Log)
	if opts.TLS {
		// The self-signed certificate, for clients given a CA bundle.
		ca := ts.MkAbs("front-ca.pem")
		ts.Check(os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o644))
		ts.Setenv("FRONT_CA", ca)
	}
}
