package rehearsal

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
)

// What moto's Lambda API gets wrong about event source mappings, and the gate makes right for every caller (found with
// moto 5.2; TestLambdaForMoto fails when moto no longer needs a correction):
//
//   - Enhanced fan-out. moto's CreateEventSourceMapping knows a Kinesis stream, a DynamoDB table's stream or an SQS
//     queue as the source, not a stream consumer: it refuses a consumer's ARN with "ResourceNotFoundException: Invalid
//     EventSourceArn". The gate creates such a mapping on the consumer's stream, once moto has confirmed the consumer
//     exists (DescribeStreamConsumer), signed again for moto (see [gate.resignLambdaForMoto]), and remembers it: moto's
//     answers name the consumer as the mapping's EventSourceArn, as Lambda's do, and ListEventSourceMappings by a
//     consumer's ARN lists that consumer's mappings (by a stream's ARN, that stream's own). What is not emulated:
//     Lambda's checks of a consumer (its state, a consumer of another account); moto keeps no duplicate check for
//     either kind of source (see below).
//   - An unknown UUID. moto answers UpdateEventSourceMapping and DeleteEventSourceMapping of a mapping it does not have
//     with 200 and "{}" (its 404 loses its status on the way out); Lambda answers 404 ResourceNotFoundException, "The
//     resource you requested does not exist.", and so does the gate.
//
// moto also makes a second mapping of the same function and source where Lambda answers ResourceConflictException;
// the gate does not emulate that (a test injects it where it needs it, as the subscriptions rehearsal does), so a
// duplicate shows as two mappings in moto.

// lambdaPatch is what the gate changes in a Lambda API request for moto, and how it corrects moto's answer.
type lambdaPatch struct {
	body  []byte
	query string
	// answer corrects moto's answer: its status and body in, the status and body the caller gets out. Nil keeps it.
	answer func(status int, body []byte) (int, []byte)
}

// lambdaForMoto returns what moto needs changed in a request of the Lambda API, and how to correct its answer (see
// above). body is the request's body; the patch's body and query are the request's own when nothing changes.
func (g *gate) lambdaForMoto(r *http.Request, body []byte) lambdaPatch {
	p := lambdaPatch{body: body, query: r.URL.RawQuery}
	m := lambdaESM.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return p
	}
	uuid := m[1]
	switch {
	case uuid == "" && r.Method == http.MethodPost:
		var in map[string]any
		if jsonNumbers(body, &in) != nil {
			return p
		}
		source, _ := in["EventSourceArn"].(string)
		stream, ok := consumerStream(source)
		if !ok || g.consumerExists == nil || g.consumerExists(r.Context(), source) != nil {
			return p
		}
		in["EventSourceArn"] = stream
		p.body, _ = json.Marshal(in)
		p.answer = func(status int, body []byte) (int, []byte) {
			if status/100 == 2 {
				body = rewriteMapping(body, func(esm map[string]any) {
					id, _ := esm["UUID"].(string)
					g.mu.Lock()
					g.consumerMappings[id] = source
					g.mu.Unlock()
					esm["EventSourceArn"] = source
				})
			}
			return status, body
		}
	case uuid == "" && r.Method == http.MethodGet:
		q := r.URL.Query()
		asked := q.Get("EventSourceArn")
		if stream, ok := consumerStream(asked); ok {
			q.Set("EventSourceArn", stream)
			p.query = q.Encode()
		}
		p.answer = func(status int, body []byte) (int, []byte) {
			var out map[string]any
			if status != http.StatusOK || jsonNumbers(body, &out) != nil {
				return status, body
			}
			list, _ := out["EventSourceMappings"].([]any)
			kept := []any{}
			for _, e := range list {
				esm, _ := e.(map[string]any)
				g.consumerSource(esm)
				if asked == "" || esm["EventSourceArn"] == asked {
					kept = append(kept, esm)
				}
			}
			out["EventSourceMappings"] = kept
			b, _ := json.Marshal(out)
			return status, b
		}
	default:
		p.answer = func(status int, body []byte) (int, []byte) {
			if status == http.StatusOK && (r.Method == http.MethodPut || r.Method == http.MethodDelete) && string(bytes.TrimSpace(body)) == "{}" {
				return http.StatusNotFound, notFoundBody
			}
			if status/100 == 2 {
				body = rewriteMapping(body, g.consumerSource)
			}
			return status, body
		}
	}
	return p
}

// notFoundBody is Lambda's answer for a mapping it does not have.
var notFoundBody = []byte(`{"Type":"User","Message":"The resource you requested does not exist."}`)

// consumerSource names the consumer as the source of a mapping the gate made on its stream.
func (g *gate) consumerSource(esm map[string]any) {
	id, _ := esm["UUID"].(string)
	g.mu.Lock()
	source, ok := g.consumerMappings[id]
	g.mu.Unlock()
	if ok {
		esm["EventSourceArn"] = source
	}
}

// consumerARN is a Kinesis stream consumer's ARN: arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>,
// with ":<creation timestamp>" on AWS.
var consumerARN = regexp.MustCompile(`^(arn:[\w-]+:kinesis:[\w-]+:\d+:stream/[\w.-]+)/consumer/[\w.-]+(:\d+)?$`)

// consumerStream returns the ARN of the stream of a consumer's ARN; false for any other ARN.
func consumerStream(arn string) (string, bool) {
	m := consumerARN.FindStringSubmatch(arn)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// rewriteMapping applies change to a mapping in JSON, numbers kept as written.
func rewriteMapping(body []byte, change func(map[string]any)) []byte {
	var esm map[string]any
	if jsonNumbers(body, &esm) != nil || esm["UUID"] == nil {
		return body
	}
	change(esm)
	b, err := json.Marshal(esm)
	if err != nil {
		return body
	}
	return b
}

func jsonNumbers(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// correctAnswer applies a patch's correction to moto's answer.
func correctAnswer(resp *http.Response, answer func(int, []byte) (int, []byte)) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	status, out := answer(resp.StatusCode, body)
	if status != resp.StatusCode {
		resp.StatusCode, resp.Status = status, strconv.Itoa(status)+" "+http.StatusText(status)
		if status == http.StatusNotFound {
			resp.Header.Set("X-Amzn-Errortype", "ResourceNotFoundException")
			resp.Header.Set("Content-Type", "application/json")
		}
	}
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	resp.ContentLength = int64(len(out))
	resp.Body = io.NopCloser(bytes.NewReader(out))
	return nil
}
