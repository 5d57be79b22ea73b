package rehearsal

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// call is what a request to an AWS API asks: its service (the signing name), its IAM action, and the authorization
// questions the rehearsal can derive from it (one per resource it touches; none when the resource cannot be told from
// the request, such as a shard iterator's).
type call struct {
	Service string
	Action  string
	Checks  []request
	// Resource names what the request touches, for reports: the checks' resources, or what the request names.
	Resource string
}

// rolePolicy is one policy of a function's role as the rehearsal holds it: the template's document (or a test's
// replacement), unwidened.
type rolePolicy struct {
	Name             string
	ManagedPolicyARN string
	Source           string
	Document         json.RawMessage // nil for a managed policy the assembly does not define
	parsed           *policy
}

// roleState is what the gate knows of a function role.
type roleState struct {
	Stack, LogicalID string
	Name, ARN        string
	Policies         []*rolePolicy
}

// gate stands between the functions and moto (their AWS_ENDPOINT_URL). Requests signed with a function's credentials
// are checked against its role's policies, with their resources, for the services moto checks by action only; a
// refusal (the gate's or moto's) is recorded as a Denial. Everything else passes unchanged.
type gate struct {
	upstream        *url.URL
	proxy           *httputil.ReverseProxy
	region, account string

	mu      sync.Mutex
	keys    map[string]*Function // access key id → the function whose process got it
	secrets map[string]string    // access key id → secret, of the credentials the rehearsal issued (see resignForMoto)
	roles   map[string]*roleState
	denials []Denial
	// consumerExists, when set, checks with moto that a Kinesis stream consumer exists, for the enhanced fan-out
	// emulation of lambdaForMoto (off when nil); consumerMappings are the mappings of consumers it made, by UUID.
	consumerExists   func(ctx context.Context, consumerARN string) error
	consumerMappings map[string]string
	notes            map[string]bool
	// checked, unchecked and byMoto count, by action, the function requests whose resources the gate checked, those
	// left to moto's check of the action alone, and those moto checks with their resources (S3, SQS, IAM, STS).
	checked, unchecked, byMoto map[string]int
}

type gateCtxKey struct{}

// gateCtx travels with a forwarded request to ModifyResponse.
type gateCtx struct {
	fn   *Function // nil for a request of other credentials than a function's
	call call
	// answer corrects moto's answer (see lambdaForMoto); nil keeps it.
	answer func(status int, body []byte) (int, []byte)
}

func newGate(upstream, region, account string) (*gate, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	g := &gate{upstream: u, region: region, account: account, keys: map[string]*Function{}, secrets: map[string]string{}, roles: map[string]*roleState{},
		consumerMappings: map[string]string{}, notes: map[string]bool{}, checked: map[string]int{}, unchecked: map[string]int{}, byMoto: map[string]int{}}
	g.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			host := pr.In.Host
			pr.SetURL(u)
			pr.Out.Host = host                       // as signed
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery // as signed: ReverseProxy drops parameters holding a ';'
		},
		ModifyResponse: g.observe,
	}
	return g, nil
}

func roleKey(stack, logicalID string) string { return stack + "/" + logicalID }

// ServeHTTP checks a function's request, makes right for moto what it gets wrong (see resignForMoto, lambdaForMoto
// and resignLambdaForMoto), and forwards the request to moto.
func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.resignForMoto(r)
	var body []byte
	if r.Body != nil && !isS3(r) {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	gc := &gateCtx{fn: g.function(r)}
	if gc.fn != nil {
		gc.call = classify(r, body, g.region, g.account)
		if !g.authorize(w, gc.fn, gc.call) {
			return
		}
	}
	if m := signingService.FindStringSubmatch(r.Header.Get("Authorization")); m != nil && m[1] == "lambda" {
		p := g.lambdaForMoto(r, body)
		gc.answer = p.answer
		g.resignLambdaForMoto(r, body, p.body, p.query)
	}
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), gateCtxKey{}, gc)))
}

// authorize checks a function's call with its resources, for a service moto checks by action only, and answers a
// refusal as the service would. It reports whether the call may go on.
func (g *gate) authorize(w http.ResponseWriter, fn *Function, c call) bool {
	g.mu.Lock()
	if resourceMatched(c.Service) {
		g.byMoto[c.Action]++
		g.mu.Unlock()
		return true
	}
	role := g.roles[roleKey(fn.Stack, fn.RoleLogicalID)]
	if len(c.Checks) == 0 || role == nil {
		g.unchecked[c.Action]++
		g.mu.Unlock()
		return true
	}
	var policies []*policy
	complete := true
	for _, p := range role.Policies {
		if p.parsed == nil {
			complete = false
			continue
		}
		policies = append(policies, p.parsed)
	}
	g.checked[c.Action]++
	g.mu.Unlock()
	for _, req := range c.Checks {
		d := evaluate(policies, req, g.note)
		if d == allowed || (d == implicitDeny && !complete) {
			continue // a policy the rehearsal cannot read may allow it: moto has the last word
		}
		why := "because no identity-based policy allows the " + req.Action + " action"
		if d == explicitDeny {
			why = "with an explicit deny in an identity-based policy"
		}
		msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", fn.sessionARN(), req.Action, req.Resource, why)
		g.record(Denial{Function: fn.Name(), Stack: fn.Stack, LogicalID: fn.LogicalID, Role: fn.RoleName,
			Action: req.Action, Resource: req.Resource, By: "rehearsal", Message: msg})
		writeDenied(w, c.Service, msg)
		return false
	}
	return true
}

// observe corrects moto's answers where the gate knows better (see lambdaForMoto) and records moto's refusals of
// function requests. moto answers a refusal with an XML body whatever the service's protocol; for a JSON protocol
// (X-Amz-Target, and the Lambda API's REST JSON) the SDK cannot read it ("deserialization failed"), so the gate answers
// as AWS does: AccessDeniedException (or moto's code, such as SignatureDoesNotMatch) with the message, in JSON, with
// status 400 (403 for Lambda).
func (g *gate) observe(resp *http.Response) error {
	gc, _ := resp.Request.Context().Value(gateCtxKey{}).(*gateCtx)
	if gc != nil && gc.answer != nil {
		if err := correctAnswer(resp, gc.answer); err != nil {
			return err
		}
	}
	if resp.StatusCode != http.StatusForbidden {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return err
	}
	msg := errorMessage(body)
	lambdaREST := signingService.FindStringSubmatch(resp.Request.Header.Get("Authorization"))
	isLambda := lambdaREST != nil && lambdaREST[1] == "lambda"
	if (resp.Request.Header.Get("X-Amz-Target") != "" || isLambda) && bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		code, text, _ := strings.Cut(msg, ": ")
		if code == "AccessDenied" {
			code = "AccessDeniedException"
		}
		b, _ := json.Marshal(map[string]string{"__type": code, "message": text})
		resp.Header.Set("Content-Type", "application/x-amz-json-1.0")
		if isLambda {
			b, _ = json.Marshal(map[string]string{"Type": "User", "Message": text})
			resp.Header.Set("Content-Type", "application/json")
		} else {
			resp.StatusCode, resp.Status = http.StatusBadRequest, "400 Bad Request"
		}
		resp.Header.Set("X-Amzn-Errortype", code)
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		resp.ContentLength = int64(len(b))
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	if gc == nil || gc.fn == nil {
		return nil
	}
	action := gc.call.Action
	if m := motoDenied.FindStringSubmatch(msg); m != nil {
		action = m[1]
	}
	g.record(Denial{Function: gc.fn.Name(), Stack: gc.fn.Stack, LogicalID: gc.fn.LogicalID, Role: gc.fn.RoleName,
		Action: action, Resource: gc.call.Resource, By: "moto", Status: resp.StatusCode, Message: msg})
	return nil
}

var motoDenied = regexp.MustCompile(`not authorized to perform: (\S+)`)

// errorMessage returns the code and message of an AWS error body, XML or JSON, or the body itself.
func errorMessage(body []byte) string {
	var x struct {
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
		Errors  struct {
			Code    string `xml:"Error>Code"`
			Message string `xml:"Error>Message"`
		} `xml:"Errors"`
		// S3's errors are <Error><Code>…</Code><Message>…</Message></Error>.
		S3Code    string `xml:"Code"`
		S3Message string `xml:"Message"`
	}
	if xml.Unmarshal(body, &x) == nil {
		for _, cm := range [][2]string{{x.Code, x.Message}, {x.Errors.Code, x.Errors.Message}, {x.S3Code, x.S3Message}} {
			if cm[0] != "" || cm[1] != "" {
				return strings.TrimSpace(cm[0] + ": " + cm[1])
			}
		}
	}
	var j map[string]any
	if json.Unmarshal(body, &j) == nil {
		code, _ := j["__type"].(string)
		msg, _ := j["message"].(string)
		if msg == "" {
			msg, _ = j["Message"].(string)
		}
		return strings.TrimSpace(code + ": " + msg)
	}
	return strings.TrimSpace(string(body))
}

func (g *gate) record(d Denial) {
	d.Time = time.Now()
	g.mu.Lock()
	g.denials = append(g.denials, d)
	g.mu.Unlock()
}

func (g *gate) note(s string) {
	g.mu.Lock()
	g.notes[s] = true
	g.mu.Unlock()
}

// function returns the function whose credentials signed the request, nil for any other signer.
func (g *gate) function(r *http.Request) *Function {
	key := accessKeyOf(r)
	if key == "" {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.keys[key]
}

var credentialField = regexp.MustCompile(`Credential=([^/,\s]+)/`)

// accessKeyOf returns the access key id a request is signed with, "" when it is not signed.
func accessKeyOf(r *http.Request) string {
	if m := credentialField.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		k, _, _ := strings.Cut(c, "/")
		return k
	}
	return ""
}

var signingService = regexp.MustCompile(`Credential=[^/,\s]+/\d{8}/[a-z0-9-]+/([a-z0-9-]+)/`)

func isS3(r *http.Request) bool {
	m := signingService.FindStringSubmatch(r.Header.Get("Authorization"))
	return m != nil && m[1] == "s3"
}

// writeDenied answers a refusal as the service does: JSON protocols with AccessDeniedException (400), the Lambda API
// with AccessDeniedException (403), query protocols with an XML AuthorizationError (SNS) or AccessDenied (403).
func writeDenied(w http.ResponseWriter, service, msg string) {
	switch service {
	case "lambda":
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		b, _ := json.Marshal(map[string]string{"Message": msg, "Type": "User"})
		w.Write(b)
	case "sns", "sts", "iam":
		code := "AccessDenied"
		if service == "sns" {
			code = "AuthorizationError"
		}
		var b bytes.Buffer
		b.WriteString(`<ErrorResponse><Error><Type>Sender</Type><Code>` + code + `</Code><Message>`)
		xml.EscapeText(&b, []byte(msg))
		b.WriteString(`</Message></Error><RequestId>rehearsal</RequestId></ErrorResponse>`)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write(b.Bytes())
	default:
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		b, _ := json.Marshal(map[string]string{"__type": "AccessDeniedException", "message": msg})
		w.Write(b)
	}
}

// classify tells the service, action and resources of a request from its signature, target header or form, path and
// body.
func classify(r *http.Request, body []byte, region, account string) call {
	c := call{}
	if m := signingService.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		c.Service = m[1]
	}
	op := ""
	var j map[string]any
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		_, op, _ = strings.Cut(t, ".")
		json.Unmarshal(body, &j)
	} else if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil {
			op = form.Get("Action")
			j = map[string]any{}
			for k, v := range form {
				j[k] = v[0]
			}
		}
	}
	str := func(k string) string { s, _ := j[k].(string); return s }
	add := func(action, resource string, ctx map[string][]string) {
		c.Checks = append(c.Checks, request{Action: action, Resource: resource, Context: ctx})
	}
	arn := func(svc, rest string) string { return fmt.Sprintf("arn:aws:%s:%s:%s:%s", svc, region, account, rest) }
	c.Action = c.Service + ":" + op
	switch c.Service {
	case "dynamodb":
		table := func(name string) string {
			if strings.HasPrefix(name, "arn:") {
				return name
			}
			return arn("dynamodb", "table/"+name)
		}
		switch op {
		case "BatchWriteItem", "BatchGetItem":
			items, _ := j["RequestItems"].(map[string]any)
			for _, t := range sortedKeys(items) {
				add(c.Action, table(t), nil)
			}
		case "TransactWriteItems", "TransactGetItems":
			ctx := map[string][]string{"dynamodb:enclosingoperation": {op}}
			items, _ := j["TransactItems"].([]any)
			for _, it := range items {
				m, _ := it.(map[string]any)
				for kind, action := range map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"} {
					if v, ok := m[kind].(map[string]any); ok {
						t, _ := v["TableName"].(string)
						add("dynamodb:"+action, table(t), ctx)
					}
				}
			}
		case "ListTables", "ListStreams", "DescribeLimits", "DescribeEndpoints", "ListBackups", "ListGlobalTables", "ListExports", "ListImports":
			add(c.Action, "*", nil)
		default:
			switch {
			case str("TableName") != "":
				res := table(str("TableName"))
				if ix := str("IndexName"); ix != "" {
					res += "/index/" + ix
				}
				add(c.Action, res, nil)
			case str("StreamArn") != "":
				add(c.Action, str("StreamArn"), nil)
			case str("ResourceArn") != "":
				add(c.Action, str("ResourceArn"), nil)
			}
		}
	case "kinesis":
		switch {
		case op == "ListStreams":
			add(c.Action, "*", nil)
		case str("ConsumerARN") != "":
			add(c.Action, str("ConsumerARN"), nil)
		case str("StreamARN") != "":
			add(c.Action, str("StreamARN"), nil)
		case str("StreamName") != "":
			add(c.Action, arn("kinesis", "stream/"+str("StreamName")), nil)
		}
	case "states":
		switch {
		case str("stateMachineArn") != "":
			add(c.Action, str("stateMachineArn"), nil)
		case str("executionArn") != "":
			add(c.Action, str("executionArn"), nil)
		case strings.HasPrefix(op, "List") && op != "ListExecutions" || strings.HasPrefix(op, "SendTask"):
			add(c.Action, "*", nil)
		}
	case "sns":
		switch {
		case str("TopicArn") != "":
			add(c.Action, str("TopicArn"), nil)
		case str("TargetArn") != "":
			add(c.Action, str("TargetArn"), nil)
		case op == "ListTopics" || op == "Publish" && str("PhoneNumber") != "":
			add(c.Action, "*", nil)
		}
	case "events":
		if op == "PutEvents" {
			seen := map[string]bool{}
			entries, _ := j["Entries"].([]any)
			for _, e := range entries {
				m, _ := e.(map[string]any)
				bus, _ := m["EventBusName"].(string)
				if bus == "" {
					bus = "default"
				}
				if !strings.HasPrefix(bus, "arn:") {
					bus = arn("events", "event-bus/"+bus)
				}
				if !seen[bus] {
					seen[bus] = true
					add(c.Action, bus, nil)
				}
			}
		}
	case "lambda":
		c.Action, c.Checks = lambdaCall(r, region, account)
	case "s3":
		c.Action, c.Resource = s3Call(r)
	case "sqs":
		if q := str("QueueUrl"); q != "" {
			c.Resource = arn("sqs", q[strings.LastIndex(q, "/")+1:])
		} else if q := str("QueueName"); q != "" {
			c.Resource = arn("sqs", q)
		}
	case "sts":
		c.Resource = str("RoleArn")
	}
	if c.Resource == "" {
		var rs []string
		for _, ch := range c.Checks {
			if !slices.Contains(rs, ch.Resource) {
				rs = append(rs, ch.Resource)
			}
		}
		c.Resource = strings.Join(rs, ", ")
	}
	if c.Resource == "" {
		c.Resource = "(not told by the request)"
	}
	return c
}

var (
	lambdaInvoke = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations/?$`)
	lambdaESM    = regexp.MustCompile(`^/2015-03-31/event-source-mappings/?([^/]*)$`)
	lambdaFn     = regexp.MustCompile(`^/20\d\d-\d\d-\d\d/functions/([^/]+)(/[a-z-]+)?/?$`)
)

// lambdaCall tells the action and resource of a Lambda API request (REST: by method and path).
func lambdaCall(r *http.Request, region, account string) (string, []request) {
	fnARN := func(ref string) string {
		ref, _ = url.PathUnescape(ref)
		name, qual := ref, ""
		parts := strings.Split(ref, ":")
		switch {
		case len(parts) >= 7 && parts[0] == "arn":
			return ref
		case len(parts) >= 3 && parts[1] == "function":
			name = parts[2]
			if len(parts) > 3 {
				qual = parts[3]
			}
		case len(parts) == 2:
			name, qual = parts[0], parts[1]
		}
		if q := r.URL.Query().Get("Qualifier"); q != "" {
			qual = q
		}
		a := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name)
		if qual != "" {
			a += ":" + qual
		}
		return a
	}
	one := func(action, res string) (string, []request) {
		return action, []request{{Action: action, Resource: res}}
	}
	p := r.URL.Path
	if m := lambdaInvoke.FindStringSubmatch(p); m != nil && r.Method == http.MethodPost {
		return one("lambda:InvokeFunction", fnARN(m[1]))
	}
	if m := lambdaESM.FindStringSubmatch(p); m != nil {
		if m[1] == "" {
			if r.Method == http.MethodPost {
				return one("lambda:CreateEventSourceMapping", "*")
			}
			return one("lambda:ListEventSourceMappings", "*")
		}
		res := fmt.Sprintf("arn:aws:lambda:%s:%s:event-source-mapping:%s", region, account, m[1])
		switch r.Method {
		case http.MethodGet:
			return one("lambda:GetEventSourceMapping", res)
		case http.MethodPut:
			return one("lambda:UpdateEventSourceMapping", res)
		case http.MethodDelete:
			return one("lambda:DeleteEventSourceMapping", res)
		}
	}
	if m := lambdaFn.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		switch m[2] {
		case "":
			return one("lambda:GetFunction", fnARN(m[1]))
		case "/configuration":
			return one("lambda:GetFunctionConfiguration", fnARN(m[1]))
		}
	}
	return "lambda:" + r.Method + " " + p, nil
}

// s3Call names the IAM action and resource of an S3 request (path-style, as the SDK sends to an IP endpoint), for
// reports: moto itself checks S3.
func s3Call(r *http.Request) (action, resource string) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	if bucket == "" {
		return "s3:ListAllMyBuckets", "*"
	}
	if key == "" {
		res := "arn:aws:s3:::" + bucket
		switch {
		case r.Method == http.MethodPost && q.Has("delete"):
			return "s3:DeleteObject", res + "/*"
		case r.Method == http.MethodGet && q.Has("location"):
			return "s3:GetBucketLocation", res
		case r.Method == http.MethodGet && q.Has("versions"):
			return "s3:ListBucketVersions", res
		case r.Method == http.MethodGet && q.Has("uploads"):
			return "s3:ListBucketMultipartUploads", res
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			return "s3:ListBucket", res
		case r.Method == http.MethodPut:
			return "s3:CreateBucket", res
		case r.Method == http.MethodDelete:
			return "s3:DeleteBucket", res
		}
		return "s3:" + r.Method + " bucket", res
	}
	res := "arn:aws:s3:::" + bucket + "/" + key
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if q.Has("versionId") {
			return "s3:GetObjectVersion", res
		}
		return "s3:GetObject", res
	case http.MethodPut, http.MethodPost:
		return "s3:PutObject", res
	case http.MethodDelete:
		if q.Has("uploadId") {
			return "s3:AbortMultipartUpload", res
		}
		return "s3:DeleteObject", res
	}
	return "s3:" + r.Method + " object", res
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// frontGate checks a function's Invoke calls on the Lambda front (the rest reaches the gate through the front's
// upstream) before the front runs them.
type frontGate struct {
	g     *gate
	front http.Handler
}

func (f *frontGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if fn := f.g.function(r); fn != nil && r.Method == http.MethodPost && lambdaInvoke.MatchString(r.URL.Path) {
		action, checks := lambdaCall(r, f.g.region, f.g.account)
		if !f.g.authorize(w, fn, call{Service: "lambda", Action: action, Checks: checks}) {
			return
		}
	}
	f.front.ServeHTTP(w, r)
}
