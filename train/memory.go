package train

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/data"
)

// footprint is an estimate, in float64 to survive any width, of what a
// run's model needs before anything of that size is allocated.
type footprint struct {
	// Params is the number of model parameters.
	Params float64
	// Activations is the number of values one example's forward pass
	// records (layer outputs, pre-activations, im2col columns).
	Activations float64
	// Bytes is the memory estimate for the model, its gradient, the
	// direction, the line search's copies, the optimizer state, and the
	// training and probe tapes (values, gradients, jets) of one batch.
	Bytes float64
}

// optimizerSlots is the number of parameter-sized tensors each optimizer
// keeps (peers: an upper bound).
func optimizerSlots(opt string) float64 {
	switch opt {
	case "sgd":
		return 0
	case "momentum", "nesterov", "rmsprop", "adagrad", "lion":
		return 1
	case "adam", "adamw":
		return 2
	}
	return 4
}

// estimateFootprint computes the footprint of the model cfg names on the
// training set s with elements of elem bytes. It mirrors buildModel and
// the nn constructors' defaults.
func estimateFootprint(cfg Config, s *data.Set, task string, elem int) footprint {
	outputs := float64(s.Classes)
	if task == "regression" {
		outputs = float64(s.Outputs)
	}
	var p, a float64
	linear := func(in, out float64) { p += (in + 1) * out; a += 2 * out }
	switch cfg.Model {
	case "cnn":
		in, h, w := 1.0, 28.0, 28.0
		if len(s.Shape) == 3 {
			in, h, w = float64(s.Shape[0]), float64(s.Shape[1]), float64(s.Shape[2])
		}
		oh, ow := float64(int((h-4)/2)), float64(int((w-4)/2))
		p += (in*9+1)*8 + (8*9+1)*16
		a += 9*in*(h-2)*(w-2) + 2*8*(h-2)*(w-2) + 9*8*(h-4)*(w-4) + 2*16*(h-4)*(w-4) + 2*16*oh*ow
		linear(16*oh*ow, 64)
		linear(64, outputs)
	case "charmlp":
		vocab, embed := 0.0, 10.0
		if s.Vocab != nil {
			vocab = float64(s.Vocab.Size())
		}
		p += vocab * embed
		in := float64(s.Context) * embed
		a += in
		for _, h := range cfg.Hidden {
			linear(in, float64(h))
			in = float64(h)
		}
		linear(in, vocab)
	default:
		in := float64(s.Features())
		a += in
		for _, h := range cfg.Hidden {
			linear(in, float64(h))
			in = float64(h)
		}
		linear(in, outputs)
	}
	batch := float64(min(cfg.Batch, s.Len()))
	// value, gradient, direction, two line-search copies and one for the
	// checkpoint's encoding; two tapes of values, gradients and two jet
	// tangents.
	perParam := 6 + optimizerSlots(cfg.Opt)
	return footprint{Params: p, Activations: a, Bytes: (perParam*p + 2*4*batch*a) * float64(elem)}
}

// maxBytesUnknown bounds the estimate where the machine's memory is
// unknown: 1 TiB.
const maxBytesUnknown = 1 << 40

// checkMemory refuses a configuration whose estimated footprint cannot fit
// into the memory available (MemAvailable of /proc/meminfo, or less under
// a cgroup memory limit; 1 TiB where neither can be read), before anything
// of the model's size is allocated.
func checkMemory[T ad.Float](cfg Config, s *data.Set, task string) error {
	var zero T
	f := estimateFootprint(cfg, s, task, int(unsafe.Sizeof(zero)))
	avail, total, err := machineMemory()
	var limit float64
	var machine string
	if err == nil {
		limit = float64(avail)
		machine = fmt.Sprintf("%s available of %s on this machine (MemAvailable and MemTotal in /proc/meminfo)", gib(float64(avail)), gib(float64(total)))
		// The cgroup's usage counts reclaimable page cache: only its limit
		// is compared, so that a model that may fit is never refused.
		if cg, ok := cgroupLimit(); ok && cg < avail {
			limit = float64(cg)
			machine = fmt.Sprintf("cgroup memory limit of %s on this process (%s available of %s on the machine, /proc/meminfo)",
				gib(limit), gib(float64(avail)), gib(float64(total)))
		}
	} else {
		limit = maxBytesUnknown
		machine = fmt.Sprintf("1 TiB, the limit where the machine's memory cannot be read (%v)", err)
	}
	if f.Bytes <= limit {
		return nil
	}
	return fmt.Errorf("train: the model (%.4g parameters) with its %s state and a batch of %d needs about %s, more than the %s; "+
		"use smaller --hidden widths or a smaller --batch", f.Params, cfg.Opt, min(cfg.Batch, s.Len()), gib(f.Bytes), machine)
}

// gib formats a byte count in GiB: three significant digits, whole
// numbers from 100 up.
func gib(b float64) string {
	g := b / (1 << 30)
	if g >= 100 {
		return strconv.FormatFloat(math.Round(g), 'f', 0, 64) + " GiB"
	}
	return strconv.FormatFloat(g, 'g', 3, 64) + " GiB"
}

// cgroupLimit reads the memory limit of the cgroup mounted at
// /sys/fs/cgroup (a container's own): memory.max (cgroup v2) or
// memory/memory.limit_in_bytes (v1). ok is false where there is none or
// no limit ("max").
func cgroupLimit() (limit uint64, ok bool) {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if n, ok := readCount(path); ok {
			return n, true
		}
	}
	return 0, false
}

// readCount reads a file holding one decimal count; "max" and anything
// unreadable give ok false.
func readCount(path string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}

// machineMemory reads MemAvailable and MemTotal (bytes) from /proc/meminfo.
func machineMemory() (avail, total uint64, err error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return parseMeminfo(bufio.NewScanner(f))
}

// parseMeminfo reads the "MemAvailable:" and "MemTotal:" lines (in kB).
func parseMeminfo(sc *bufio.Scanner) (avail, total uint64, err error) {
	found := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		var dst *uint64
		switch fields[0] {
		case "MemAvailable:":
			dst = &avail
		case "MemTotal:":
			dst = &total
		default:
			continue
		}
		kb, perr := strconv.ParseUint(fields[1], 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("/proc/meminfo: %q: %w", sc.Text(), perr)
		}
		*dst = kb << 10
		found++
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if found < 2 {
		return 0, 0, fmt.Errorf("/proc/meminfo lacks MemAvailable or MemTotal")
	}
	return avail, total, nil
}
