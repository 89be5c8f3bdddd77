// Package registry is the registry glue shared by pull-blob (and a later push
// step): reference parsing, credentials, an authenticated client whose blob
// reads are verified, retried and resumed, platform selection in manifest
// lists, and the progress bar.
//
// # What comes from go-containerregistry, and what is ours
//
// References (pkg/name), credentials' types (pkg/authn), the handshake
// with the registry (ping, basic auth, bearer-token exchange, scheme
// fallback; pkg/v1/remote/transport) and its retries on 5xx and network
// errors come from go-containerregistry. On top of that transport, Client
// does the two GETs a pull needs itself, a manifest and a blob, because
// remote's readers can neither resume an interrupted blob nor report a
// digest mismatch that callers can match with errors.Is. Where credentials
// are found is ours (see Credentials): go-containerregistry's keychain
// read one file of several and waited on credential helpers forever.
//
// # What is verified when
//
//   - A manifest fetched by digest is hashed before it is parsed; a mismatch
//     is errdefs.ErrDigestMismatch. A manifest fetched by tag is hashed and
//     its digest returned, so callers can pin it.
//   - A blob reader counts and hashes every byte it returns; at the end it
//     checks the size and digest and returns errdefs.ErrDigestMismatch instead
//     of io.EOF when they differ. Callers must read to io.EOF before trusting
//     (or writing anything built from) what they read.
//   - A blob larger than its descriptor says is refused as soon as it is.
//   - A manifest PUT answered with a Docker-Content-Digest other than the
//     bytes' is errdefs.ErrDigestMismatch: the registry stored another
//     manifest (rewrote it), which the digest a push prints would not pull.
//
// # Robustness
//
// Requests that fail with a 5xx status, 408, 429, a refused, reset or timed
// out connection are retried with exponential backoff (Options.Retries
// times). A blob whose body breaks off is resumed with a Range request from
// the byte it stopped at; a registry that ignores Range (answers 200) is
// read again from the start with the bytes already seen skipped. A request
// on which nothing moves for Options.IdleTimeout (an upload the registry
// stops taking, a response that does not come, a manifest, token or blob
// body that delivers nothing while it is read) fails as broken, wherever
// it is sent (the registry, its token server, a redirect), so a registry
// that stops answering cannot keep a pull or a push waiting forever; so
// does a body that moves at less than 1 KiB a second over that much time
// spent waiting on it (minRate), so one that trickles cannot either. What
// is read of a registry's answers is bounded: a manifest to 16 MiB, the
// answer to the ping to 64 KiB (go-containerregistry reads it to its end
// otherwise), a token answer and an error body to 64 KiB
// (go-containerregistry's bounds), a blob to the size its descriptor
// gives.
//
// # Credentials
//
// Options.Auth (--creds "USER:PASS", or --creds-file: CredsFlags) is used
// as basic credentials (or to obtain a bearer token) for the registry of
// the reference. Without it, credentials
// come from the first of these that has some for the registry (fileKeychain):
// $DOCKER_AUTH_CONFIG, $DOCKER_CONFIG/config.json, $REGISTRY_AUTH_FILE,
// ~/.docker/config.json (a file the environment names before one found by
// default), each config.json with its credsStore and credHelpers (the
// docker-credential-NAME programs on PATH, each given IdleTimeout to answer
// and 64 KiB to say it in), and podman's and skopeo's
// auth.json ($XDG_RUNTIME_DIR/containers/auth.json, then
// $XDG_CONFIG_HOME/containers/auth.json); with none, requests are
// anonymous. Secrets never appear in errors or logs: registry error bodies
// are reduced to their codes and messages and URLs lose their query
// strings (pre-signed redirects).
// Without Options.Insecure no request goes in plain HTTP to a host that is
// not on a loopback or private address, wherever the registry redirects,
// unless a request in plain HTTP was redirected there (a registry in plain
// HTTP whose storage is plain too; plainGuard), and no credential (a
// password, a token got with one) goes in plain HTTP to a host that is not
// this machine (clearGuard).
package registry
