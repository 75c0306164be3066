package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// Shapes in this file: B sequences of T ≤ Context tokens, vocabulary V,
// model width D = Heads·E, L layers.

// GPTConfig describes a decoder-only transformer language model after
// GPT-2 (Radford et al., "Language models are unsupervised multitask
// learners", 2019) in the layout of Karpathy's nanoGPT: token and position
// embeddings, Layers pre-LayerNorm blocks of causal multi-head
// self-attention and a 4×-wide GELU MLP, each added to the residual
// stream, a final LayerNorm and a linear head. Vocab and Context are
// required; the zero value of every other field gives nanoGPT's small-CPU
// recipe: 4 layers, 4 heads, width 128, no dropout, an untied head.
type GPTConfig struct {
	// Vocab is V, the number of tokens; Context is the longest sequence
	// (the number of learned positions).
	Vocab, Context int
	// Layers is the number of blocks (default 4).
	Layers int
	// Heads is the number of attention heads (default 4); it must divide
	// Embed.
	Heads int
	// Embed is D, the width of the residual stream (default 128).
	Embed int
	// Dropout is the drop probability after the embeddings, on the
	// attention weights, and at the end of each residual branch
	// (default 0: none).
	Dropout float64
	// Tie makes the head reuse the token embedding: logits = h·Wteᵀ
	// (Press & Wolf, "Using the output embedding to improve language
	// models", EACL 2017).
	Tie bool
}

// WithDefaults returns c with the zero fields set to their defaults.
func (c GPTConfig) WithDefaults() GPTConfig {
	if c.Layers == 0 {
		c.Layers = 4
	}
	if c.Heads == 0 {
		c.Heads = 4
	}
	if c.Embed == 0 {
		c.Embed = 128
	}
	return c
}

// Validate reports a configuration that cannot be built, saying which
// setting is wrong.
func (c GPTConfig) Validate() error {
	switch {
	case c.Vocab <= 0 || c.Context <= 0:
		return fmt.Errorf("nn: GPT: vocabulary %d and context %d must be positive", c.Vocab, c.Context)
	case c.Layers <= 0 || c.Heads <= 0 || c.Embed <= 0:
		return fmt.Errorf("nn: GPT: --layers %d, --heads %d and --embed %d must be positive", c.Layers, c.Heads, c.Embed)
	case c.Embed%c.Heads != 0:
		return fmt.Errorf("nn: GPT: --embed %d is not a multiple of --heads %d", c.Embed, c.Heads)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("nn: GPT: --dropout %v outside [0, 1)", c.Dropout)
	}
	return nil
}

// gptLayerNormEps is ε of every LayerNorm, PyTorch's default.
const gptLayerNormEps = 1e-5

// GPTBlock holds the parameters of one pre-LayerNorm block:
//
//	h ← h + Dropout(Proj(Attention(LN₁(h))))
//	h ← h + Dropout(MLPProj(GELU(FC(LN₂(h)))))
//
// Attention projects to Q|K|V with one linear map (Attn, 3D×D) and splits
// them into heads.
type GPTBlock[T ad.Float] struct {
	LN1Weight, LN1Bias   *ad.Var[T]
	AttnWeight, AttnBias *ad.Var[T] // c_attn: 3D×D, 3D
	ProjWeight, ProjBias *ad.Var[T] // attn.c_proj: D×D, D
	LN2Weight, LN2Bias   *ad.Var[T]
	FCWeight, FCBias     *ad.Var[T] // mlp.c_fc: 4D×D, 4D
	MLPWeight, MLPBias   *ad.Var[T] // mlp.c_proj: D×4D, D
}

// GPT is the model of GPTConfig. Its input is a B×T data value of token ids
// stored as floats (T ≤ Context); its output is the (B·T)×V logits, row
// b·T + t predicting the token after position t of sequence b from
// positions 0…t only. Parameter names follow nanoGPT's
// (transformer.wte.weight, transformer.h.0.attn.c_attn.weight, …,
// lm_head.weight), so safetensors checkpoints read like PyTorch's.
type GPT[T ad.Float] struct {
	Config GPTConfig
	// WTE is the V×D token embedding, WPE the Context×D position embedding.
	WTE, WPE *ad.Var[T]
	Blocks   []GPTBlock[T]
	// LNFWeight and LNFBias are the final LayerNorm's.
	LNFWeight, LNFBias *ad.Var[T]
	// Head is the V×D output map; nil when tied to WTE.
	Head *ad.Var[T]

	params   []*ad.Var[T]
	tok, pos []int
}

var _ Module[float32] = (*GPT[float32])(nil)

// NewGPT builds the model with nanoGPT's initialization: linear and
// embedding weights N(0, 0.02²), the residual projections (attn.c_proj,
// mlp.c_proj) N(0, (0.02/√(2L))²) (GPT-2 §2.3), biases 0, LayerNorm gains 1
// and shifts 0. It panics on a configuration Validate rejects.
func NewGPT[T ad.Float](cfg GPTConfig, r *rand.Rand) *GPT[T] {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	d := cfg.Embed
	g := &GPT[T]{Config: cfg}
	normal := func(name string, sd float64, shape ...int) *ad.Var[T] {
		w := tensor.New[T](shape...)
		for i := range w.Data() {
			w.Data()[i] = T(r.NormFloat64() * sd)
		}
		return g.add(name, w)
	}
	zeros := func(name string, n int) *ad.Var[T] { return g.add(name, tensor.New[T](n)) }
	ones := func(name string, n int) *ad.Var[T] {
		w := tensor.New[T](n)
		tensor.Fill(w, 1)
		return g.add(name, w)
	}
	const sd = 0.02
	sdProj := sd / math.Sqrt(2*float64(cfg.Layers))
	g.WTE = normal("transformer.wte.weight", sd, cfg.Vocab, d)
	g.WPE = normal("transformer.wpe.weight", sd, cfg.Context, d)
	for l := range cfg.Layers {
		p := fmt.Sprintf("transformer.h.%d.", l)
		var b GPTBlock[T]
		b.LN1Weight, b.LN1Bias = ones(p+"ln_1.weight", d), zeros(p+"ln_1.bias", d)
		b.AttnWeight, b.AttnBias = normal(p+"attn.c_attn.weight", sd, 3*d, d), zeros(p+"attn.c_attn.bias", 3*d)
		b.ProjWeight, b.ProjBias = normal(p+"attn.c_proj.weight", sdProj, d, d), zeros(p+"attn.c_proj.bias", d)
		b.LN2Weight, b.LN2Bias = ones(p+"ln_2.weight", d), zeros(p+"ln_2.bias", d)
		b.FCWeight, b.FCBias = normal(p+"mlp.c_fc.weight", sd, 4*d, d), zeros(p+"mlp.c_fc.bias", 4*d)
		b.MLPWeight, b.MLPBias = normal(p+"mlp.c_proj.weight", sdProj, d, 4*d), zeros(p+"mlp.c_proj.bias", d)
		g.Blocks = append(g.Blocks, b)
	}
	g.LNFWeight, g.LNFBias = ones("transformer.ln_f.weight", d), zeros("transformer.ln_f.bias", d)
	if !cfg.Tie {
		g.Head = normal("lm_head.weight", sd, cfg.Vocab, d)
	}
	return g
}

func (g *GPT[T]) add(name string, w *tensor.Tensor[T]) *ad.Var[T] {
	p := ad.NewParam(name, w)
	g.params = append(g.params, p)
	return p
}

// Params returns the parameters in nanoGPT's order: wte, wpe, the blocks,
// ln_f, lm_head (absent when tied).
func (g *GPT[T]) Params() []*ad.Var[T] { return g.params }

// head returns the output map's weight.
func (g *GPT[T]) head() *ad.Var[T] {
	if g.Head == nil {
		return g.WTE
	}
	return g.Head
}

// Forward records the logits of x (B×T token ids as floats, data).
func (g *GPT[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] {
	if x.NeedsGrad() || x.Value.Rank() != 2 {
		panic(fmt.Sprintf("nn: GPT: input %v must be a B×T data value of token ids", x.Shape()))
	}
	b, n := x.Value.Dim(0), x.Value.Dim(1)
	if n > g.Config.Context {
		panic(fmt.Sprintf("nn: GPT: %d tokens per sequence exceed the context %d", n, g.Config.Context))
	}
	g.tok, g.pos = g.tok[:0], g.pos[:0]
	for i, v := range x.Value.Data() {
		k := int(v)
		if T(k) != v || k < 0 || k >= g.Config.Vocab {
			panic(fmt.Sprintf("nn: GPT: input element %d is %v, not a token id in [0, %d)", i, v, g.Config.Vocab))
		}
		g.tok = append(g.tok, k)
		g.pos = append(g.pos, i%n)
	}
	h := g.embed(t, g.tok, g.pos)
	for i := range g.Blocks {
		h = g.block(t, &g.Blocks[i], h, b, nil)
	}
	return g.logits(t, h)
}

// embed records Dropout(wte[tok] + wpe[pos]), (B·T)×D.
func (g *GPT[T]) embed(t *ad.Tape[T], tok, pos []int) *ad.Var[T] {
	h := ad.Add(t, ad.Embedding(t, g.WTE, tok, 1), ad.Embedding(t, g.WPE, pos, 1))
	return g.dropout(t, h)
}

func (g *GPT[T]) dropout(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] {
	if g.Config.Dropout == 0 {
		return x
	}
	return ad.Dropout(t, x, g.Config.Dropout)
}

// logits records LN_f(h)·Headᵀ.
func (g *GPT[T]) logits(t *ad.Tape[T], h *ad.Var[T]) *ad.Var[T] {
	h = ad.LayerNorm(t, h, g.LNFWeight, g.LNFBias, gptLayerNormEps)
	return ad.Linear(t, h, g.head(), nil)
}

// block records one block on h ((B·T)×D). With a cache (B = 1), the new
// positions' keys and values are appended to it and the queries attend to
// every cached position.
func (g *GPT[T]) block(t *ad.Tape[T], blk *GPTBlock[T], h *ad.Var[T], batch int, cache *kvLayer[T]) *ad.Var[T] {
	heads := g.Config.Heads
	e := g.Config.Embed / heads
	a := ad.LayerNorm(t, h, blk.LN1Weight, blk.LN1Bias, gptLayerNormEps)
	qkv := ad.Linear(t, a, blk.AttnWeight, blk.AttnBias)
	scale := 1 / math.Sqrt(float64(e))
	var o *ad.Var[T]
	if cache == nil && g.Config.Dropout == 0 {
		// Without a cache or dropout on the attention weights, one fused
		// primitive reads the heads in place.
		o = ad.CausalSelfAttention(t, qkv, batch, heads, scale)
	} else {
		o = g.attention(t, qkv, batch, cache)
	}
	o = g.dropout(t, ad.Linear(t, o, blk.ProjWeight, blk.ProjBias))
	h = ad.Add(t, h, o)
	m := ad.LayerNorm(t, h, blk.LN2Weight, blk.LN2Bias, gptLayerNormEps)
	m = ad.Activate(t, ad.Linear(t, m, blk.FCWeight, blk.FCBias), ad.Act{Kind: ad.GELU})
	m = g.dropout(t, ad.Linear(t, m, blk.MLPWeight, blk.MLPBias))
	return ad.Add(t, h, m)
}

// attention records causal multi-head attention on qkv ((B·T)×3D) from its
// parts: the heads split out, dropout on the attention weights, and with a
// cache the new keys and values appended to it. It computes what
// ad.CausalSelfAttention does.
func (g *GPT[T]) attention(t *ad.Tape[T], qkv *ad.Var[T], batch int, cache *kvLayer[T]) *ad.Var[T] {
	heads := g.Config.Heads
	e := g.Config.Embed / heads
	q := ad.SplitHeads(t, qkv, batch, heads, 0, 3)
	k := ad.SplitHeads(t, qkv, batch, heads, 1, 3)
	v := ad.SplitHeads(t, qkv, batch, heads, 2, 3)
	if cache != nil {
		k, v = cache.append(t, k, v)
	}
	s := ad.BatchMatMul(t, q, k, true)
	p := g.dropout(t, ad.Softmax(t, s, 1/math.Sqrt(float64(e)), true))
	return ad.MergeHeads(t, ad.BatchMatMul(t, p, v, false))
}
