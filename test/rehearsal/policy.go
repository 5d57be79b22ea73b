package rehearsal

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// resourceMatchedServices are the services whose requests moto matches against the resources of policy statements.
// Every other service's action is checked against "*" only.
var resourceMatchedServices = []string{"s3", "sqs", "iam", "sts"}

// policy is a parsed IAM policy document.
type policy struct {
	Statements []statement
}

// statement is one statement of a policy, with its string-or-list elements as lists.
type statement struct {
	Sid                                  string
	Effect                               string
	Action, NotAction, Resource          []string
	NotResource                          []string
	hasNotAction, hasResource, hasNotRes bool
	// Condition is operator → key → values, as written.
	Condition map[string]map[string][]string
	raw       map[string]any
}

func parsePolicy(doc []byte) (*policy, error) {
	var d struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("policy document: %w", err)
	}
	var raws []map[string]any
	if err := json.Unmarshal(d.Statement, &raws); err != nil {
		var one map[string]any
		if err := json.Unmarshal(d.Statement, &one); err != nil {
			return nil, fmt.Errorf("policy document: Statement is neither a statement nor a list of them")
		}
		raws = []map[string]any{one}
	}
	p := &policy{}
	for i, raw := range raws {
		s := statement{raw: raw}
		s.Sid, _ = raw["Sid"].(string)
		s.Effect, _ = raw["Effect"].(string)
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return nil, fmt.Errorf("policy statement %d: Effect %v", i, raw["Effect"])
		}
		var err error
		get := func(key string) ([]string, bool) {
			v, ok := raw[key]
			if !ok {
				return nil, false
			}
			l, e := stringList(v)
			if e != nil && err == nil {
				err = fmt.Errorf("policy statement %d: %s: %w", i, key, e)
			}
			return l, true
		}
		s.Action, _ = get("Action")
		s.NotAction, s.hasNotAction = get("NotAction")
		s.Resource, s.hasResource = get("Resource")
		s.NotResource, s.hasNotRes = get("NotResource")
		if c, ok := raw["Condition"].(map[string]any); ok {
			s.Condition = map[string]map[string][]string{}
			for op, kv := range c {
				m, ok := kv.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("policy statement %d: Condition %s is not an object", i, op)
				}
				s.Condition[op] = map[string][]string{}
				for k, v := range m {
					l, e := stringList(v)
					if e != nil {
						return nil, fmt.Errorf("policy statement %d: Condition %s %s: %w", i, op, k, e)
					}
					s.Condition[op][k] = l
				}
			}
		}
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

// stringList reads a policy element that is a string or a list of strings (numbers and booleans as written).
func stringList(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case bool, float64, json.Number:
		return []string{fmt.Sprint(v)}, nil
	case []any:
		var out []string
		for _, e := range v {
			l, err := stringList(e)
			if err != nil || len(l) != 1 {
				return nil, fmt.Errorf("element %v is not a string", e)
			}
			out = append(out, l[0])
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v is not a string or a list of strings", v)
}

// request is one authorization question: may the principal perform Action on Resource, with these condition keys
// (lower-case names)?
type request struct {
	Action   string
	Resource string
	Context  map[string][]string
}

// decision is the outcome of evaluating policies for a request.
type decision int

const (
	implicitDeny decision = iota
	allowed
	explicitDeny
)

// evaluate decides a request as IAM does for identity policies: an explicit Deny wins, else an Allow allows, else it
// is denied. notes collects what the evaluation could not judge (an unknown condition operator).
func evaluate(policies []*policy, req request, notes func(string)) decision {
	d := implicitDeny
	for _, p := range policies {
		for _, s := range p.Statements {
			if !s.applies(req, notes) {
				continue
			}
			if s.Effect == "Deny" {
				return explicitDeny
			}
			d = allowed
		}
	}
	return d
}

func (s *statement) applies(req request, notes func(string)) bool {
	if s.hasNotAction {
		if matchAny(s.NotAction, req.Action, true) {
			return false
		}
	} else if !matchAny(s.Action, req.Action, true) {
		return false
	}
	switch {
	case s.hasResource:
		if !matchAny(s.Resource, req.Resource, false) {
			return false
		}
	case s.hasNotRes:
		if matchAny(s.NotResource, req.Resource, false) {
			return false
		}
	default:
		return false // an identity policy's statement without a resource is invalid: it allows nothing
	}
	for op, kv := range s.Condition {
		for key, values := range kv {
			ok, known := conditionHolds(op, req.Context[strings.ToLower(key)], values)
			if !known && notes != nil {
				notes(fmt.Sprintf("condition operator %s (on %s) is not evaluated by the rehearsal: the statement is taken as not applying", op, key))
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// conditionHolds evaluates one condition key of a statement against the request's values for it (nil when the
// request has none). known is false for an operator the rehearsal does not evaluate.
func conditionHolds(op string, have, want []string) (ok, known bool) {
	set := ""
	switch {
	case strings.HasPrefix(op, "ForAnyValue:"):
		set, op = "any", strings.TrimPrefix(op, "ForAnyValue:")
	case strings.HasPrefix(op, "ForAllValues:"):
		set, op = "all", strings.TrimPrefix(op, "ForAllValues:")
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	if op == "Null" {
		absent := len(have) == 0
		return slices.Contains(want, fmt.Sprint(absent)), true
	}
	var match func(v, pattern string) bool
	negated := false
	switch op {
	case "StringEquals", "ArnEquals":
		match = func(v, p string) bool { return v == p }
	case "StringNotEquals", "ArnNotEquals":
		match, negated = func(v, p string) bool { return v == p }, true
	case "StringEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringNotEqualsIgnoreCase":
		match, negated = strings.EqualFold, true
	case "StringLike", "ArnLike":
		match = func(v, p string) bool { return glob(p, v, false) }
	case "StringNotLike", "ArnNotLike":
		match, negated = func(v, p string) bool { return glob(p, v, false) }, true
	case "Bool":
		match = strings.EqualFold
	default:
		return false, false
	}
	if len(have) == 0 {
		switch {
		case ifExists:
			return true, true
		case set == "all":
			return true, true // ForAllValues holds for an empty set
		case negated && set == "":
			return true, true
		}
		return false, true
	}
	one := func(v string) bool {
		m := slices.ContainsFunc(want, func(p string) bool { return match(v, p) })
		return m != negated
	}
	switch set {
	case "all":
		for _, v := range have {
			if !one(v) {
				return false, true
			}
		}
		return true, true
	default: // single-valued keys, and ForAnyValue
		return slices.ContainsFunc(have, one), true
	}
}

func matchAny(patterns []string, v string, foldCase bool) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return glob(p, v, foldCase) })
}

// glob matches IAM's wildcards: * any run of characters (colons and slashes too), ? one character.
func glob(pattern, s string, foldCase bool) bool {
	if foldCase {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// Iterative wildcard match with backtracking to the last star.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// serviceOf returns the service prefix of an action ("dynamodb" of "dynamodb:PutItem"), "*" for "*".
func serviceOf(action string) string {
	svc, _, ok := strings.Cut(action, ":")
	if !ok {
		return action
	}
	return strings.ToLower(svc)
}

// resourceMatched reports whether moto matches resources for the service (an action's prefix).
func resourceMatched(service string) bool {
	return slices.Contains(resourceMatchedServices, service)
}

// widen returns the document moto is given for a policy: statements about S3, SQS, IAM and STS unchanged (moto
// matches their resources and conditions itself); for every other service, its Allow statements with the resource
// "*" and no condition (moto checks these actions against "*" only), and neither its Deny statements nor its
// conditions (the rehearsal's own check, in front of moto, applies them with the resources). DynamoDB's transactions
// are authorized by AWS per item (dynamodb:PutItem, UpdateItem, DeleteItem, ConditionCheckItem, GetItem) but by moto
// as dynamodb:TransactWriteItems and dynamodb:TransactGetItems: a policy allowing an item action gets the transaction
// action too.
func widen(doc []byte) ([]byte, error) {
	p, err := parsePolicy(doc)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	copyOf := func(s statement) map[string]any {
		c := map[string]any{}
		for k, v := range s.raw {
			c[k] = v
		}
		return c
	}
	var transactWrite, transactGet bool
	for _, s := range p.Statements {
		if s.Effect == "Allow" {
			for _, a := range []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"} {
				transactWrite = transactWrite || s.grantsAction(a)
			}
			transactGet = transactGet || s.grantsAction("dynamodb:GetItem")
		}
		if s.hasNotAction {
			out = append(out, copyOf(s)) // as written: moto matches it for S3, SQS, IAM and STS
			if s.Effect == "Allow" {
				not := slices.Clone(s.NotAction)
				for _, svc := range resourceMatchedServices {
					if !slices.Contains(not, svc+":*") {
						not = append(not, svc+":*")
					}
				}
				out = append(out, map[string]any{"Effect": "Allow", "NotAction": not, "Resource": "*"})
			}
			continue
		}
		var matched, widened []string
		for _, a := range s.Action {
			svc := serviceOf(a)
			if strings.ContainsAny(svc, "*?") { // "*", "s*:…": both kinds
				matched, widened = append(matched, a), append(widened, a)
			} else if resourceMatched(svc) {
				matched = append(matched, a)
			} else {
				widened = append(widened, a)
			}
		}
		if len(matched) > 0 {
			c := copyOf(s)
			c["Action"] = matched
			out = append(out, c)
		}
		if len(widened) > 0 && s.Effect == "Allow" {
			out = append(out, map[string]any{"Effect": "Allow", "Action": widened, "Resource": "*"})
		}
	}
	var extra []string
	if transactWrite {
		extra = append(extra, "dynamodb:TransactWriteItems")
	}
	if transactGet {
		extra = append(extra, "dynamodb:TransactGetItems")
	}
	if len(extra) > 0 {
		out = append(out, map[string]any{"Effect": "Allow", "Action": extra, "Resource": "*"})
	}
	if len(out) == 0 {
		// moto refuses a policy without statements; this one allows nothing.
		out = append(out, map[string]any{"Effect": "Deny", "Action": "rehearsal:Nothing", "Resource": "*"})
	}
	return json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": out})
}

// grantsAction reports whether the statement's Action (or NotAction) covers an action, whatever its resources.
func (s *statement) grantsAction(action string) bool {
	if s.hasNotAction {
		return !matchAny(s.NotAction, action, true)
	}
	return matchAny(s.Action, action, true)
}

// documentedWildcards are the resources a function's policy may name that no template resource is: "*" (actions
// without resource types, such as xray:PutTraceSegments, lambda:CreateEventSourceMapping, dynamodb:ListStreams), the
// account's default event bus (it exists in every account and region), and any event source mapping (the mapper
// creates them at run time, so their ids are not known at synth).
func documentedWildcards(region, account string) []string {
	return []string{
		"*",
		fmt.Sprintf("arn:aws:events:%s:%s:event-bus/default", region, account),
		fmt.Sprintf("arn:aws:lambda:%s:%s:event-source-mapping:*", region, account),
	}
}

// resourceProblems returns, for each resource of an Allow or Deny statement that is neither a documented wildcard nor
// a resource of the templates (one of known, or below one: "<arn>/…", "<arn>:…", or a pattern matching one), a
// sentence naming it and the actions of its statement.
func resourceProblems(p *policy, known, wildcards []string) []string {
	var out []string
	for i, s := range p.Statements {
		for _, r := range append(slices.Clone(s.Resource), s.NotResource...) {
			if slices.Contains(wildcards, r) || knownResource(r, known) {
				continue
			}
			acts := s.Action
			if s.hasNotAction {
				acts = []string{"everything but " + strings.Join(s.NotAction, ", ")}
			}
			out = append(out, fmt.Sprintf("statement %d (%s %s) names %s, which is no resource of the templates nor a documented wildcard",
				i, s.Effect, strings.Join(acts, ", "), r))
		}
	}
	return out
}

func knownResource(r string, known []string) bool {
	for _, k := range known {
		if r == k || strings.HasPrefix(r, k+"/") || strings.HasPrefix(r, k+":") {
			return true
		}
		if strings.ContainsAny(r, "*?") && glob(r, k, false) {
			return true
		}
	}
	return false
}
