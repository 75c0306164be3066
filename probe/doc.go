// Package probe evaluates the line a learning-rate rule sees,
//
//	g(α) = f(θ − α·u),
//
// for a model whose loss on a batch is recorded on an ad.Tape: values by
// forward passes at θ − α·u (the parameters restored bit for bit
// afterwards), and g(0), g'(0) = −∇f·u, g″(0) = uᵀHu at once by a jet sweep
// over the forward recorded at θ. It implements gen.Line.
//
// Which batch the line is evaluated on is a Mode. The source text uses the
// batch the gradient came from (Same). Measured on MNIST, that biases the
// estimate upward for adaptive directions — a direction fitted to a batch
// goes further downhill on that batch than on any other — and made
// approximate GeN-Adam run away; the default, Fresh, evaluates the line on
// the next batch of the training stream at the current θ, before it is
// trained on, so no data is spent. Stream uses an independent iterator, as
// the authors' code does.
//
// A probe never touches the optimizer's state and re-evaluates with the
// dropout masks of its first recording (ad.Tape.ReplayRandom).
package probe
