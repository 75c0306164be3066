package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/data"
	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/optim"
	"github.com/genopt/gen/probe"
	"github.com/genopt/gen/tensor"
)

// ErrInterrupted is returned when the context is cancelled: the run wrote a
// checkpoint at the step it had reached and can be resumed.
var ErrInterrupted = errors.New("train: interrupted; a checkpoint was written, continue with --resume")

// Hooks receive progress; any of them may be nil.
type Hooks struct {
	// Start is called once with the total number of steps and the step the
	// run starts from (non-zero when resuming).
	Start func(total, from int)
	// Step is called after every step.
	Step func(StepRecord)
	// Epoch is called after every evaluation.
	Epoch func(EpochRecord)
}

// Summary is the outcome of a run.
type Summary struct {
	TrainLoss    float64  `json:"train_loss"`
	TestLoss     Num      `json:"test_loss"`
	TestAccuracy *float64 `json:"test_accuracy,omitempty"`
	Steps        int      `json:"steps"`
	Epochs       float64  `json:"epochs"`
	WallSeconds  float64  `json:"wall_seconds"`
	FinalLR      float64  `json:"final_lr"`
	Fallbacks    int      `json:"fallbacks"`
	Forwards     int      `json:"forwards"`
	Replays      int      `json:"replays"`
	Backwards    int      `json:"backwards"`
	Jets         int      `json:"jets"`
	RunDir       string   `json:"run_dir"`
	Rule         string   `json:"rule"`
	Params       int      `json:"params"`
	Samples      []string `json:"samples,omitempty"`
}

// trainerState is the part of a checkpoint that belongs to the loop.
type trainerState struct {
	Step      int           `json:"step"`
	Position  data.Position `json:"position"`
	Stream    data.Position `json:"stream_position"`
	TrainRand []byte        `json:"train_rand"`
	ProbeRand []byte        `json:"probe_rand"`
	Forwards  int           `json:"forwards"`
	Replays   int           `json:"replays"`
	Backwards int           `json:"backwards"`
	Jets      int           `json:"jets"`
	Fallbacks int           `json:"fallbacks"`
	Seconds   float64       `json:"seconds"`
	LR        float64       `json:"lr"`
}

// checkpointFiles is what the rule slot of a checkpoint holds: the rule's
// state and the loop's.
type ruleAndLoop struct {
	Rule    gen.State    `json:"rule"`
	Trainer trainerState `json:"trainer"`
}

// Run trains as cfg says, writing into the run directory outDir (created;
// it must not hold another run). To resume, use Resume.
func Run(ctx context.Context, cfg Config, outDir string, hooks Hooks) (*Summary, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(outDir, "config.json")); err == nil {
		return nil, fmt.Errorf("train: %s already holds a run; choose another --out or continue it with --resume %s", outDir, outDir)
	}
	return dispatch(ctx, cfg, outDir, false, hooks)
}

// Resume continues the run in dir from its checkpoint, with the
// configuration it was started with.
func Resume(ctx context.Context, dir string, hooks Hooks) (*Summary, error) {
	var cfg Config
	if err := checkpoint.ReadJSON(filepath.Join(dir, "config.json"), &cfg); err != nil {
		return nil, fmt.Errorf("train: --resume %s: %w", dir, err)
	}
	if err := cfg.Defaults().Validate(); err != nil {
		return nil, fmt.Errorf("train: --resume %s: config.json: %w", dir, err)
	}
	// A crash inside a checkpoint replacement can leave the last good
	// checkpoint beside its place; put it back.
	if _, err := checkpoint.Recover(filepath.Join(dir, "checkpoint")); err != nil {
		return nil, fmt.Errorf("train: --resume %s: %w", dir, err)
	}
	if _, err := checkpoint.ReadManifest(filepath.Join(dir, "checkpoint")); err != nil {
		return nil, fmt.Errorf("train: --resume %s: no usable checkpoint: %w", dir, err)
	}
	return dispatch(ctx, cfg, dir, true, hooks)
}

func dispatch(ctx context.Context, cfg Config, dir string, resume bool, hooks Hooks) (*Summary, error) {
	if cfg.Threads > 0 {
		kernel.SetThreads(cfg.Threads)
	}
	if cfg.Precision == "f64" {
		return run[float64](ctx, cfg, dir, resume, hooks)
	}
	return run[float32](ctx, cfg, dir, resume, hooks)
}

// runner holds one run's state.
type runner[T ad.Float] struct {
	cfg   Config
	dir   string
	split data.Split
	task  string

	model    nn.Module[T]
	params   []*ad.Var[T]
	values   []*tensor.Tensor[T]
	grads    []*tensor.Tensor[T]
	u        []*tensor.Tensor[T]
	lossKind loss.Kind
	inShape  []int // per-example input shape the model takes
	opt      optim.Optimizer[T]
	rule     gen.Rule

	loader, stream       *data.Loader
	trainTape, probeTape ad.Tape[T]
	batch, probeBatch    data.Batch[T]
	probeReady           bool
	peeked               bool // probeBatch holds the loader's next batch (fresh probes)
	trainPCG, probePCG   *rand.PCG
	line                 *probe.Line[T]
	mode                 probe.Mode
	trainObj, probeObj   probe.Objective[T]

	st      trainerState
	total   int
	started time.Time
	log     *metricsLog
	labels  map[*data.Batch[T]][]int // gpt: each batch's per-position targets
}

func run[T ad.Float](ctx context.Context, cfg Config, dir string, resume bool, hooks Hooks) (*Summary, error) {
	r := &runner[T]{cfg: cfg, dir: dir}
	if err := r.setup(); err != nil {
		return nil, err
	}
	if !resume {
		// Only now, with the data loaded and the model built, does the run
		// directory come into being.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("train: cannot create the run directory: %w", err)
		}
		if err := checkpoint.WriteJSON(filepath.Join(dir, "config.json"), cfg); err != nil {
			return nil, err
		}
	}
	r.log = &metricsLog{dir: dir}
	if resume {
		if err := r.restore(); err != nil {
			return nil, err
		}
	}
	if hooks.Start != nil {
		hooks.Start(r.total, r.st.Step)
	}
	r.started = time.Now()
	base := r.st.Seconds
	perEpoch := r.loader.BatchesPerEpoch()
	for r.st.Step < r.total {
		if ctx.Err() != nil {
			r.st.Seconds = base + time.Since(r.started).Seconds()
			if err := r.save(); err != nil {
				return nil, err
			}
			return nil, ErrInterrupted
		}
		rec, err := r.step()
		if err != nil {
			r.log.flush()
			return nil, err
		}
		r.st.Seconds = base + time.Since(r.started).Seconds()
		rec.Seconds = r.st.Seconds
		r.log.addStep(rec)
		if hooks.Step != nil {
			hooks.Step(rec)
		}
		// An evaluation (at an epoch's end, or every EvalEvery steps) is
		// followed by a checkpoint, which also writes out the metrics.
		endEpoch := r.st.Step%perEpoch == 0 || r.st.Step == r.total ||
			(r.cfg.EvalEvery > 0 && r.st.Step%r.cfg.EvalEvery == 0)
		if endEpoch {
			ev := r.evaluate()
			ev.Step, ev.Epoch, ev.Seconds = r.st.Step, float64(r.st.Step)/float64(perEpoch), r.st.Seconds
			r.log.addEpoch(ev)
			if hooks.Epoch != nil {
				hooks.Epoch(ev)
			}
		}
		if endEpoch || (r.cfg.CheckpointEvery > 0 && r.st.Step%r.cfg.CheckpointEvery == 0) {
			if err := r.save(); err != nil {
				return nil, err
			}
		}
	}
	return r.finish()
}

// setup loads the data and builds the model, loss, optimizer and rule.
func (r *runner[T]) setup() error {
	cfg := r.cfg
	opts := data.Options{}
	opts.MNIST.DataDir = cfg.DataDir
	opts.CSV = data.CSVOptions{Target: cfg.Target, Regression: cfg.Task == "regression", Seed: cfg.Seed, Raw: cfg.Standardize != nil && !*cfg.Standardize}
	opts.Synthetic.Seed, opts.Teacher.Seed = cfg.Seed, cfg.Seed
	opts.Text.OneHot = cfg.Model != "charmlp" && cfg.Model != "gpt" // an MLP reads one-hot windows
	opts.Text.Context = cfg.Context
	split, err := data.Load(cfg.Data, opts)
	if err != nil {
		return err
	}
	r.split = split
	train := split.Train
	r.task = "regression"
	if train.Classification() {
		r.task = "classification"
	}
	if cfg.Task != "" && cfg.Task != r.task {
		return fmt.Errorf("train: --task %s, but data %s is a %s set", cfg.Task, cfg.Data, r.task)
	}
	lossName := cfg.Loss
	if lossName == "" {
		lossName = map[string]string{"classification": "ce", "regression": "mse"}[r.task]
	}
	if r.lossKind, err = loss.Parse(lossName); err != nil {
		return err
	}
	if r.lossKind.Classification() != (r.task == "classification") {
		return fmt.Errorf("train: --loss %s does not fit %s data; use %s", lossName, r.task, map[bool]string{true: "ce or nll", false: "mse or half-sq"}[r.task == "classification"])
	}
	if err := r.buildModel(lossName); err != nil {
		return err
	}
	r.params = r.model.Params()
	for _, p := range r.params {
		r.values = append(r.values, p.Value)
		r.grads = append(r.grads, p.Grad)
		r.u = append(r.u, tensor.New[T](p.Value.Shape()...))
	}
	common := optim.Common{WeightDecay: cfg.WeightDecay, ClipNorm: cfg.ClipNorm}
	switch {
	case cfg.Beta2 > 0 && cfg.Opt == "adam":
		r.opt = optim.NewAdam[T](optim.AdamConfig{Common: common, Beta2: cfg.Beta2})
	case cfg.Beta2 > 0 && cfg.Opt == "adamw":
		r.opt = optim.NewAdamW[T](optim.AdamWConfig{Common: common, Beta2: cfg.Beta2})
	default:
		if r.opt, err = optim.New[T](cfg.Opt, common); err != nil {
			return err
		}
	}
	r.loader = data.NewLoader(train, data.LoaderOptions{BatchSize: cfg.Batch, Seed: cfg.Seed})
	r.total = cfg.Steps
	if r.total == 0 {
		r.total = cfg.Epochs * r.loader.BatchesPerEpoch()
	}
	if r.rule, err = cfg.rule(r.total); err != nil {
		return err
	}
	r.mode, _ = probe.ParseMode(cfg.Probe)
	if r.mode == probe.Stream {
		r.stream = data.NewLoader(train, data.LoaderOptions{BatchSize: cfg.Batch, Seed: cfg.Seed ^ 0x5eed})
	}
	r.trainPCG = rand.NewPCG(cfg.Seed, 1)
	r.probePCG = rand.NewPCG(cfg.Seed, 2)
	r.trainTape = ad.Tape[T]{Train: true, Rand: rand.New(r.trainPCG)}
	r.probeTape = ad.Tape[T]{Train: true, Rand: rand.New(r.probePCG)}
	r.line = probe.New(r.params, r.u)
	r.trainObj = func(t *ad.Tape[T]) *ad.Var[T] { return r.record(t, &r.batch) }
	r.probeObj = func(t *ad.Tape[T]) *ad.Var[T] {
		if !r.probeReady {
			if r.mode == probe.Stream {
				data.NextBatch(r.stream, &r.probeBatch)
			} else {
				data.PeekBatch(r.loader, &r.probeBatch)
				r.peeked = true
			}
			r.probeReady = true
		}
		return r.record(t, &r.probeBatch)
	}
	return nil
}

// buildModel makes the network the configuration names for the data.
func (r *runner[T]) buildModel(lossName string) error {
	cfg, train := r.cfg, r.split.Train
	rng := rand.New(rand.NewPCG(cfg.Seed, 0))
	outputs := train.Classes
	if r.task == "regression" {
		outputs = train.Outputs
	}
	act, err := ad.ParseAct(cfg.Act)
	if err != nil {
		return err
	}
	outAct, err := ad.ParseAct(cfg.OutAct)
	if err != nil {
		return err
	}
	r.inShape = []int{train.Features()}
	switch cfg.Model {
	case "mlp":
		m := nn.NewMLP[T](nn.MLPConfig{In: train.Features(), Out: outputs, Hidden: cfg.Hidden, Act: act, HiddenIdentity: act.Kind == ad.Identity, OutAct: outAct}, rng)
		if lossName == "nll" {
			m = nn.NewSequential[T](m, nn.LogSoftmax[T]{})
		}
		r.model = m
	case "cnn":
		if len(train.Shape) != 3 || r.task != "classification" {
			return fmt.Errorf("train: --model cnn needs image classification data (C×H×W examples, as mnist); %s has examples of shape %v", cfg.Data, train.Shape)
		}
		r.inShape = train.Shape
		r.model = nn.NewCNN[T](nn.CNNConfig{In: train.Shape[0], Height: train.Shape[1], Width: train.Shape[2], Classes: outputs, LogSoftmax: lossName == "nll"}, rng)
	case "charmlp":
		if !train.Windowed() {
			return fmt.Errorf("train: --model charmlp needs text data (--data text or text:PATH)")
		}
		if lossName == "nll" {
			return fmt.Errorf("train: --model charmlp outputs logits: use --loss ce")
		}
		r.model = nn.NewCharMLP[T](nn.CharMLPConfig{Vocab: train.Vocab.Size(), Context: train.Context, Hidden: cfg.Hidden, Act: act}, rng)
	case "gpt":
		if !train.Windowed() {
			return fmt.Errorf("train: --model gpt needs text data (--data text or text:PATH)")
		}
		r.model = nn.NewGPT[T](cfg.gptConfig(train.Vocab.Size()), rng)
	}
	return nil
}

// record records the model's loss on batch b on tape t.
func (r *runner[T]) record(t *ad.Tape[T], b *data.Batch[T]) *ad.Var[T] {
	if r.cfg.Model == "gpt" {
		return r.recordGPT(t, b)
	}
	x := b.X
	if len(r.inShape) > 1 {
		x = x.Reshape(append([]int{b.Len()}, r.inShape...)...)
	}
	out := r.model.Forward(t, t.Const(x))
	if r.lossKind.Classification() {
		return loss.Record(t, r.lossKind, out, loss.Labels[T](b.Labels))
	}
	return loss.Record(t, r.lossKind, out, loss.Values(b.Y))
}

// step runs one training step.
func (r *runner[T]) step() (StepRecord, error) {
	var pos data.Position
	if r.peeked {
		// The fresh probe already copied this batch: take it over.
		pos = r.loader.Position()
		r.loader.Next()
		r.batch, r.probeBatch = r.probeBatch, r.batch
		r.peeked = false
	} else {
		pos = data.NextBatch(r.loader, &r.batch)
	}
	r.trainTape.Reset()
	f := r.trainObj(&r.trainTape)
	ad.ZeroGrad(r.params)
	r.trainTape.Backward(f)
	r.st.Forwards++
	r.st.Backwards++
	trainLoss := ad.Scalar(f)
	if math.IsNaN(trainLoss) || math.IsInf(trainLoss, 0) {
		return StepRecord{}, fmt.Errorf("train: step %d (epoch %d): the training loss is %v after learning rate %g; "+
			"the last good checkpoint is in %s (resume with --resume %s), or restart with a smaller --lr-max / --lr0, or --probe fresh",
			r.st.Step, pos.Epoch, trainLoss, r.st.LR, filepath.Join(r.dir, "checkpoint"), r.dir)
	}
	r.opt.Direction(r.u, r.values, r.grads)
	r.probeReady = false
	fw0, rp0, jets0 := r.line.Forwards, r.line.Replays, r.line.Jets
	if r.mode == probe.Same {
		r.line.Reset(&r.trainTape, r.trainObj, f)
		r.line.SetGradient(r.grads)
	} else {
		r.line.Reset(&r.probeTape, r.probeObj, nil)
	}
	d := r.rule.Next(r.st.Step, r.line)
	r.st.Forwards += r.line.Forwards - fw0
	r.st.Replays += r.line.Replays - rp0
	r.st.Jets += r.line.Jets - jets0
	if d.Reason.Failed() {
		r.st.Fallbacks++
	}
	lr := T(d.LR)
	for i, p := range r.values {
		tensor.Axpy(p, -lr, r.u[i])
	}
	r.st.LR = d.LR
	r.st.Step++
	r.st.Position = r.loader.Position()
	if r.stream != nil {
		r.st.Stream = r.stream.Position()
	}
	return StepRecord{
		Step: r.st.Step, Epoch: float64(r.st.Step) / float64(r.loader.BatchesPerEpoch()),
		Loss: trainLoss, LR: d.LR, Updated: d.Updated, Reason: d.Reason.String(),
		Estimate: Num(d.Estimate), Slope: Num(d.Slope), Curvature: Num(d.Curvature),
		ProbeLoss: Num(d.Loss0), LossMinus: Num(d.LossMinus), LossPlus: Num(d.LossPlus), R2: Num(d.R2),
		Forwards: r.st.Forwards, Replays: r.st.Replays, Backwards: r.st.Backwards, Jets: r.st.Jets,
	}, nil
}

// evaluate computes the test loss (and accuracy) in evaluation mode.
func (r *runner[T]) evaluate() EpochRecord {
	if r.cfg.Model == "gpt" {
		return r.evaluateGPT()
	}
	test := r.split.Test
	var t ad.Tape[T]
	var b data.Batch[T]
	var sum float64
	correct := 0
	const chunk = 1000
	for lo := 0; lo < test.Len(); lo += chunk {
		hi := min(lo+chunk, test.Len())
		data.FillRange(&b, test, lo, hi)
		t.Reset()
		l := r.record(&t, &b)
		sum += ad.Scalar(l) * float64(hi-lo)
		if r.task == "classification" {
			out := l.In(0) // the model's output feeds the loss
			correct += countCorrect(out.Value, b.Labels)
		}
	}
	if test.Len() == 0 {
		return EpochRecord{TestLoss: Num(math.NaN())} // nothing measured: null, not 0
	}
	n := float64(test.Len())
	ev := EpochRecord{TestLoss: Num(sum / n)}
	if r.task == "classification" {
		acc := float64(correct) / n
		ev.TestAccuracy = &acc
	}
	return ev
}

// countCorrect counts the rows of scores (M×C) whose largest entry is at
// the label.
func countCorrect[T ad.Float](scores *tensor.Tensor[T], labels []int) int {
	c := scores.Cols()
	d := scores.Data()
	n := 0
	for i, l := range labels {
		row := d[i*c : (i+1)*c]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == l {
			n++
		}
	}
	return n
}

// save writes the checkpoint: weights, optimizer, rule and loop state. It
// refuses to overwrite the last good checkpoint with non-finite weights.
func (r *runner[T]) save() error {
	for _, p := range r.params {
		if !tensor.AllFinite(p.Value) {
			r.log.flush()
			return fmt.Errorf("train: step %d: parameter %q is no longer finite after learning rate %g; "+
				"the last good checkpoint is in %s; restart with a smaller --lr-max / --lr0, or --probe fresh",
				r.st.Step, p.Name, r.st.LR, filepath.Join(r.dir, "checkpoint"))
		}
	}
	var err error
	if r.st.TrainRand, err = r.trainPCG.MarshalBinary(); err != nil {
		return err
	}
	if r.st.ProbeRand, err = r.probePCG.MarshalBinary(); err != nil {
		return err
	}
	if err := r.log.flush(); err != nil {
		return err
	}
	return checkpoint.Save(filepath.Join(r.dir, "checkpoint"), checkpoint.State[T]{
		Step:      int64(r.st.Step),
		Params:    r.params,
		Meta:      map[string]string{"model": r.cfg.Model, "data": r.cfg.Data},
		Optimizer: r.opt.State(),
		Rule:      ruleAndLoop{Rule: r.rule.State(), Trainer: r.st},
		Config:    r.cfg,
	})
}

// restore loads the checkpoint into a freshly set-up runner.
func (r *runner[T]) restore() error {
	var os optim.State
	var rl ruleAndLoop
	dir := filepath.Join(r.dir, "checkpoint")
	if _, err := checkpoint.Load(dir, &checkpoint.State[T]{Params: r.params, Optimizer: &os, Rule: &rl}); err != nil {
		return fmt.Errorf("train: --resume: %w", err)
	}
	if err := r.opt.SetState(os); err != nil {
		return fmt.Errorf("train: --resume: optimizer: %w", err)
	}
	if err := r.rule.SetState(rl.Rule); err != nil {
		return fmt.Errorf("train: --resume: %w", err)
	}
	r.st = rl.Trainer
	if err := r.loader.Seek(r.st.Position); err != nil {
		return fmt.Errorf("train: --resume: %w", err)
	}
	if r.stream != nil {
		if err := r.stream.Seek(r.st.Stream); err != nil {
			return fmt.Errorf("train: --resume: %w", err)
		}
	}
	if err := r.trainPCG.UnmarshalBinary(r.st.TrainRand); err != nil {
		return fmt.Errorf("train: --resume: dropout randomness: %w", err)
	}
	if err := r.probePCG.UnmarshalBinary(r.st.ProbeRand); err != nil {
		return fmt.Errorf("train: --resume: dropout randomness: %w", err)
	}
	return r.log.truncate(r.st.Step)
}

// finish writes the summary and the charts.
func (r *runner[T]) finish() (*Summary, error) {
	if err := r.save(); err != nil {
		return nil, err
	}
	s := &Summary{
		Steps: r.st.Step, Epochs: float64(r.st.Step) / float64(r.loader.BatchesPerEpoch()),
		WallSeconds: r.st.Seconds, FinalLR: r.st.LR, Fallbacks: r.st.Fallbacks,
		Forwards: r.st.Forwards, Replays: r.st.Replays, Backwards: r.st.Backwards, Jets: r.st.Jets,
		RunDir: r.dir, Rule: r.rule.Name(), Params: nn.NumParams(r.params),
	}
	s.TrainLoss = r.log.recentLoss()
	if ev, ok := r.log.lastEpoch(); ok {
		s.TestLoss, s.TestAccuracy = ev.TestLoss, ev.TestAccuracy
	}
	switch r.cfg.Model {
	case "charmlp":
		s.Samples = r.sample(r.cfg.Samples, 60)
	case "gpt":
		s.Samples = r.sampleGPT(r.cfg.Samples, 80)
	}
	if err := checkpoint.WriteJSON(filepath.Join(r.dir, "summary.json"), s); err != nil {
		return nil, err
	}
	if err := Plot(r.dir); err != nil {
		return s, fmt.Errorf("train: the run finished but its charts failed: %w", err)
	}
	return s, nil
}
