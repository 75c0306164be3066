package loss

import (
	"fmt"
	"strings"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// Kind names a loss.
type Kind int

const (
	// MSE is the mean of squared errors over all elements (ad.MeanSquaredError).
	MSE Kind = iota
	// HalfSq is 1/(2M)·Σ‖ŷ_i − y_i‖² (ad.HalfSquaredError), the loss of the
	// GeN source text and of its single-layer closed form.
	HalfSq
	// CE is the mean softmax cross-entropy of logits against labels
	// (ad.SoftmaxCrossEntropy).
	CE
	// NLL is the mean negative log-likelihood of log-probabilities at the
	// labels (ad.NLL); the model must end with a log-softmax.
	NLL
)

var names = [...]string{"mse", "half-sq", "ce", "nll"}

// Names returns the valid loss names, in Kind order.
func Names() []string { return names[:] }

// String returns the loss's name as Parse accepts it.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(names) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return names[k]
}

// Parse returns the Kind named s ("mse", "half-sq", "ce" or "nll"; case and
// surrounding spaces are ignored).
func Parse(s string) (Kind, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	for i, name := range names {
		if n == name {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("loss: unknown loss %q; valid: %s", s, strings.Join(names[:], ", "))
}

// Classification reports whether the loss takes integer labels (ce, nll)
// rather than a target tensor (mse, half-sq).
func (k Kind) Classification() bool { return k == CE || k == NLL }

// Target is what the prediction is compared with: Labels (one class index
// per example) for a classification, Values (the prediction's shape) for a
// regression. The loss reads it when it is recorded and again in Backward
// and Jet: do not change it while the tape is in use.
type Target[T ad.Float] struct {
	Labels []int
	Values *tensor.Tensor[T]
}

// Labels returns a classification target.
func Labels[T ad.Float](labels []int) Target[T] { return Target[T]{Labels: labels} }

// Values returns a regression target.
func Values[T ad.Float](v *tensor.Tensor[T]) Target[T] { return Target[T]{Values: v} }

// Record records the loss kind of pred against target on t and returns the
// scalar. pred is M×C logits (ce), M×C log-probabilities (nll) or any shape
// with leading dimension M (mse, half-sq). It panics when the target does
// not fit the kind (labels for a regression, values for a classification,
// or neither).
func Record[T ad.Float](t *ad.Tape[T], kind Kind, pred *ad.Var[T], target Target[T]) *ad.Var[T] {
	if kind.Classification() {
		if target.Labels == nil {
			panic(fmt.Sprintf("loss: Record: %v needs labels, the target has none", kind))
		}
	} else if target.Values == nil {
		panic(fmt.Sprintf("loss: Record: %v needs a target tensor, the target has none", kind))
	}
	switch kind {
	case MSE:
		return ad.MeanSquaredError(t, pred, target.Values)
	case HalfSq:
		return ad.HalfSquaredError(t, pred, target.Values)
	case CE:
		return ad.SoftmaxCrossEntropy(t, pred, target.Labels)
	case NLL:
		return ad.NLL(t, pred, target.Labels)
	}
	panic(fmt.Sprintf("loss: Record: unknown %v", kind))
}
