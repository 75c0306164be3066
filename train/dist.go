package train

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/data"
	"github.com/genopt/gen/dist"
	"github.com/genopt/gen/probe"
)

// Data parallelism (Config.Dist = "mpi", under mpirun -np N).
//
// Every rank builds the same model from the same seed and walks the same
// shuffled stream of global batches. Of a global batch of n examples, rank r
// of N keeps the rows
//
//	[⌊r·n/N⌋, ⌊(r+1)·n/N⌋)        (n_r of them)
//
// and computes the mean loss f_r and its gradient ∇f_r over them. The global
// batch's loss is the count-weighted mean f = Σ_r n_r·f_r / Σ_r n_r, which is
// exactly the single-process mean over the n examples, so every quantity
// linear in the loss is reduced the same way:
//
//   - the gradient: one all-reduce (sum) per step over one flat buffer
//     [n_r·∇f_r (all parameters, in order) | n_r·f_r | n_r | stop vote],
//     then a division by Σ n_r; the training loss and the count travel in
//     the same call, and so does a vote to stop (an interrupt on any rank
//     stops every rank at the same step);
//   - the line g(α): each value (n_r·g_r(α), n_r) is all-reduced (one call
//     per value, two numbers), and the jet's (g(0), g'(0), g″(0)) in one
//     call of four numbers, so every rule sees the global line and every
//     rank takes the same learning rate;
//   - the evaluation: the test set is split into contiguous ranges the same
//     way, and (Σ loss, correct answers) summed.
//
// Summation order, and why N ranks reproduce one process closely (not bit
// for bit): one process sums the n per-example terms of a mean in batch
// order inside the kernels and divides by n; N ranks sum each shard in the
// same order, multiply by n_r, add the N partial sums (MPI's order: for
// N = 2 the one addition a+b is commutative, so both ranks get the same
// bits) and divide by n. The two differ only by the rounding of the partial
// sums, a few units of 1e-16 relative per step in float64; the equivalence
// tests (dist_test.go, dist_mpi_test.go) hold losses and rates over 50 steps
// to 1e-9 (seen: 1e-15 to 3e-11, the larger where GeN feeds the rate back).
// Every rank must compute the same sums bit for bit, or the replicas would
// drift apart: OpenMPI's MPI_Allreduce with MPI_SUM returns the same bits on
// every rank, and checkReplicas verifies it at every checkpoint.
//
// Dropout: with N > 1, rank r reseeds its two dropout streams at every step
// from (seed, r, step), so masks differ across ranks (each sees other
// examples) and a resumed run draws the same masks as an uninterrupted one.
// With N = 1 the streams are those of a plain run, which it is bit for bit.
//
// Files: rank 0 alone writes the run directory (config, metrics, charts,
// checkpoints, summary); on --resume every rank reads the checkpoint, so
// the run directory must be on a file system that all ranks see.

// openComm opens the communicator cfg.Dist names.
func openComm(cfg Config) (dist.Comm, error) {
	c, err := dist.Open(cfg.Dist, dist.Options{Timeout: time.Duration(cfg.DistTimeout * float64(time.Second))})
	if err != nil {
		return nil, fmt.Errorf("train: --dist %s: %w", cfg.Dist, err)
	}
	return c, nil
}

// span returns the rows [lo, hi) of a batch of n that rank r of size keeps.
func span(n, r, size int) (lo, hi int) { return r * n / size, (r + 1) * n / size }

// root reports whether this rank writes the run directory.
func (r *runner[T]) root() bool { return r.comm.Rank() == 0 }

// shard keeps this rank's rows of the global batch b of set s.
func (r *runner[T]) shard(b *data.Batch[T], s *data.Set) {
	if r.comm.Size() == 1 {
		return
	}
	lo, hi := span(b.Len(), r.comm.Rank(), r.comm.Size())
	data.FillBatch(b, s, b.Index[lo:hi])
}

// checkShards refuses a run in which some rank would get an empty shard:
// every batch it reads, the last partial one of an epoch included, needs at
// least one example per rank.
func (r *runner[T]) checkShards() error {
	n := r.comm.Size()
	if n == 1 {
		return nil
	}
	smallest := r.cfg.Batch
	full := r.split.Train.Len() / r.cfg.Batch // batches of full size per epoch
	// The epoch's last, partial batch (index full) is read only by a run
	// that gets there: steps 0 … Steps−1 train, and the fresh probe of the
	// last step reads batch Steps.
	reaches := r.cfg.Steps == 0 || r.cfg.Steps >= full
	if rest := r.split.Train.Len() % r.cfg.Batch; rest != 0 && reaches {
		smallest = rest
	}
	if smallest < n {
		return fmt.Errorf("train: --dist over %d ranks: a batch of %d examples (--batch %d over %d training examples) leaves some ranks without examples; choose a --batch of at least %d whose last batch also has %d",
			n, smallest, r.cfg.Batch, r.split.Train.Len(), n, n)
	}
	return nil
}

// reseed gives rank r its dropout streams for the coming step, from
// (seed, r, step): independent across ranks and reproducible on resume.
func (r *runner[T]) reseed() {
	if r.comm.Size() == 1 {
		return
	}
	k := uint64(r.comm.Rank())<<40 | uint64(r.st.Step)<<1
	r.trainPCG.Seed(r.cfg.Seed, mix(k))
	r.probePCG.Seed(r.cfg.Seed, mix(k|1))
}

// mix is splitmix64's finalizer: nearby inputs give unrelated outputs.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// errStop ends a step that some rank voted to stop before (an interrupt).
var errStop = errors.New("train: stop requested")

// errPeerStopped is the error of a rank whose run ended because another
// rank failed first; that rank's error is the one to read.
var errPeerStopped = errors.New("train: another rank failed (see its message above); this rank stops too")

// agree makes every rank fail together: it all-reduces whether err is set
// and returns err, or errPeerStopped when only another rank failed.
func (r *runner[T]) agree(err error) error { return agree(r.comm, err) }

func agree(c dist.Comm, err error) error {
	if c.Size() == 1 {
		return err
	}
	vote := []float64{0}
	if err != nil {
		vote[0] = 1
	}
	if cerr := c.SumFloat64(vote); cerr != nil {
		return errors.Join(err, cerr)
	}
	if err == nil && vote[0] > 0 {
		return errPeerStopped
	}
	return err
}

// reduceGradient turns this rank's shard gradient (in r.grads) and mean loss
// into the global batch's, with one all-reduce, and returns the global loss
// and whether any rank voted to stop.
func (r *runner[T]) reduceGradient(shardLoss float64, stop bool) (float64, bool, error) {
	if r.comm.Size() == 1 {
		return shardLoss, stop, nil
	}
	nr := T(r.batch.Len())
	size := 0
	for _, g := range r.grads {
		size += g.Len()
	}
	if len(r.flat) != size+3 {
		r.flat = make([]T, size+3)
	}
	off := 0
	for _, g := range r.grads {
		for i, v := range g.Data() {
			r.flat[off+i] = nr * v
		}
		off += g.Len()
	}
	r.flat[size], r.flat[size+1], r.flat[size+2] = nr*T(shardLoss), nr, 0
	if stop {
		r.flat[size+2] = 1
	}
	start := time.Now()
	if err := dist.Sum(r.comm, r.flat); err != nil {
		return 0, false, fmt.Errorf("train: step %d: gradient all-reduce: %w", r.st.Step, err)
	}
	r.reduceSeconds += time.Since(start).Seconds()
	n := r.flat[size+1]
	off = 0
	for _, g := range r.grads {
		d := g.Data()
		for i := range d {
			d[i] = r.flat[off+i] / n
		}
		off += g.Len()
	}
	return float64(r.flat[size]) / float64(n), r.flat[size+2] > 0, nil
}

// distLine is the line g(α) of the global batch seen from one rank: it
// evaluates this rank's shard with the wrapped probe.Line and all-reduces
// every value the rule reads, weighted by the shard's size. A failed
// collective makes the values NaN (the rule then falls back) and is kept in
// err for the step to return.
type distLine[T ad.Float] struct {
	inner  *probe.Line[T]
	comm   dist.Comm
	count  func() int // n_r of the batch the line is on (read after it is filled)
	global bool       // the inner line's gradient is the reduced one
	buf    []float64
	err    error
}

var (
	_ gen.Line      = (*distLine[float32])(nil)
	_ gen.Sloper    = (*distLine[float32])(nil)
	_ gen.GroupLine = (*distLine[float32])(nil)
)

// sum all-reduces vals weighted by n_r and returns the count-weighted means.
func (l *distLine[T]) sum(vals ...float64) []float64 {
	nr := float64(l.count())
	l.buf = l.buf[:0]
	for _, v := range vals {
		l.buf = append(l.buf, nr*v)
	}
	l.buf = append(l.buf, nr)
	if l.err == nil {
		l.err = l.comm.SumFloat64(l.buf)
	}
	n := l.buf[len(vals)]
	for i := range vals {
		vals[i] = l.buf[i] / n
		if l.err != nil {
			vals[i] = math.NaN()
		}
	}
	return vals
}

// At returns the global g(α).
func (l *distLine[T]) At(alpha float64) float64 { return l.sum(l.inner.At(alpha))[0] }

// Jet returns the global g(0), g'(0) and g″(0): the jet is linear in the
// loss, so its terms reduce like the loss.
func (l *distLine[T]) Jet(c ad.Curvature) (g0, d1, d2 float64) {
	v := l.sum(l.inner.Jet(c))
	return v[0], v[1], v[2]
}

// Slope returns the global g(0) and g'(0). With the reduced gradient set,
// g'(0) = −∇f·u is already global and only g(0) is reduced.
func (l *distLine[T]) Slope() (g0, d1 float64) {
	g0, d1 = l.inner.Slope()
	if l.global {
		return l.sum(g0)[0], d1
	}
	v := l.sum(g0, d1)
	return v[0], v[1]
}

// Groups returns the number of parameter groups of the inner line.
func (l *distLine[T]) Groups() int { return l.inner.Groups() }

// AtGroups returns the global g at the groups' steps alphas.
func (l *distLine[T]) AtGroups(alphas []float64) float64 {
	return l.sum(l.inner.AtGroups(alphas))[0]
}

// JetGroups returns the global g(0), −∇f·v and vᵀHv along v = Σᵢ wᵢ·uᵢ;
// like Jet, each term reduces like the loss.
func (l *distLine[T]) JetGroups(w []float64, c ad.Curvature) (g0, d1, d2 float64) {
	v := l.sum(l.inner.JetGroups(w, c))
	return v[0], v[1], v[2]
}

// evalRange returns the part [lo, hi) of the n test examples this rank
// evaluates.
func (r *runner[T]) evalRange(n int) (lo, hi int) {
	return span(n, r.comm.Rank(), r.comm.Size())
}

// reduceEval sums the evaluation's loss sum and correct count over ranks.
func (r *runner[T]) reduceEval(sum float64, correct int) (float64, int, error) {
	if r.comm.Size() == 1 {
		return sum, correct, nil
	}
	buf := []float64{sum, float64(correct)}
	if err := r.comm.SumFloat64(buf); err != nil {
		return 0, 0, fmt.Errorf("train: step %d: evaluation all-reduce: %w", r.st.Step, err)
	}
	return buf[0], int(buf[1]), nil
}

// checkReplicas verifies, at every checkpoint, that this rank's weights
// are bit for bit rank 0's: it broadcasts a hash of rank 0's weights. Every
// rank computes the same sums only if the all-reduce gives all ranks the
// same bits, which the MPI standard does not promise (OpenMPI's algorithms
// do); a library that breaks it is caught here instead of training
// replicas that drift apart.
func (r *runner[T]) checkReplicas() error {
	if r.comm.Size() == 1 {
		return nil
	}
	h := fnv.New64a()
	var b [8]byte
	for _, p := range r.values {
		for _, v := range p.Data() {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(float64(v)))
			h.Write(b[:])
		}
	}
	mine := h.Sum64()
	buf := []float64{math.Float64frombits(mine)} // a broadcast copies the bits
	if err := r.comm.BroadcastFloat64(buf, 0); err != nil {
		return fmt.Errorf("train: step %d: weight check broadcast: %w", r.st.Step, err)
	}
	if math.Float64bits(buf[0]) != mine {
		return fmt.Errorf("train: step %d: the weights of rank %d differ from rank 0's: this MPI library's all-reduce does not give every rank the same sum; use OpenMPI, or report it", r.st.Step, r.comm.Rank())
	}
	return nil
}

// checkRanks refuses to resume a run on another number of ranks: the data
// split, and with it every step, would differ.
func (r *runner[T]) checkRanks() error {
	saved := max(r.st.Ranks, 1)
	if saved != r.comm.Size() {
		return fmt.Errorf("train: --resume: the run was trained on %d rank(s) and this job has %d; resume it with mpirun -np %d (or without mpirun for 1)",
			saved, r.comm.Size(), saved)
	}
	return nil
}

// probeLine returns the line the rule sees: the probe line itself on one
// rank, its all-reducing view on several.
func (r *runner[T]) probeLine() gen.Line {
	if r.dline == nil {
		return r.line
	}
	return r.dline
}

// setupDist prepares the reduction of the line, once the probe line exists.
func (r *runner[T]) setupDist() {
	if r.comm.Size() == 1 {
		return
	}
	r.dline = &distLine[T]{inner: r.line, comm: r.comm, count: func() int {
		if r.mode == probe.Same {
			return r.batch.Len()
		}
		return r.probeBatch.Len()
	}}
}
