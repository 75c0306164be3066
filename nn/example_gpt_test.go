package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/tensor"
)

// A two-block GPT over a vocabulary of 7 tokens: the logits of a batch of
// two sequences of three tokens, one row per position, and a continuation
// from the key/value-cached generator.
func ExampleGPT() {
	g := nn.NewGPT[float32](nn.GPTConfig{Vocab: 7, Context: 8, Layers: 2, Heads: 2, Embed: 16}, rand.New(rand.NewPCG(1, 1)))
	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	var tape ad.Tape[float32]
	logits := g.Forward(&tape, tape.Const(x))
	fmt.Println("parameters:", nn.NumParams(g.Params()), "first:", g.Params()[0].Name)
	fmt.Println("logits:", logits.Shape())
	next := g.NewGenerator().Generate([]int{1, 2}, 5, 1, rand.New(rand.NewPCG(2, 2)))
	fmt.Println("generated", len(next), "tokens")
	// Output:
	// parameters: 6944 first: transformer.wte.weight
	// logits: [6 7]
	// generated 5 tokens
}
