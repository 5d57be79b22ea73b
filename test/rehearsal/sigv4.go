package rehearsal

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// motoDecoded are the characters whose percent-escapes moto's server decodes in a request's query before it
// recomputes the request's SigV4 signature (found by experiment with moto 5.2: it keeps %20, %2B, %3D, %26, %25 and
// %23). A client signs the query as it sends it, escaped, so moto refuses, with SignatureDoesNotMatch, any request
// with one of them in its query — such as an S3 ListObjectsV2 with a prefix holding a slash, as every replay sends.
const motoDecoded = "!$'()*,/:;?@[]"

// motoPathDecoded are the characters whose escapes moto decodes in a request's path, and that a path can carry
// unescaped. moto decodes nearly every escape of the path (all but %20 that were tried), then cuts it at ';' (a
// URL's parameters), so an S3 key holding ';', '?', '#', '[', ']' or '%' cannot pass its signature check at all.
const motoPathDecoded = "!$&'()*+,:=@"

// motoQuery returns a raw query as moto sees it: the escapes of motoDecoded decoded.
func motoQuery(raw string) string { return decodeSome(raw, motoDecoded) }

// motoPath returns an escaped path as moto sees it: the escapes of motoPathDecoded decoded.
func motoPath(escaped string) string { return decodeSome(escaped, motoPathDecoded) }

func decodeSome(raw, chars string) string {
	if !strings.Contains(raw, "%") {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' && i+2 < len(raw) {
			if v, err := strconv.ParseUint(raw[i+1:i+3], 16, 8); err == nil && strings.IndexByte(chars, byte(v)) >= 0 {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

var authFields = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$`)

// resignForMoto works around moto's decoding of S3 escapes (see motoDecoded and motoPathDecoded): when an S3 request's
// query or path has such an escape and the request is signed, correctly, with credentials the gate knows the secret of (the admin
// user's, a function's assumed role's), it sends them decoded and signs the request again the way moto will
// check it. A request signed wrongly is left as it is, for moto to refuse.
func (g *gate) resignForMoto(r *http.Request) {
	path, query := r.URL.EscapedPath(), r.URL.RawQuery
	mpath, mquery := motoPath(path), motoQuery(query)
	if mpath == path && mquery == query {
		return
	}
	m := authFields.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[4] != "s3" {
		return
	}
	akid, date, region, service, signed, signature := m[1], m[2], m[3], m[4], m[5], m[6]
	g.mu.Lock()
	secret, ok := g.secrets[akid]
	g.mu.Unlock()
	if !ok {
		return
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if sigV4(r, path, query, payload, secret, date, region, service, signed) != signature {
		return
	}
	r.URL.RawPath, r.URL.RawQuery = mpath, mquery
	if r.URL.EscapedPath() != mpath {
		return // not a path Go sends as it is
	}
	resigned := sigV4(r, mpath, mquery, payload, secret, date, region, service, signed)
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature="+signature, "Signature="+resigned, 1))
}

// sigV4 computes the SigV4 signature of a request over the canonical path given (for S3 the path as written: S3
// does not escape the path twice), the query with its pairs sorted and their escapes kept, as botocore, and so moto,
// canonicalizes it, and the payload's hash.
func sigV4(r *http.Request, path, query, payloadHash, secret, date, region, service, signedHeaders string) string {
	var pairs []string
	if query != "" {
		for _, p := range strings.Split(query, "&") {
			if !strings.Contains(p, "=") {
				p += "="
			}
			pairs = append(pairs, p)
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		ki, vi, _ := strings.Cut(pairs[i], "=")
		kj, vj, _ := strings.Cut(pairs[j], "=")
		if ki != kj {
			return ki < kj
		}
		return vi < vj
	})
	var headers strings.Builder
	for _, h := range strings.Split(signedHeaders, ";") {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		default:
			v = strings.Join(r.Header.Values(h), ",")
		}
		headers.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	if path == "" {
		path = "/"
	}
	canonical := strings.Join([]string{r.Method, path, strings.Join(pairs, "&"), headers.String(), signedHeaders, payloadHash}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	scope := date + "/" + region + "/" + service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + r.Header.Get("X-Amz-Date") + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + secret)
	for _, part := range []string{date, region, service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// resignLambdaForMoto works around how moto checks the signature of a Lambda API request (found with moto 5.2; see
// TestLambdaSignatures, which fails once moto no longer needs it):
//
//   - moto hashes, as the payload of a request without a body (every GET and DELETE: ListEventSourceMappings,
//     GetEventSourceMapping, DeleteEventSourceMapping, GetFunction, …), the form encoding of the request's query
//     parameters, or of its headers when it has no query (core/responses.py parses them into the request's data,
//     and iam/access_control.py signs `body or data`), where the client hashed the empty body: every such request
//     is refused with SignatureDoesNotMatch;
//   - it decodes the escapes of the query that it decodes for S3 (motoDecoded: an ARN's ':' and '/' in
//     ListEventSourceMappings' EventSourceArn and FunctionName) and of the path (motoPathDecoded: a function ARN in
//     the path), and escapes the path once where SigV4 clients escape it twice for every service but S3.
//
// When a Lambda request is signed, correctly, with credentials the gate knows the secret of (the admin user's, a
// function's assumed role's), and moto would check it wrongly or the gate changes it (newBody and newQuery, for the
// enhanced fan-out emulation of [lambdaForMoto]), it is given an X-Amz-Content-Sha256 header with the hash of its
// body (botocore, and so moto, takes that header's value as the payload's hash when it is signed) and signed again
// over the query and path as moto reads them. A request signed wrongly is left as it is, for moto to refuse. It
// reports whether the request was signed again.
func (g *gate) resignLambdaForMoto(r *http.Request, body, newBody []byte, newQuery string) bool {
	path, query := r.URL.EscapedPath(), r.URL.RawQuery
	changed := !bytes.Equal(body, newBody) || newQuery != query
	mpath, mquery := motoPath(path), motoQuery(newQuery)
	if !changed && len(body) > 0 && mpath == path && mquery == query {
		return false // moto checks it right
	}
	m := authFields.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[4] != "lambda" {
		return false
	}
	akid, date, region, service, signed, signature := m[1], m[2], m[3], m[4], m[5], m[6]
	g.mu.Lock()
	secret, ok := g.secrets[akid]
	g.mu.Unlock()
	if !ok || r.Header.Get("X-Amz-Content-Sha256") != "" {
		return false
	}
	// As the AWS SDKs sign it: the escaped path escaped again, the body's hash.
	if sigV4(r, awsEscapePath(path), query, sha256Hex(body), secret, date, region, service, signed) != signature {
		return false
	}
	if changed {
		r.URL.RawQuery = newQuery
		r.Body = io.NopCloser(bytes.NewReader(newBody))
		r.ContentLength = int64(len(newBody))
		r.Header.Set("Content-Length", strconv.Itoa(len(newBody)))
	}
	hash := sha256Hex(newBody)
	r.Header.Set("X-Amz-Content-Sha256", hash)
	headers := append(strings.Split(signed, ";"), "x-amz-content-sha256")
	sort.Strings(headers)
	signed = strings.Join(headers, ";")
	resigned := sigV4(r, awsEscapePath(mpath), mquery, hash, secret, date, region, service, signed)
	r.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
		akid, date, region, service, signed, resigned))
	return true
}

// awsEscapePath escapes a path as SigV4 canonicalizes it: every byte but the unreserved characters and '/'.
func awsEscapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
