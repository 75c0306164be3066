package data

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// LoaderOptions configures a Loader. The zero value gives batches of 128
// examples, reshuffled every epoch with seed 0, keeping the last, smaller
// batch of an epoch.
type LoaderOptions struct {
	// BatchSize is M, the number of examples per batch (default 128).
	BatchSize int
	// Seed selects the permutations of all epochs.
	Seed uint64
	// DropLast ends an epoch when fewer than M examples remain, so that
	// every batch has exactly M examples; by default the last batch of an
	// epoch holds the N mod M remaining ones.
	DropLast bool
	// Ordered visits the examples in set order every epoch (no shuffling),
	// e.g. for evaluation.
	Ordered bool
}

// Position is where a Loader stands: the next batch starts at the Index-th
// entry (counted in examples, not batches) of the permutation of epoch Epoch.
// A batch never spans two epochs; the position after an epoch's last batch
// is {Epoch + 1, 0}.
type Position struct {
	Epoch, Index int
}

// Loader walks a Set in batches, epoch after epoch. The order of epoch e is
// Permutation(seed, e) — a function of the seed and the epoch number alone —
// so Position{Epoch, Index} describes the loader's state completely: a
// loader that Seeks to a saved position yields exactly the batches an
// uninterrupted one would. Peek shows the next batch without consuming it.
//
// Peek and Next return the batch as indices into the set; the slice belongs
// to the loader and stays valid until the next call to Peek, Next or Seek.
// Turn it into tensors with FillBatch, or use NextBatch and PeekBatch. To
// evaluate a probe on the batch the model has not yet seen and then train on
// it, PeekBatch (or Peek) before NextBatch. A Loader is not safe for
// concurrent use.
type Loader struct {
	set   *Set
	opts  LoaderOptions
	n     int
	perm  []int // the order of epoch `epoch`
	epoch int
	index int // entries of perm consumed
}

// NewLoader returns a loader at Position{0, 0} over set, which must not be
// modified while the loader is in use. It panics if the set is empty, if
// BatchSize is negative, or if DropLast leaves no batch (M > N).
func NewLoader(set *Set, opts LoaderOptions) *Loader {
	if opts.BatchSize == 0 {
		opts.BatchSize = 128
	}
	n := set.Len()
	switch {
	case opts.BatchSize < 0:
		panic(fmt.Sprintf("data: NewLoader: batch size %d", opts.BatchSize))
	case n == 0:
		panic(fmt.Sprintf("data: NewLoader: set %q is empty", set.Name))
	case opts.DropLast && opts.BatchSize > n:
		panic(fmt.Sprintf("data: NewLoader: DropLast with batch size %d > %d examples of %q gives no batch", opts.BatchSize, n, set.Name))
	}
	l := &Loader{set: set, opts: opts, n: n, perm: make([]int, n)}
	l.startEpoch(0)
	return l
}

// Set returns the set the loader walks.
func (l *Loader) Set() *Set { return l.set }

// BatchSize returns M.
func (l *Loader) BatchSize() int { return l.opts.BatchSize }

// BatchesPerEpoch returns the number of batches in one epoch: ⌈N/M⌉, or
// ⌊N/M⌋ with DropLast.
func (l *Loader) BatchesPerEpoch() int {
	m := l.opts.BatchSize
	if l.opts.DropLast {
		return l.n / m
	}
	return (l.n + m - 1) / m
}

// Position returns the position of the next batch.
func (l *Loader) Position() Position {
	if l.epochDone() {
		return Position{l.epoch + 1, 0}
	}
	return Position{l.epoch, l.index}
}

// Seek moves the loader to p, typically a Position saved in a checkpoint.
// It returns an error if p is not a position of this loader's set (negative
// epoch, or Index outside [0, N]).
func (l *Loader) Seek(p Position) error {
	if p.Epoch < 0 || p.Index < 0 || p.Index > l.n {
		return fmt.Errorf("data: loader over %q: cannot seek to epoch %d, index %d: want epoch ≥ 0 and index in [0, %d]", l.set.Name, p.Epoch, p.Index, l.n)
	}
	l.startEpoch(p.Epoch)
	l.index = p.Index
	return nil
}

// Peek returns the indices of the next batch without consuming it: the next
// Peek or Next returns the same batch.
func (l *Loader) Peek() []int {
	if l.epochDone() {
		l.startEpoch(l.epoch + 1)
	}
	end := min(l.index+l.opts.BatchSize, l.n)
	return l.perm[l.index:end]
}

// Next returns the indices of the next batch and moves past it.
func (l *Loader) Next() []int {
	b := l.Peek()
	l.index += len(b)
	return b
}

// epochDone reports whether the current epoch has no batch left.
func (l *Loader) epochDone() bool {
	left := l.n - l.index
	return left == 0 || l.opts.DropLast && left < l.opts.BatchSize
}

func (l *Loader) startEpoch(e int) {
	l.epoch, l.index = e, 0
	if l.opts.Ordered {
		for i := range l.perm {
			l.perm[i] = i
		}
		return
	}
	Permutation(l.perm, l.opts.Seed, e)
}

// Permutation fills dst with the permutation of 0 … len(dst)−1 that a Loader
// with the given seed uses in epoch e: a Fisher–Yates shuffle (Knuth, TAOCP
// vol. 2, Algorithm 3.4.2 P) of the identity, driven by a PCG-DXSM generator
// seeded with (seed, splitmix64(e)) and unbiased bounded draws (Lemire,
// "Fast random integer generation in an interval", 2019). It uses no
// math/rand helper whose output could change between Go releases, so a
// position saved by one build replays the same batches in another.
func Permutation(dst []int, seed uint64, e int) {
	for i := range dst {
		dst[i] = i
	}
	var src rand.PCG
	src.Seed(seed, splitmix64(uint64(e)))
	shuffle(dst, &src)
}

// shuffle permutes p uniformly at random (Fisher–Yates).
func shuffle(p []int, src *rand.PCG) {
	for i := len(p) - 1; i > 0; i-- {
		j := bounded(src, uint64(i)+1)
		p[i], p[j] = p[j], p[i]
	}
}

// bounded returns a uniform integer in [0, n), n > 0, by Lemire's
// multiply-and-reject method.
func bounded(src *rand.PCG, n uint64) int {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		threshold := -n % n // 2⁶⁴ mod n
		for lo < threshold {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return int(hi)
}

// splitmix64 is the finaliser of SplitMix64 (Steele et al., 2014): it
// spreads consecutive epoch numbers over the PCG stream space.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
