package data

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"unicode/utf8"
)

// Vocab is the character vocabulary of a corpus: its distinct runes sorted
// by code point, so the ids depend on the corpus only. Token id k stands for
// Runes[k].
type Vocab struct {
	Runes []rune
	index map[rune]int
}

// NewVocab builds the vocabulary of text: its distinct runes in increasing
// code-point order. Invalid UTF-8 bytes count as U+FFFD.
func NewVocab(text string) *Vocab {
	seen := map[rune]bool{}
	for _, r := range text {
		seen[r] = true
	}
	runes := make([]rune, 0, len(seen))
	for r := range seen {
		runes = append(runes, r)
	}
	slices.Sort(runes)
	return vocabOf(runes)
}

func vocabOf(runes []rune) *Vocab {
	v := &Vocab{Runes: runes, index: make(map[rune]int, len(runes))}
	for i, r := range runes {
		v.index[r] = i
	}
	return v
}

// Size returns V, the number of distinct characters.
func (v *Vocab) Size() int { return len(v.Runes) }

// ID returns the token id of r and whether r is in the vocabulary.
func (v *Vocab) ID(r rune) (int, bool) {
	id, ok := v.index[r]
	return id, ok
}

// Encode returns the token ids of the characters of s. A character outside
// the vocabulary is an error naming it and its byte offset in s.
func (v *Vocab) Encode(s string) ([]int, error) {
	ids := make([]int, 0, len(s))
	for off, r := range s {
		id, ok := v.index[r]
		if !ok {
			return nil, fmt.Errorf("data: text: character %q at byte %d is not in the vocabulary of %d characters", r, off, v.Size())
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Decode returns the string of the token ids. It panics on an id outside
// [0, V).
func (v *Vocab) Decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id < 0 || id >= len(v.Runes) {
			panic(fmt.Sprintf("data: Vocab.Decode: id %d outside [0, %d)", id, len(v.Runes)))
		}
		b.WriteRune(v.Runes[id])
	}
	return b.String()
}

// DefaultCorpus is the path, relative to GOROOT, of the text LoadText reads
// when given no path: Isaac Newton's Opticks (1704), which every Go
// installation ships for the compress packages' tests.
const DefaultCorpus = "src/testdata/Isaac.Newton-Opticks.txt"

// TextOptions configures LoadText and TextFromString. The zero value gives a
// context of 32 characters encoded as token ids and the last 10 % of the
// windows as the test set.
type TextOptions struct {
	// Context is C, the number of characters before the one to predict
	// (default 32).
	Context int
	// TestFraction is the fraction of the windows, taken from the end of the
	// corpus, that form the test set (default 0.1). Must be below 1.
	TestFraction float64
	// OneHot encodes each context character as a one-hot row (F = C·V
	// features, for a plain MLP) instead of the default token ids stored as
	// numbers (F = C, the input nn.Embedding takes). Batch.Tokens holds the
	// ids either way.
	OneHot bool
}

func (o TextOptions) withDefaults() TextOptions {
	if o.Context == 0 {
		o.Context = 32
	}
	if o.TestFraction == 0 {
		o.TestFraction = 0.1
	}
	return o
}

// LoadText reads the UTF-8 file at path (Newton's Opticks from GOROOT if path
// is empty; see DefaultCorpus) and returns TextFromString of its contents.
func LoadText(path string, opts TextOptions) (Split, error) {
	if path == "" {
		var err error
		if path, err = findDefaultCorpus(); err != nil {
			return Split{}, err
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Split{}, fmt.Errorf("data: text: %w", err)
	}
	return TextFromString(filepath.Base(path), string(b), opts)
}

// TextFromString turns a corpus into next-character examples. The vocabulary
// is NewVocab(text); the corpus becomes the token stream t_0 … t_{L−1} and
// example i is
//
//	features: the window t_i … t_{i+C−1}      label: t_{i+C}
//
// for i = 0 … L−C−1. The split is by position: the last
// T = round(TestFraction·(L−C)) labels belong to the test set, the others to
// the training set; the first test window overlaps the end of the training
// text, but no label is in both. Both sets share the vocabulary, which
// covers the whole corpus. Text that is not valid UTF-8 or too short to give
// each split one example is an error.
func TextFromString(name, text string, opts TextOptions) (Split, error) {
	opts = opts.withDefaults()
	c := opts.Context
	if c < 0 {
		return Split{}, fmt.Errorf("data: text: %s: context %d is negative", name, c)
	}
	if !(opts.TestFraction > 0 && opts.TestFraction < 1) {
		return Split{}, fmt.Errorf("data: text: %s: test fraction %v outside (0, 1)", name, opts.TestFraction)
	}
	if !utf8.ValidString(text) {
		off := 0
		for off < len(text) {
			r, size := utf8.DecodeRuneInString(text[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		return Split{}, fmt.Errorf("data: text: %s: invalid UTF-8 at byte %d", name, off)
	}
	vocab := NewVocab(text)
	tokens, err := vocab.Encode(text)
	if err != nil {
		panic("data: " + err.Error()) // every rune of text is in its own vocabulary
	}
	windows := len(tokens) - c
	test := int(math.Round(opts.TestFraction * float64(windows)))
	if windows < 2 || test < 1 || test >= windows {
		return Split{}, fmt.Errorf("data: text: %s: %d characters give %d windows of %d, too few for a training and a test set with test fraction %v; use a longer text or a shorter context",
			name, len(tokens), max(windows, 0), c, opts.TestFraction)
	}
	cut := len(tokens) - test // first test label
	mk := func(suffix string, tok []int) *Set {
		s := &Set{
			Name: name + "/" + suffix, Tokens: tok, Context: c, Labels: tok[c:],
			Classes: vocab.Size(), ClassNames: make([]string, vocab.Size()),
			OneHot: opts.OneHot, Vocab: vocab, Shape: []int{c},
		}
		if s.OneHot {
			s.Shape = []int{c, vocab.Size()}
		}
		for k, r := range vocab.Runes {
			s.ClassNames[k] = string(r)
		}
		return s
	}
	return Split{Train: mk("train", tokens[:cut:cut]), Test: mk("test", tokens[cut-c:])}, nil
}

// findDefaultCorpus locates DefaultCorpus under GOROOT: `go env GOROOT`,
// then $GOROOT, then the GOROOT the binary was built with.
func findDefaultCorpus() (string, error) {
	var roots []string
	if goBin, err := exec.LookPath("go"); err == nil {
		if out, err := exec.Command(goBin, "env", "GOROOT").Output(); err == nil {
			roots = append(roots, strings.TrimSpace(string(out)))
		}
	}
	roots = append(roots, os.Getenv("GOROOT"), runtime.GOROOT()) // deprecated, but a last resort
	var looked []string
	for _, r := range roots {
		if r == "" {
			continue
		}
		p := filepath.Join(r, filepath.FromSlash(DefaultCorpus))
		if hasFile(p) {
			return p, nil
		}
		looked = append(looked, p)
	}
	return "", fmt.Errorf("data: text: cannot find the default corpus (looked at %v); install Go or give a path, e.g. text:corpus.txt", looked)
}
