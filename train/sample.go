package train

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// sample generates n lines of up to width characters from a character
// model, each seeded with a context window of the test set and continued
// by sampling the softmax of the model's logits (seeded, so repeatable).
func (r *runner[T]) sample(n, width int) []string {
	test := r.split.Test
	vocab, c := test.Vocab, test.Context
	if vocab == nil || len(test.Tokens) <= c {
		return nil
	}
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 3))
	var t ad.Tape[T]
	x := tensor.New[T](1, c)
	probs := make([]float64, vocab.Size())
	var lines []string
	for range n {
		start := rng.IntN(len(test.Tokens) - c)
		ctx := append([]int(nil), test.Tokens[start:start+c]...)
		var out []int
		for range width {
			for i, id := range ctx {
				x.Data()[i] = T(id)
			}
			t.Reset()
			logits := r.model.Forward(&t, t.Const(x)).Value.Data()
			mx := math.Inf(-1)
			for _, v := range logits {
				mx = max(mx, float64(v))
			}
			var s float64
			for i, v := range logits {
				probs[i] = math.Exp(float64(v) - mx)
				s += probs[i]
			}
			u, next := rng.Float64()*s, len(probs)-1
			for i, p := range probs {
				if u -= p; u < 0 {
					next = i
					break
				}
			}
			if vocab.Runes[next] == '\n' {
				break
			}
			out = append(out, next)
			ctx = append(ctx[1:], next)
		}
		prompt := strings.ReplaceAll(vocab.Decode(test.Tokens[start:start+c]), "\n", " ")
		lines = append(lines, prompt+"|"+vocab.Decode(out))
	}
	return lines
}
