package rehearsal

import (
	"fmt"
	"testing"
	"time"
)

// A Denial is a request of a function that IAM refused: moto's check (a 403 from moto: the signature, the action, and
// for S3 and SQS the resource) or the rehearsal's own (the action on the resource, for the services moto checks by
// action only).
type Denial struct {
	// Function is the function's name; Stack and LogicalID name it in the templates.
	Function         string
	Stack, LogicalID string
	// Role is the name of the function's execution role.
	Role string
	// Action is the IAM action refused, such as dynamodb:BatchWriteItem.
	Action string
	// Resource is what the request touched: an ARN (or several, comma-separated), or "(not told by the request)".
	Resource string
	// By is who refused: "moto" or "rehearsal".
	By string
	// Status is moto's HTTP status; 0 for the rehearsal's refusals.
	Status int
	// Message is the error the function got.
	Message string
	// Time is when the request was refused.
	Time time.Time
}

// String names the function, the action and the resource, and says who refused and why.
func (d Denial) String() string {
	return fmt.Sprintf("IAM denied function %s (%s/%s, role %s) %s on %s (refused by %s: %s)",
		d.Function, d.Stack, d.LogicalID, d.Role, d.Action, d.Resource, d.By, d.Message)
}

// Denials returns every denial of the rehearsal's functions so far, oldest first, including those taken.
func (r *Rehearsal) Denials() []Denial {
	r.gate.mu.Lock()
	defer r.gate.mu.Unlock()
	return append([]Denial(nil), r.gate.denials...)
}

// TakeDenials returns the denials not taken or checked yet, oldest first, and marks them taken: a test that expects
// a denial takes it, so that [Rehearsal.CheckDenials] and the end of the test do not report it.
func (r *Rehearsal) TakeDenials() []Denial {
	r.gate.mu.Lock()
	defer r.gate.mu.Unlock()
	out := append([]Denial(nil), r.gate.denials[r.taken:]...)
	r.taken = len(r.gate.denials)
	return out
}

// CheckDenials fails t with one error per denial not taken or checked yet, naming the function, the action and the
// resource, and marks them checked. [Start] calls it when its test ends: a function refused by IAM fails the test that
// ran it.
func (r *Rehearsal) CheckDenials(t testing.TB) {
	t.Helper()
	for _, d := range r.TakeDenials() {
		t.Error(d.String())
	}
}
