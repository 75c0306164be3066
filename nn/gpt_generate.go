package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// kvLayer caches one block's keys and values, H×Context×E each, of the
// first n positions.
type kvLayer[T ad.Float] struct {
	h, ctx, e int
	k, v      []T
	n         int
	kOut      *tensor.Tensor[T] // 1×H×n×E views handed to the tape
	vOut      *tensor.Tensor[T]
}

// append stores the new positions' keys and values (1×H×Tn×E) after the
// cached ones and returns every cached position's as data values.
func (c *kvLayer[T]) append(t *ad.Tape[T], k, v *ad.Var[T]) (*ad.Var[T], *ad.Var[T]) {
	tn := k.Value.Dim(2)
	if c.n+tn > c.ctx {
		panic(fmt.Sprintf("nn: GPT cache: %d cached and %d new positions exceed the context %d", c.n, tn, c.ctx))
	}
	e := c.e
	for h := range c.h {
		for i := range tn {
			copy(c.k[(h*c.ctx+c.n+i)*e:][:e], k.Value.Data()[(h*tn+i)*e:][:e])
			copy(c.v[(h*c.ctx+c.n+i)*e:][:e], v.Value.Data()[(h*tn+i)*e:][:e])
		}
	}
	c.n += tn
	c.kOut.Resize(1, c.h, c.n, e)
	c.vOut.Resize(1, c.h, c.n, e)
	for h := range c.h {
		copy(c.kOut.Data()[h*c.n*e:][:c.n*e], c.k[h*c.ctx*e:])
		copy(c.vOut.Data()[h*c.n*e:][:c.n*e], c.v[h*c.ctx*e:])
	}
	return t.Const(c.kOut), t.Const(c.vOut)
}

// Generator continues a token sequence with a GPT, one position at a time,
// caching every block's keys and values so that a new token costs one pass
// over one position (attending to the cached ones) instead of a pass over
// the whole sequence: generation is linear in its length, not quadratic.
//
// Positions are absolute, so a cache cannot slide: when the sequence
// outgrows the context, the generator keeps the last Context/2 tokens,
// empties the cache and feeds them again (one pass over Context/2
// positions every Context/2 tokens, still linear). The model therefore sees
// between Context/2 and Context preceding tokens, where nanoGPT's sampler
// recomputes the last Context on every token.
type Generator[T ad.Float] struct {
	g      *GPT[T]
	tape   ad.Tape[T]
	layers []kvLayer[T]
	hist   []int // the tokens whose keys and values are cached
	x      *tensor.Tensor[T]
	logits []float64
}

// NewGenerator returns an empty generator for the model. It reads the
// model's current parameters on every Feed.
func (g *GPT[T]) NewGenerator() *Generator[T] {
	cfg := g.Config
	e := cfg.Embed / cfg.Heads
	s := &Generator[T]{g: g, x: tensor.New[T](1, 1), logits: make([]float64, cfg.Vocab)}
	for range cfg.Layers {
		n := cfg.Heads * cfg.Context * e
		s.layers = append(s.layers, kvLayer[T]{h: cfg.Heads, ctx: cfg.Context, e: e, k: make([]T, n), v: make([]T, n),
			kOut: tensor.New[T](1, cfg.Heads, 0, e), vOut: tensor.New[T](1, cfg.Heads, 0, e)})
	}
	return s
}

// Reset empties the cache.
func (s *Generator[T]) Reset() {
	s.hist = s.hist[:0]
	for i := range s.layers {
		s.layers[i].n = 0
	}
}

// Len returns the number of tokens the cache holds.
func (s *Generator[T]) Len() int { return len(s.hist) }

// Feed appends tokens to the sequence and returns the logits (V of them)
// of the token after the last one. The slice is reused by the next call.
// It panics on a token outside [0, V) or when given no tokens.
func (s *Generator[T]) Feed(tokens ...int) []float64 {
	cfg := s.g.Config
	if len(tokens) == 0 {
		panic("nn: Generator.Feed: no tokens")
	}
	for i, k := range tokens {
		if k < 0 || k >= cfg.Vocab {
			panic(fmt.Sprintf("nn: Generator.Feed: token %d at position %d outside [0, %d)", k, i, cfg.Vocab))
		}
	}
	if len(s.hist)+len(tokens) > cfg.Context {
		all := append(append([]int(nil), s.hist...), tokens...)
		keep := max(cfg.Context/2, 1)
		s.Reset()
		tokens = all[len(all)-keep:]
	}
	start := len(s.hist)
	s.hist = append(s.hist, tokens...)
	pos := make([]int, len(tokens))
	for i := range pos {
		pos[i] = start + i
	}
	t := &s.tape
	t.Reset()
	h := s.g.embed(t, tokens, pos)
	for i := range s.g.Blocks {
		h = s.g.block(t, &s.g.Blocks[i], h, 1, &s.layers[i])
	}
	out := s.g.logits(t, h).Value.Data()
	last := out[(len(tokens)-1)*cfg.Vocab:]
	for i := range s.logits {
		s.logits[i] = float64(last[i])
	}
	return s.logits
}

// Generate feeds prompt (at least one token) and then samples n tokens,
// each from softmax(logits/temperature) (temperature 0: the most likely
// token), returning them. The same r state gives the same tokens.
func (s *Generator[T]) Generate(prompt []int, n int, temperature float64, r *rand.Rand) []int {
	if len(prompt) == 0 {
		panic("nn: Generator.Generate: empty prompt")
	}
	logits := s.Feed(prompt...)
	out := make([]int, 0, n)
	for range n {
		k := SampleToken(logits, temperature, r)
		out = append(out, k)
		if len(out) < n {
			logits = s.Feed(k)
		}
	}
	return out
}

// SampleToken draws a token from softmax(logits/temperature), or returns
// the first largest logit when temperature is 0. It panics on a negative
// or non-finite temperature.
func SampleToken(logits []float64, temperature float64, r *rand.Rand) int {
	if !(temperature >= 0) || math.IsInf(temperature, 0) {
		panic(fmt.Sprintf("nn: SampleToken: temperature %v must be finite and ≥ 0", temperature))
	}
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	if temperature == 0 {
		return best
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp((v - logits[best]) / temperature)
	}
	u := r.Float64() * sum
	for i, v := range logits {
		if u -= math.Exp((v - logits[best]) / temperature); u < 0 {
			return i
		}
	}
	return best
}
