package delivery

import (
	"testing"

	"github.com/countersign/countersign/policy"
)

func TestClosenessOrder(t *testing.T) {
	// Later elements in the evaluator's order rank closer.
	order := []policy.Element{policy.ElementPrincipal, policy.ElementAction, policy.ElementResource, policy.ElementCondition}

	for i := 1; i < len(order); i++ {
		if got, below := Closeness(order[i]), Closeness(order[i-1]); got <= below {
			t.Errorf("Closeness(%s) = %d, want more than Closeness(%s) = %d", order[i], got, order[i-1], below)
		}
	}
}
