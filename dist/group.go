package dist

import (
	"fmt"
	"sync"
	"time"
)

// NewGroup returns a communicator of n ranks inside one process, one Comm
// per rank, each to be used by its own goroutine. It runs the same
// collectives as MPI without MPI — sums are taken in rank order 0, 1, …,
// n−1, the same on every rank — so that the data-parallel trainer can be
// tested in the default build. A collective that waits longer than
// opts.Timeout (default DefaultTimeout) for the other ranks fails with
// ErrTimeout and breaks the group.
func NewGroup(n int, opts Options) []Comm {
	if n < 1 {
		panic(fmt.Sprintf("dist: NewGroup(%d): need at least one rank", n))
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	g := &group{n: n, timeout: opts.Timeout, slots: make([]any, n), release: make(chan struct{})}
	members := make([]Comm, n)
	for r := range members {
		members[r] = &member{g: g, rank: r}
	}
	return members
}

// group is the state the ranks of NewGroup share: a cyclic barrier and one
// slot per rank through which the collectives exchange their buffers.
type group struct {
	n       int
	timeout time.Duration

	mu      sync.Mutex
	arrived int
	release chan struct{} // closed when the last rank arrives
	broken  error
	slots   []any
}

// await returns once all n ranks have called it (a cyclic barrier).
func (g *group) await(rank int, what string) error {
	g.mu.Lock()
	if g.broken != nil {
		g.mu.Unlock()
		return fmt.Errorf("dist: %s: the group failed earlier: %w", what, g.broken)
	}
	ch := g.release
	g.arrived++
	if g.arrived == g.n {
		g.arrived, g.release = 0, make(chan struct{})
		close(ch)
		g.mu.Unlock()
		return nil
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-time.After(g.timeout):
		g.mu.Lock()
		defer g.mu.Unlock()
		g.broken = fmt.Errorf("%w: %s on rank %d of %d waited %v (the limit) for the other ranks", ErrTimeout, what, rank, g.n, g.timeout)
		return g.broken
	}
}

// member is one rank of a group.
type member struct {
	g    *group
	rank int
}

var _ Comm = (*member)(nil)

func (m *member) Rank() int { return m.rank }
func (m *member) Size() int { return m.g.n }

func (m *member) Barrier() error { return m.g.await(m.rank, "barrier") }

func (m *member) BroadcastFloat64(buf []float64, root int) error {
	if err := checkRoot(root, m.g.n); err != nil {
		return err
	}
	if m.rank == root {
		m.g.slots[root] = buf
	}
	if err := m.g.await(m.rank, "broadcast"); err != nil {
		return err
	}
	if m.rank != root {
		src := m.g.slots[root].([]float64)
		if len(src) != len(buf) {
			return fmt.Errorf("dist: broadcast: rank %d has %d elements, the root %d", m.rank, len(buf), len(src))
		}
		copy(buf, src)
	}
	return m.g.await(m.rank, "broadcast") // the root's buffer is read before it changes
}

func (m *member) SumFloat32(buf []float32) error { return groupSum(m, buf) }
func (m *member) SumFloat64(buf []float64) error { return groupSum(m, buf) }

// Close does nothing: a group holds no resources.
func (m *member) Close() error { return nil }

// groupSum publishes a copy of buf, waits for all ranks, and sums the
// copies in rank order into buf.
func groupSum[T float32 | float64](m *member, buf []T) error {
	g := m.g
	g.slots[m.rank] = append([]T(nil), buf...)
	if err := g.await(m.rank, "all-reduce"); err != nil {
		return err
	}
	for r := range g.n {
		if n := len(g.slots[r].([]T)); n != len(buf) {
			return fmt.Errorf("dist: all-reduce: rank %d has %d elements, rank %d %d", m.rank, len(buf), r, n)
		}
	}
	for i := range buf {
		var s T
		for r := range g.n {
			s += g.slots[r].([]T)[i]
		}
		buf[i] = s
	}
	return g.await(m.rank, "all-reduce") // every rank has read the copies before the next collective
}
