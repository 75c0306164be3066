package data

import (
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestVocab(t *testing.T) {
	v := NewVocab("hello, wörld")
	if got := string(v.Runes); got != " ,dehlorwö" {
		t.Fatalf("vocabulary %q, want the sorted distinct runes %q", got, " ,dehlorwö")
	}
	ids, err := v.Encode("wörld")
	if err != nil || !slices.Equal(ids, []int{8, 9, 7, 5, 2}) {
		t.Fatalf("Encode(wörld) = %v, %v; want [8 9 7 5 2]", ids, err)
	}
	if s := v.Decode(ids); s != "wörld" {
		t.Errorf("Decode(%v) = %q, want wörld", ids, s)
	}
	if _, err := v.Encode("hex"); err == nil || !strings.Contains(err.Error(), `'x' at byte 2`) {
		t.Errorf("Encode(hex): error %v, want one naming 'x' at byte 2", err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "data:") {
			t.Errorf("Decode out of range: recovered %v, want a data: panic", r)
		}
	}()
	v.Decode([]int{10})
}

// checkWindows decodes every example of s and compares it with the corpus:
// example i of a set whose first label is corpus rune first+C must be the
// runes first+i … first+i+C−1 followed by the label first+i+C.
func checkWindows(t *testing.T, s *Set, corpus []rune, first int) {
	t.Helper()
	c := s.Context
	var b Batch[float32]
	FillRange(&b, s, 0, s.Len())
	for i := range s.Len() {
		window := s.Vocab.Decode(b.Tokens[i*c : (i+1)*c])
		label := s.ClassNames[b.Labels[i]]
		if want := string(corpus[first+i : first+i+c+1]); window+label != want {
			t.Fatalf("%s: example %d decodes to %q + %q, want %q", s.Name, i, window, label, want)
		}
		for j := range c {
			tok := b.Tokens[i*c+j]
			if s.OneHot {
				row := b.X.Data()[i*c*s.Vocab.Size()+j*s.Vocab.Size():][:s.Vocab.Size()]
				for k, x := range row {
					if want := float32(0); k == tok && x != 1 || k != tok && x != want {
						t.Fatalf("%s: one-hot row %d of example %d is %v, want a 1 at %d", s.Name, j, i, row, tok)
					}
				}
			} else if got := b.X.Data()[i*c+j]; got != float32(tok) {
				t.Fatalf("%s: feature %d of example %d is %v, want token %d", s.Name, j, i, got, tok)
			}
		}
	}
}

func TestTextFromString(t *testing.T) {
	corpus := "Of the Reflexions and Inflexions of Light — «ça va»."
	runes := []rune(corpus)
	for _, oneHot := range []bool{false, true} {
		sp, err := TextFromString("c", corpus, TextOptions{Context: 5, TestFraction: 0.25, OneHot: oneHot})
		if err != nil {
			t.Fatal(err)
		}
		windows := len(runes) - 5
		test := (windows + 2) / 4 // round(0.25·windows)
		if sp.Test.Len() != test || sp.Train.Len() != windows-test {
			t.Fatalf("got %d train and %d test windows, want %d and %d", sp.Train.Len(), sp.Test.Len(), windows-test, test)
		}
		for _, s := range []*Set{sp.Train, sp.Test} {
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
		}
		checkWindows(t, sp.Train, runes, 0)
		checkWindows(t, sp.Test, runes, windows-test)
		// The labels of train then test are the corpus after its first C runes.
		all := sp.Train.Vocab.Decode(slices.Concat(sp.Train.Labels, sp.Test.Labels))
		if all != string(runes[5:]) {
			t.Errorf("labels decode to %q, want %q", all, string(runes[5:]))
		}
	}
}

func TestTextErrors(t *testing.T) {
	tests := []struct {
		name, text string
		opts       TextOptions
		want       string
	}{
		{"invalid UTF-8", "abc\xffdef", TextOptions{Context: 2}, "invalid UTF-8 at byte 3"},
		{"too short", "abcd", TextOptions{Context: 3}, "too few"},
		{"test fraction 1", "abcdefgh", TextOptions{Context: 2, TestFraction: 1}, "outside (0, 1)"},
		{"negative context", "abcdefgh", TextOptions{Context: -1}, "negative"},
	}
	for _, tc := range tests {
		_, err := TextFromString("c.txt", tc.text, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "c.txt") {
			t.Errorf("%s: error %v, want one naming c.txt and containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadText("testdata/absent.txt", TextOptions{}); err == nil || !strings.Contains(err.Error(), "absent.txt") {
		t.Errorf("missing file: error %v, want one naming absent.txt", err)
	}
}

func TestLoadTextDefaultCorpus(t *testing.T) {
	path, err := findDefaultCorpus()
	if err != nil {
		t.Skipf("no Go installation with %s: %v", DefaultCorpus, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := LoadText("", TextOptions{Context: 16})
	if err != nil {
		t.Fatal(err)
	}
	n := utf8.RuneCount(raw)
	if got := sp.Train.Len() + sp.Test.Len(); got != n-16 {
		t.Errorf("%d windows, want %d runes − 16 = %d", got, n, n-16)
	}
	if v := sp.Train.Vocab.Size(); v < 60 || v > 120 {
		t.Errorf("vocabulary of %d characters, want an English text's 60…120", v)
	}
	start := sp.Train.Vocab.Decode(sp.Train.Tokens[:200])
	if !strings.HasPrefix(string(raw), start) || !strings.Contains(start, "OPTICKS") {
		t.Errorf("the training stream starts %q, not like the file", start)
	}
}
