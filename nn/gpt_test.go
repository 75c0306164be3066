package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/internal/numcheck"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/tensor"
)

// tinyGPTs builds the configuration in float64 and float32 with the same
// parameters, redrawn N(0, 0.3²) (gains around 1) so that attention is far
// from uniform and every block's curvature matters: nanoGPT's 0.02 makes
// a nearly linear model whose checks would be weak.
func tinyGPTs(cfg nn.GPTConfig) func(uint64) (nn.Module[float64], nn.Module[float32]) {
	return func(seed uint64) (nn.Module[float64], nn.Module[float32]) {
		m64 := randomGPT[float64](cfg, seed)
		m32 := randomGPT[float32](cfg, seed)
		return m64, m32
	}
}

func randomGPT[T ad.Float](cfg nn.GPTConfig, seed uint64) *nn.GPT[T] {
	r := rand.New(rand.NewPCG(seed, 7))
	g := nn.NewGPT[T](cfg, r)
	for _, p := range g.Params() {
		for i := range p.Value.Data() {
			v := 0.3 * r.NormFloat64()
			if len(p.Value.Shape()) == 1 && slices.Contains([]string{"ln_1.weight", "ln_2.weight", "ln_f.weight"}, suffix(p.Name)) {
				v += 1
			}
			p.Value.Data()[i] = T(v)
		}
	}
	return g
}

func suffix(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '.' {
			for j := i - 1; j >= 0; j-- {
				if name[j] == '.' {
					return name[j+1:]
				}
			}
		}
	}
	return name
}

// gptTokens is a 2×4 batch of token ids in [0, 5).
func gptTokens(r *rand.Rand) *tensor.Tensor[float64] {
	x := tensor.New[float64](2, 4)
	for i := range x.Data() {
		x.Data()[i] = float64(r.IntN(5))
	}
	return x
}

func TestGPTParamNames(t *testing.T) {
	for _, tie := range []bool{false, true} {
		g := nn.NewGPT[float32](nn.GPTConfig{Vocab: 7, Context: 5, Layers: 2, Heads: 2, Embed: 4, Tie: tie}, rand.New(rand.NewPCG(1, 1)))
		var names []string
		for _, p := range g.Params() {
			names = append(names, fmt.Sprintf("%s%v", p.Name, p.Value.Shape()))
		}
		want := []string{"transformer.wte.weight[7 4]", "transformer.wpe.weight[5 4]"}
		for l := range 2 {
			h := fmt.Sprintf("transformer.h.%d.", l)
			want = append(want, h+"ln_1.weight[4]", h+"ln_1.bias[4]", h+"attn.c_attn.weight[12 4]", h+"attn.c_attn.bias[12]",
				h+"attn.c_proj.weight[4 4]", h+"attn.c_proj.bias[4]", h+"ln_2.weight[4]", h+"ln_2.bias[4]",
				h+"mlp.c_fc.weight[16 4]", h+"mlp.c_fc.bias[16]", h+"mlp.c_proj.weight[4 16]", h+"mlp.c_proj.bias[4]")
		}
		want = append(want, "transformer.ln_f.weight[4]", "transformer.ln_f.bias[4]")
		if !tie {
			want = append(want, "lm_head.weight[7 4]")
		}
		if !slices.Equal(names, want) {
			t.Errorf("tie=%v: parameters\n%v\nwant\n%v", tie, names, want)
		}
	}
}

func TestGPTConfigErrors(t *testing.T) {
	for _, c := range []nn.GPTConfig{
		{Vocab: 0, Context: 4},
		{Vocab: 5, Context: 4, Heads: 3, Embed: 8},
		{Vocab: 5, Context: 4, Dropout: 1},
		{Vocab: 5, Context: 4, Layers: -1},
	} {
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// Causality: changing the token at position p changes no logit of an
// earlier position (bit for bit) and changes the logits at p.
func TestGPTCausal(t *testing.T) {
	g := randomGPT[float64](nn.GPTConfig{Vocab: 6, Context: 6, Layers: 2, Heads: 2, Embed: 8}, 3)
	r := rand.New(rand.NewPCG(4, 4))
	x := tensor.New[float64](2, 6)
	for i := range x.Data() {
		x.Data()[i] = float64(r.IntN(6))
	}
	logits := func(x *tensor.Tensor[float64]) []float64 {
		var tape ad.Tape[float64]
		return slices.Clone(g.Forward(&tape, tape.Const(x)).Value.Data())
	}
	base := logits(x)
	for p := range 6 {
		y := x.Clone()
		y.Set(float64((int(x.At(1, p))+1)%6), 1, p)
		got := logits(y)
		for pos := range 6 {
			row := func(l []float64) []float64 { return l[(6+pos)*6 : (6+pos+1)*6] }
			same := slices.Equal(row(got), row(base))
			if pos < p && !same {
				t.Errorf("token %d changed: logits at earlier position %d changed", p, pos)
			}
			if pos == p && same {
				t.Errorf("token %d changed: its own logits did not", p)
			}
		}
		if !slices.Equal(got[:36], base[:36]) {
			t.Errorf("token %d of sequence 1 changed: logits of sequence 0 changed", p)
		}
	}
}

// The cached generator's logits equal a full forward pass over the same
// prefix, token after token, and after the cache is refilled on overflow.
func TestGPTGeneratorMatchesForward(t *testing.T) {
	cfg := nn.GPTConfig{Vocab: 6, Context: 6, Layers: 2, Heads: 2, Embed: 8}
	g := randomGPT[float64](cfg, 5)
	r := rand.New(rand.NewPCG(6, 6))
	seq := make([]int, 11)
	for i := range seq {
		seq[i] = r.IntN(6)
	}
	full := func(tokens []int) []float64 {
		x := tensor.New[float64](1, len(tokens))
		for i, k := range tokens {
			x.Data()[i] = float64(k)
		}
		var tape ad.Tape[float64]
		out := g.Forward(&tape, tape.Const(x)).Value.Data()
		return slices.Clone(out[(len(tokens)-1)*6:])
	}
	gen := g.NewGenerator()
	got := gen.Feed(seq[:2]...) // a prompt of two tokens, then one at a time
	window := seq[:2]
	for i := 2; ; i++ {
		want := full(window)
		if e := numcheck.RelErr(got, want, 1e-12); e > 1e-12 {
			t.Fatalf("after %d tokens (window %v): cached logits %v, full pass %v", i, window, got, want)
		}
		if i == len(seq) {
			break
		}
		got = gen.Feed(seq[i])
		window = append(slices.Clone(window), seq[i])
		if len(window) > cfg.Context {
			window = window[len(window)-cfg.Context/2:]
		}
		if gen.Len() != len(window) {
			t.Fatalf("after %d tokens the cache holds %d, want %d", i+1, gen.Len(), len(window))
		}
	}
}

// Sampling is a function of the seed: the same seed gives the same tokens,
// and temperature 0 is the argmax.
func TestGPTGenerateDeterministic(t *testing.T) {
	g := randomGPT[float32](nn.GPTConfig{Vocab: 6, Context: 8, Layers: 1, Heads: 2, Embed: 8}, 7)
	run := func(seed uint64, temp float64) []int {
		return g.NewGenerator().Generate([]int{1, 2}, 20, temp, rand.New(rand.NewPCG(seed, 0)))
	}
	a, b, c := run(1, 1), run(1, 1), run(2, 1)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed: %v and %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 1 and 2 drew the same 20 tokens %v", a)
	}
	if len(a) != 20 {
		t.Fatalf("%d tokens, want 20", len(a))
	}
	if x, y := run(1, 0), run(2, 0); !slices.Equal(x, y) {
		t.Errorf("temperature 0 depends on the seed: %v and %v", x, y)
	}
	logits := []float64{0.5, 3, -1, 3}
	if k := nn.SampleToken(logits, 0, nil); k != 1 {
		t.Errorf("argmax of %v: %d, want 1", logits, k)
	}
	// Frequencies follow softmax(logits/T): T = 2 on (0, log 4) gives
	// probabilities 1/3, 2/3.
	r := rand.New(rand.NewPCG(1, 2))
	n := 0
	const draws = 30000
	for range draws {
		n += nn.SampleToken([]float64{0, math.Log(4)}, 2, r)
	}
	if f := float64(n) / draws; math.Abs(f-2.0/3) > 0.02 {
		t.Errorf("token 1 drawn with frequency %v, want 2/3", f)
	}
}

// ad.LineCache replays a GPT with dropout (masks replayed) and without
// (the fused attention), the embeddings moved along their tangents: the
// line equals fresh recordings at θ + s·u.
func TestGPTLineCache(t *testing.T) {
	for _, dropout := range []float64{0.2, 0} {
		testGPTLineCache(t, dropout)
	}
}

func testGPTLineCache(t *testing.T, dropout float64) {
	g := randomGPT[float64](nn.GPTConfig{Vocab: 5, Context: 4, Layers: 2, Heads: 2, Embed: 8, Dropout: dropout}, 8)
	r := rand.New(rand.NewPCG(9, 9))
	x := gptTokens(r)
	labels := []int{1, 4, 0, 2, 3, 3, 0, 1}
	params := g.Params()
	dir := make([]*tensor.Tensor[float64], len(params))
	for i, p := range params {
		dir[i] = randn(r, p.Value.Shape()...)
	}
	tape := &ad.Tape[float64]{Train: true, Rand: rand.New(rand.NewPCG(1, 1))}
	record := func() *ad.Var[float64] {
		tape.Reset()
		return loss.Record(tape, loss.CE, g.Forward(tape, tape.Const(x)), loss.Labels[float64](labels))
	}
	out := record()
	var c ad.LineCache[float64]
	c.Prepare(tape, out, params, dir)
	if c.Affine() != 2 {
		t.Errorf("%d affine nodes, want 2 (the two embedding lookups)", c.Affine())
	}
	for _, s := range []float64{0.1, -0.3, 1} {
		for i, p := range params {
			tensor.Axpy(p.Value, s, dir[i])
		}
		got := c.At(s)
		tape.ReplayRandom = true
		want := ad.Scalar(record())
		tape.ReplayRandom = false
		for i, p := range params {
			tensor.Axpy(p.Value, -s, dir[i])
		}
		if numcheck.Rel(got, want, 1e-12) > 1e-12 {
			t.Fatalf("dropout %g, s = %g: replay %v, recording %v", dropout, s, got, want)
		}
		tape.ReplayRandom = true
		out = record()
		tape.ReplayRandom = false
		c.Prepare(tape, out, params, dir)
	}
}

// After warm-up, a GPT training step (forward, backward) and a jet replay
// allocate nothing, with dropout on.
func TestGPTSteadyStateAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	g := nn.NewGPT[float32](nn.GPTConfig{Vocab: 7, Context: 6, Layers: 2, Heads: 2, Embed: 8, Dropout: 0.1}, r)
	x := tensor.New[float32](3, 6)
	labels := make([]int, 18)
	for i := range x.Data() {
		x.Data()[i] = float32(r.IntN(7))
		labels[i] = r.IntN(7)
	}
	params := g.Params()
	var dirs []*tensor.Tensor[float32]
	for _, p := range params {
		dirs = append(dirs, tensor.New[float32](p.Value.Shape()...))
	}
	tape := &ad.Tape[float32]{Train: true, Rand: r}
	run := func() {
		tape.Reset()
		f := loss.Record(tape, loss.CE, g.Forward(tape, tape.Const(x)), loss.Labels[float32](labels))
		ad.ZeroGrad(params)
		tape.Backward(f)
		tape.Jet(f, params, dirs, ad.Hessian)
	}
	run()
	if n := testing.AllocsPerRun(10, run); n != 0 {
		t.Errorf("%v allocations per step, want 0", n)
	}
}
