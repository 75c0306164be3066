package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// Embedding maps token indices to learned vectors. Its input is an M×Context
// data value whose elements are token indices stored as floats (exact for
// indices below 2²⁴ in float32); its output is M×(Context·Dim), the
// concatenated rows of the Vocab×Dim table Weight (see ad.Embedding).
type Embedding[T ad.Float] struct {
	Vocab, Dim int
	Weight     *ad.Var[T]

	idx []int // scratch for the integer indices of the last Forward
}

var _ Module[float32] = (*Embedding[float32])(nil)

// NewEmbedding returns a Vocab×Dim table with N(0, 1) entries, as
// PyTorch's nn.Embedding.
func NewEmbedding[T ad.Float](vocab, dim int, r *rand.Rand) *Embedding[T] {
	if vocab <= 0 || dim <= 0 {
		panic(fmt.Sprintf("nn: NewEmbedding(%d, %d): sizes must be positive", vocab, dim))
	}
	w := tensor.New[T](vocab, dim)
	for i := range w.Data() {
		w.Data()[i] = T(r.NormFloat64())
	}
	return &Embedding[T]{Vocab: vocab, Dim: dim, Weight: ad.NewParam("weight", w)}
}

// Forward records the lookup of the indices in x (M×Context, data).
func (e *Embedding[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] {
	if x.NeedsGrad() || x.Value.Rank() != 2 {
		panic(fmt.Sprintf("nn: Embedding: input %v must be an M×Context data value of token indices", x.Shape()))
	}
	xd := x.Value.Data()
	e.idx = e.idx[:0]
	for i, v := range xd {
		k := int(v)
		if T(k) != v {
			panic(fmt.Sprintf("nn: Embedding: input element %d is %v, not a token index", i, v))
		}
		e.idx = append(e.idx, k)
	}
	return ad.Embedding(t, e.Weight, e.idx, x.Value.Cols())
}

// Params returns [Weight].
func (e *Embedding[T]) Params() []*ad.Var[T] { return []*ad.Var[T]{e.Weight} }

// CharMLPConfig describes a character-level language model after Bengio et
// al. ("A neural probabilistic language model", JMLR 3, 2003):
//
//	Context tokens → Embedding (Vocab×Embed) → concatenate → Linear → Act
//	→ … → Linear (→ Vocab logits)
//
// Vocab and Context are required; the zero value of the other fields gives
// Embed = 10, Hidden = [200] and tanh, the sizes of Karpathy's makemore
// MLP.
type CharMLPConfig struct {
	// Vocab is the number of distinct tokens; Context is the number of
	// preceding tokens the model sees.
	Vocab, Context int
	// Embed is the embedding width (default 10).
	Embed int
	// Hidden lists the hidden widths (default [200]).
	Hidden []int
	// Act is the hidden activation (default Tanh when the zero value
	// Identity is given).
	Act ad.Act
	// Init draws the linear weights (default KaimingUniform).
	Init Init
}

// NewCharMLP builds the model of CharMLPConfig as a Sequential whose input
// is M×Context token indices (as floats) and whose output is M×Vocab
// logits. Parameters: "0.weight" (the table), then "1.weight", "1.bias",
// "3.weight", … for the linear layers.
func NewCharMLP[T ad.Float](cfg CharMLPConfig, r *rand.Rand) *Sequential[T] {
	if cfg.Vocab <= 0 || cfg.Context <= 0 {
		panic(fmt.Sprintf("nn: NewCharMLP: vocabulary %d and context %d must be positive", cfg.Vocab, cfg.Context))
	}
	embed, hidden, act := cfg.Embed, cfg.Hidden, cfg.Act
	if embed == 0 {
		embed = 10
	}
	if hidden == nil {
		hidden = []int{200}
	}
	if act.Kind == ad.Identity {
		act = ad.Act{Kind: ad.Tanh}
	}
	layers := []Module[T]{NewEmbedding[T](cfg.Vocab, embed, r)}
	in := cfg.Context * embed
	for _, h := range hidden {
		layers = append(layers, NewLinear[T](in, h, true, cfg.Init, r), Activation[T]{Act: act})
		in = h
	}
	layers = append(layers, NewLinear[T](in, cfg.Vocab, true, cfg.Init, r))
	return NewSequential(layers...)
}
