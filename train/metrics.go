package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/genopt/gen/checkpoint"
)

// Num is a float64 that is written as JSON null (and an empty CSV cell)
// when it is not finite — a quantity a step did not compute is NaN.
type Num float64

// MarshalJSON writes null for NaN and ±Inf.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*n = Num(f)
	return err
}

func (n Num) csv() string {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// StepRecord is one line of metrics.jsonl: what one training step did.
// Quantities the step did not compute are null.
type StepRecord struct {
	// Step counts the steps done (1 after the first); Epoch is Step divided
	// by the batches per epoch.
	Step  int     `json:"step"`
	Epoch float64 `json:"epoch"`
	// Loss is the training batch's loss at the parameters before the step.
	Loss float64 `json:"loss"`
	// LR is the learning rate applied.
	LR float64 `json:"lr"`
	// Updated is set when the rule probed the line; Reason says how the
	// rate came about (ok, lazy, non-convex, non-descent, non-finite,
	// scheduled).
	Updated bool   `json:"updated"`
	Reason  string `json:"reason"`
	// GroupLR holds the rates of the parameter groups under --groups layer
	// (LR is then their mean); absent otherwise.
	GroupLR []float64 `json:"group_lr,omitempty"`
	// Estimated is set when the rate came from the line's measurements
	// (gen.Decision.Estimated), not from a fixed rate.
	Estimated bool `json:"estimated"`
	// Estimate is the raw α* (exact) or Δ (approximate).
	Estimate Num `json:"estimate"`
	// Slope is ∇f·u and Curvature uᵀHu on the probe batch.
	Slope     Num `json:"slope"`
	Curvature Num `json:"curvature"`
	// ProbeLoss is g(0) on the probe batch; LossMinus and LossPlus are
	// g(a) and g(−a); R2 the 5-point fit's R².
	ProbeLoss Num `json:"probe_loss"`
	LossMinus Num `json:"loss_minus"`
	LossPlus  Num `json:"loss_plus"`
	R2        Num `json:"r2"`
	// Forwards, Backwards and Jets count the passes since the run began;
	// Replays counts the evaluations along a probed line, which replay the
	// probe's recorded forward without recomputing its data-fed layers.
	Forwards  int `json:"forwards"`
	Replays   int `json:"replays"`
	Backwards int `json:"backwards"`
	Jets      int `json:"jets"`
	// Seconds is the wall time since the run began, evaluations and
	// checkpoints included, summed over resumed sessions.
	Seconds float64 `json:"seconds"`
}

var stepColumns = []string{"step", "epoch", "loss", "lr", "updated", "reason", "estimated", "estimate", "slope", "curvature", "probe_loss", "loss_minus", "loss_plus", "r2", "forwards", "replays", "backwards", "jets", "seconds"}

func (s StepRecord) csv() []string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return []string{strconv.Itoa(s.Step), f(s.Epoch), f(s.Loss), f(s.LR), strconv.FormatBool(s.Updated), s.Reason, strconv.FormatBool(s.Estimated),
		s.Estimate.csv(), s.Slope.csv(), s.Curvature.csv(), s.ProbeLoss.csv(), s.LossMinus.csv(), s.LossPlus.csv(), s.R2.csv(),
		strconv.Itoa(s.Forwards), strconv.Itoa(s.Replays), strconv.Itoa(s.Backwards), strconv.Itoa(s.Jets), f(s.Seconds)}
}

// EpochRecord is one line of epochs.jsonl: an evaluation on the test set.
type EpochRecord struct {
	Step         int      `json:"step"`
	Epoch        float64  `json:"epoch"`
	TestLoss     Num      `json:"test_loss"`
	TestAccuracy *float64 `json:"test_accuracy,omitempty"`
	Seconds      float64  `json:"seconds"`
}

var epochColumns = []string{"step", "epoch", "test_loss", "test_accuracy", "seconds"}

func (e EpochRecord) csv() []string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	acc := ""
	if e.TestAccuracy != nil {
		acc = f(*e.TestAccuracy)
	}
	return []string{strconv.Itoa(e.Step), f(e.Epoch), e.TestLoss.csv(), acc, f(e.Seconds)}
}

// metricsLog keeps a run's records and appends them to its files when
// flushed (at each checkpoint), so that the files never run ahead of the
// checkpoint by more than one interval.
type metricsLog struct {
	dir           string
	steps         []StepRecord
	epochs        []EpochRecord
	flushedSteps  int
	flushedEpochs int
}

func (m *metricsLog) addStep(s StepRecord)   { m.steps = append(m.steps, s) }
func (m *metricsLog) addEpoch(e EpochRecord) { m.epochs = append(m.epochs, e) }

// flush appends the records not yet written to the JSON Lines and CSV files.
func (m *metricsLog) flush() error {
	if m.dir == "" { // a rank other than 0 of a --dist run keeps its records unwritten
		return nil
	}
	if err := appendRows(m.dir, "metrics", stepColumns, m.steps[m.flushedSteps:], StepRecord.csv); err != nil {
		return err
	}
	m.flushedSteps = len(m.steps)
	if err := appendRows(m.dir, "epochs", epochColumns, m.epochs[m.flushedEpochs:], EpochRecord.csv); err != nil {
		return err
	}
	m.flushedEpochs = len(m.epochs)
	return nil
}

// render returns the JSON Lines and CSV text of rows.
func render[R any](rows []R, csv func(R) []string) (js, cs []byte, err error) {
	var jb, cb bytes.Buffer
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, nil, fmt.Errorf("train: metrics: %w", err)
		}
		jb.Write(b)
		jb.WriteByte('\n')
		cb.WriteString(strings.Join(csv(r), ","))
		cb.WriteByte('\n')
	}
	return jb.Bytes(), cb.Bytes(), nil
}

// appendRows appends rows to DIR/NAME.jsonl and DIR/NAME.csv, creating
// them (the CSV with its header) when absent, and syncs them.
func appendRows[R any](dir, name string, cols []string, rows []R, csv func(R) []string) error {
	js, cs, err := render(rows, csv)
	if err != nil {
		return err
	}
	csvPath := filepath.Join(dir, name+".csv")
	if _, err := os.Stat(csvPath); errors.Is(err, os.ErrNotExist) {
		if err := checkpoint.WriteFileAtomic(csvPath, []byte(strings.Join(cols, ",")+"\n")); err != nil {
			return err
		}
		if err := checkpoint.WriteFileAtomic(filepath.Join(dir, name+".jsonl"), nil); err != nil {
			return err
		}
	}
	for path, b := range map[string][]byte{filepath.Join(dir, name+".jsonl"): js, csvPath: cs} {
		if len(b) == 0 {
			continue
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("train: metrics: %w", err)
		}
		_, err = f.Write(b)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("train: metrics: writing %s: %w", path, err)
		}
	}
	return nil
}

// rewriteRows replaces DIR/NAME.jsonl and DIR/NAME.csv by rows, each file
// atomically.
func rewriteRows[R any](dir, name string, cols []string, rows []R, csv func(R) []string) error {
	js, cs, err := render(rows, csv)
	if err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, name+".jsonl"), js); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, name+".csv"), append([]byte(strings.Join(cols, ",")+"\n"), cs...))
}

// readJSONL reads the records of a JSON Lines file (absent: none). With
// tolerateTail, a malformed last line — an append cut short by a crash,
// which can only lie past the last checkpoint — is dropped instead of being
// an error.
func readJSONL[R any](path string, tolerateTail bool) ([]R, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := bytes.Split(data, []byte("\n"))
	var out []R
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r R
		if err := json.Unmarshal(line, &r); err != nil {
			last := i == len(lines)-1 || (i == len(lines)-2 && len(bytes.TrimSpace(lines[i+1])) == 0)
			if tolerateTail && last {
				break
			}
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// truncate reloads the records written before a checkpoint at step, drops
// any written after it, and rewrites the files to match, each atomically.
func (m *metricsLog) truncate(step int) error {
	steps, err := readJSONL[StepRecord](filepath.Join(m.dir, "metrics.jsonl"), true)
	if err != nil {
		return fmt.Errorf("train: --resume: %w", err)
	}
	epochs, err := readJSONL[EpochRecord](filepath.Join(m.dir, "epochs.jsonl"), true)
	if err != nil {
		return fmt.Errorf("train: --resume: %w", err)
	}
	for len(steps) > 0 && steps[len(steps)-1].Step > step {
		steps = steps[:len(steps)-1]
	}
	for len(epochs) > 0 && epochs[len(epochs)-1].Step > step {
		epochs = epochs[:len(epochs)-1]
	}
	if err := rewriteRows(m.dir, "metrics", stepColumns, steps, StepRecord.csv); err != nil {
		return err
	}
	if err := rewriteRows(m.dir, "epochs", epochColumns, epochs, EpochRecord.csv); err != nil {
		return err
	}
	m.steps, m.epochs = steps, epochs
	m.flushedSteps, m.flushedEpochs = len(steps), len(epochs)
	return nil
}

// recentLoss is the mean training loss over the last 100 steps; NaN
// before the first step.
func (m *metricsLog) recentLoss() float64 {
	if len(m.steps) == 0 {
		return math.NaN()
	}
	n := min(len(m.steps), 100)
	var s float64
	for _, r := range m.steps[len(m.steps)-n:] {
		s += r.Loss
	}
	return s / float64(max(n, 1))
}

func (m *metricsLog) lastEpoch() (EpochRecord, bool) {
	if len(m.epochs) == 0 {
		return EpochRecord{}, false
	}
	return m.epochs[len(m.epochs)-1], true
}
