package delivery

import "github.com/countersign/countersign/policy"

// Closeness ranks how far a statement that did not apply got before one
// of its elements failed. The evaluator checks principal, action,
// resource, then conditions, so a failed condition ranks highest (3) and
// a principal that does not name the caller lowest (0).
func Closeness(failed policy.Element) int {
	switch failed {
	case policy.ElementCondition:
		return 3
	case policy.ElementResource:
		return 2
	case policy.ElementAction:
		return 1
	}

	return 0
}
