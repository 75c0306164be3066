package train

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/data"
	"github.com/genopt/gen/dist"
	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/internal/runlock"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/optim"
	"github.com/genopt/gen/probe"
	"github.com/genopt/gen/tensor"
)

// ErrInterrupted is returned when the context is cancelled: the run wrote a
// checkpoint at the step it had reached and can be resumed. Run and Resume
// return it with a Summary of the steps done, marked Interrupted.
var ErrInterrupted = errors.New("train: interrupted; a checkpoint was written, continue with --resume")

// Hooks receive progress; any of them may be nil.
type Hooks struct {
	// Start is called once with the total number of steps and the step the
	// run starts from (non-zero when resuming).
	Start func(total, from int)
	// Step is called after every step.
	Step func(StepRecord)
	// Epoch is called after every evaluation at the end of an epoch (and
	// of the run); the evaluation of the initial weights at step 0 is logged
	// to epochs.jsonl only.
	Epoch func(EpochRecord)
}

// Summary is the outcome of a run. TrainLoss (the mean of the last 100
// steps' losses) and TestLoss are null when the run took no step or made
// no evaluation.
type Summary struct {
	TrainLoss    Num      `json:"train_loss"`
	TestLoss     Num      `json:"test_loss"`
	TestAccuracy *float64 `json:"test_accuracy,omitempty"`
	Steps        int      `json:"steps"`
	Epochs       float64  `json:"epochs"`
	WallSeconds  float64  `json:"wall_seconds"`
	FinalLR      float64  `json:"final_lr"`
	Fallbacks    int      `json:"fallbacks"`
	// Estimated is the share of steps whose rate came from the line's
	// measurements rather than from a fixed rate (the failure policy's
	// fallback, a schedule).
	Estimated float64  `json:"estimated_share"`
	Forwards  int      `json:"forwards"`
	Replays   int      `json:"replays"`
	Backwards int      `json:"backwards"`
	Jets      int      `json:"jets"`
	RunDir    string   `json:"run_dir"`
	Rule      string   `json:"rule"`
	Params    int      `json:"params"`
	Samples   []string `json:"samples,omitempty"`
	// Ranks is the number of processes of a data-parallel run (--dist), and
	// AllReduceSeconds the time this rank spent in the gradient all-reduce.
	Ranks            int     `json:"ranks,omitempty"`
	AllReduceSeconds float64 `json:"all_reduce_seconds,omitempty"`
	// Interrupted is set when the run was stopped (SIGINT, SIGTERM: the
	// context was cancelled) before its last step; its checkpoint holds
	// the step reached.
	Interrupted bool `json:"interrupted,omitempty"`
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
	Estimated int           `json:"estimated"`
	Seconds   float64       `json:"seconds"`
	LR        float64       `json:"lr"`
	Ranks     int           `json:"ranks,omitempty"` // processes of a --dist run; 0 means 1
}

// checkpointFiles is what the rule slot of a checkpoint holds: the rule's
// state and the loop's.
type ruleAndLoop struct {
	Rule    gen.State    `json:"rule"`
	Trainer trainerState `json:"trainer"`
}

// Run trains as cfg says, writing into the run directory outDir: created
// if absent; an existing one must be empty (Start with Options.Overwrite
// replaces a previous run). The directory is locked for the process while
// it runs (see package runlock). To resume, use Resume.
func Run(ctx context.Context, cfg Config, outDir string, hooks Hooks) (*Summary, error) {
	return Start(ctx, cfg, outDir, Options{}, hooks)
}

// Start is Run with options.
func Start(ctx context.Context, cfg Config, outDir string, opts Options, hooks Hooks) (*Summary, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dist != "none" {
		// Rank 0 alone owns (checks, locks, writes) the run directory; when
		// it refuses the directory, the others stop at their first
		// collective (--dist-timeout).
		comm, err := openComm(cfg)
		if err != nil {
			return nil, err
		}
		if comm.Rank() != 0 {
			return dispatch(ctx, cfg, outDir, false, opts.Overwrite, hooks)
		}
	}
	if err := checkOut(outDir, opts.Overwrite); err != nil {
		return nil, err
	}
	_, statErr := os.Stat(outDir)
	created := errors.Is(statErr, fs.ErrNotExist)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("train: cannot create the run directory: %w", err)
	}
	lock, err := lockRun(outDir)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	// Again under the lock: another process may have begun a run here.
	if err := checkOut(outDir, opts.Overwrite); err != nil {
		return nil, err
	}
	sum, err := dispatch(ctx, cfg, outDir, false, opts.Overwrite, hooks)
	if err != nil && checkOut(outDir, false) == nil {
		// A run that failed before writing anything leaves nothing: no
		// directory it created, no lock file in one it was given.
		if created {
			os.RemoveAll(outDir)
		} else {
			os.Remove(filepath.Join(outDir, runlock.FileName))
		}
	}
	return sum, err
}

// Resume continues the run in dir from its checkpoint, with the
// configuration it was started with: ResumeWith with no change.
func Resume(ctx context.Context, dir string, hooks Hooks) (*Summary, error) {
	return ResumeWith(ctx, dir, ResumeOptions{}, hooks)
}

func dispatch(ctx context.Context, cfg Config, dir string, resume, overwrite bool, hooks Hooks) (*Summary, error) {
	if cfg.Threads > 0 {
		kernel.SetThreads(cfg.Threads)
	}
	if cfg.Precision == "f64" {
		return run[float64](ctx, cfg, dir, resume, overwrite, hooks)
	}
	return run[float32](ctx, cfg, dir, resume, overwrite, hooks)
}

// runner holds one run's state.
type runner[T ad.Float] struct {
	cfg   Config
	dir   string
	comm  dist.Comm // the ranks of a --dist run (dist.go); Local otherwise
	split data.Split
	task  string

	model    nn.Module[T]
	params   []*ad.Var[T]
	values   []*tensor.Tensor[T]
	grads    []*tensor.Tensor[T]
	u        []*tensor.Tensor[T]
	group    []int // the parameter group of each parameter, under --groups layer
	groups   int
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
	noDropout            bool // build the cnn without its dropout layers (tests)
	line                 *probe.Line[T]
	mode                 probe.Mode
	trainObj, probeObj   probe.Objective[T]

	flat          []T          // the gradient all-reduce's buffer (dist.go)
	dline         *distLine[T] // the all-reducing view of line, with --dist
	reduceSeconds float64

	st       trainerState
	total    int
	cfgDirty bool // r.cfg differs from config.json: rewrite it after the next checkpoint
	// ckptStep is the step of the checkpoint in dir (-1: none), and
	// ckptGood says whether a finite training loss has been computed at its
	// weights; until then the previous checkpoint is the last known good.
	ckptStep int
	ckptGood bool
	started  time.Time
	log      *metricsLog
	labels   map[*data.Batch[T]][]int // gpt: each batch's per-position targets
}

func run[T ad.Float](ctx context.Context, cfg Config, dir string, resume, overwrite bool, hooks Hooks) (*Summary, error) {
	comm, err := openComm(cfg)
	if err != nil {
		return nil, err
	}
	r := &runner[T]{cfg: cfg, dir: dir, comm: comm, ckptStep: -1}
	return r.run(ctx, resume, overwrite, hooks)
}

// run trains a runner that has its configuration, directory and
// communicator.
func (r *runner[T]) run(ctx context.Context, resume, overwrite bool, hooks Hooks) (*Summary, error) {
	cfg, dir := r.cfg, r.dir
	var err error
	if err := r.agree(r.setup()); err != nil {
		return nil, err
	}
	if !resume && r.root() {
		// Only now, with the data loaded and the model built, is the run
		// directory written (and a run it held replaced).
		if overwrite {
			err = clearRun(dir)
		}
		if err == nil {
			err = os.MkdirAll(dir, 0o755) // Start made it; a runner used directly may not have
		}
		if err == nil {
			err = checkpoint.WriteJSON(filepath.Join(dir, "config.json"), cfg)
		}
	}
	if err := r.agree(err); err != nil {
		return nil, err
	}
	r.log = &metricsLog{dir: dir}
	if !r.root() {
		r.log.dir = "" // rank 0 alone writes
	}
	if resume {
		if err := r.agree(r.restore()); err != nil {
			return nil, err
		}
		r.ckptStep = r.st.Step
	}
	if !resume {
		// The test loss before the first step, so that the test curve starts
		// where the training curve does.
		ev, err := r.evaluate() // sharded over the ranks of a --dist run
		if err != nil {
			return nil, err
		}
		r.log.addEpoch(ev) // step 0, epoch 0, 0 s
	}
	if hooks.Start != nil {
		hooks.Start(r.total, r.st.Step)
	}
	r.started = time.Now()
	base := r.st.Seconds
	perEpoch := r.loader.BatchesPerEpoch()
	interrupted := func() (*Summary, error) {
		r.st.Seconds = base + time.Since(r.started).Seconds()
		if err := r.agree(r.save()); err != nil {
			return nil, err
		}
		if r.root() {
			if err := cleanLeftovers(r.dir); err != nil {
				return nil, err
			}
		}
		s := r.summary()
		s.Interrupted = true
		return s, ErrInterrupted
	}
	for r.st.Step < r.total {
		// One process stops here; several ranks vote inside the step, so
		// that all stop before the same one.
		stop := ctx.Err() != nil
		if stop && r.comm.Size() == 1 {
			return interrupted()
		}
		rec, err := r.step(stop)
		if errors.Is(err, errStop) {
			return interrupted()
		}
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
			ev, err := r.evaluate()
			if err != nil {
				return nil, err
			}
			ev.Step, ev.Epoch, ev.Seconds = r.st.Step, float64(r.st.Step)/float64(perEpoch), r.st.Seconds
			r.log.addEpoch(ev)
			if hooks.Epoch != nil {
				hooks.Epoch(ev)
			}
		}
		if endEpoch || (r.cfg.CheckpointEvery > 0 && r.st.Step%r.cfg.CheckpointEvery == 0) {
			if err := r.agree(r.save()); err != nil {
				return nil, err
			}
		}
	}
	return r.finish()
}

// setup loads the data and builds the model, loss, optimizer and rule.
func (r *runner[T]) setup() error {
	cfg := r.cfg
	if r.comm == nil {
		r.comm = dist.Local{}
	}
	opts := data.Options{}
	opts.MNIST.DataDir = cfg.DataDir
	opts.CSV = data.CSVOptions{Target: cfg.Target, Regression: cfg.Task == "regression", Seed: cfg.Seed, Raw: cfg.Standardize != nil && !*cfg.Standardize,
		Float64: cfg.Precision == "f64"} // a float64 run sees the file's values, not their float32 roundings
	opts.Synthetic.Seed, opts.Teacher.Seed = cfg.Seed, cfg.Seed
	opts.Text.OneHot = cfg.Model != "charmlp" && cfg.Model != "gpt" // an MLP reads one-hot windows
	opts.Text.Context = cfg.Context
	split, err := data.Load(cfg.Data, opts)
	if err != nil {
		return err
	}
	if err := checkData(cfg, split); err != nil {
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
	if err := checkMemory[T](cfg, train, r.task); err != nil {
		return err
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
	// A batch larger than the set is the whole set (and BatchesPerEpoch
	// cannot overflow).
	r.loader = data.NewLoader(train, data.LoaderOptions{BatchSize: min(cfg.Batch, max(train.Len(), 1)), Seed: cfg.Seed})
	if err := r.checkShards(); err != nil {
		return err
	}
	r.total = cfg.Steps
	if r.total == 0 {
		perEpoch := r.loader.BatchesPerEpoch()
		if cfg.Epochs > math.MaxInt/max(perEpoch, 1) {
			return fmt.Errorf("train: --epochs %d of %d batches each is more steps than an int holds; ask for fewer epochs, or a number of --steps", cfg.Epochs, perEpoch)
		}
		r.total = cfg.Epochs * perEpoch
	}
	if r.total < 1 {
		return fmt.Errorf("train: the run would take no step (--epochs %d, --steps %d, %d batches per epoch); ask for at least one", cfg.Epochs, cfg.Steps, r.loader.BatchesPerEpoch())
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
	if cfg.Groups == "layer" {
		r.group, r.groups = layerGroups(r.params)
		r.line.SetGroups(r.group, r.groups)
	}
	r.setupDist()
	r.trainObj = func(t *ad.Tape[T]) *ad.Var[T] { return r.record(t, &r.batch) }
	r.probeObj = func(t *ad.Tape[T]) *ad.Var[T] {
		if !r.probeReady {
			if r.mode == probe.Stream {
				data.NextBatch(r.stream, &r.probeBatch)
			} else {
				data.PeekBatch(r.loader, &r.probeBatch)
				r.peeked = true
			}
			r.shard(&r.probeBatch, r.split.Train)
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
		r.model = nn.NewCNN[T](nn.CNNConfig{In: train.Shape[0], Height: train.Shape[1], Width: train.Shape[2], Classes: outputs, LogSoftmax: lossName == "nll", NoDropout: r.noDropout}, rng)
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
// With several ranks, stop is this rank's vote to end the run before this
// step; if any rank votes so, step returns errStop having changed nothing
// that a checkpoint records.
func (r *runner[T]) step(stop bool) (StepRecord, error) {
	r.reseed()
	var pos data.Position
	if r.peeked {
		// The fresh probe already copied this batch: take it over.
		pos = r.loader.Position()
		r.loader.Next()
		r.batch, r.probeBatch = r.probeBatch, r.batch
		r.peeked = false
	} else {
		pos = data.NextBatch(r.loader, &r.batch)
		r.shard(&r.batch, r.split.Train)
	}
	r.trainTape.Reset()
	f := r.trainObj(&r.trainTape)
	r.trainTape.BackwardFresh(f, r.params) // ZeroGrad and Backward, without the zeroing pass
	trainLoss, stopAll, err := r.reduceGradient(ad.Scalar(f), stop)
	if err != nil {
		return StepRecord{}, err
	}
	if stopAll {
		return StepRecord{}, errStop
	}
	r.st.Forwards++
	r.st.Backwards++
	if math.IsNaN(trainLoss) || math.IsInf(trainLoss, 0) {
		return StepRecord{}, r.divergence(fmt.Sprintf("step %d (epoch %d): the training loss is %v after learning rate %g",
			r.st.Step, pos.Epoch, trainLoss, r.st.LR))
	}
	if r.ckptStep == r.st.Step {
		r.ckptGood = true // the checkpoint's weights give a finite loss
	}
	// When the rule knows the rate before the direction exists (a
	// schedule, or a lazy GeN step: gen.Foresight), an optimizer that can
	// apply its own step does so in the pass that computes it, with the
	// bits of Direction and the update below but without writing u.
	var d gen.Decision
	updater, fuse := r.opt.(optim.Updater[T])
	if fs, ok := r.rule.(gen.Foresight); ok && fuse {
		d, fuse = fs.Ahead(r.st.Step)
	} else {
		fuse = false
	}
	r.probeReady = false
	if !fuse {
		r.opt.Direction(r.u, r.values, r.grads)
		fw0, rp0, jets0 := r.line.Forwards, r.line.Replays, r.line.Jets
		if r.mode == probe.Same {
			r.line.Reset(&r.trainTape, r.trainObj, f)
			r.line.SetGradient(r.grads)
		} else {
			r.line.Reset(&r.probeTape, r.probeObj, nil)
		}
		if r.dline != nil {
			r.dline.global = r.mode == probe.Same // the gradient it was given is reduced
		}
		d = r.rule.Next(r.st.Step, r.probeLine())
		if r.dline != nil && r.dline.err != nil {
			return StepRecord{}, fmt.Errorf("train: step %d: line all-reduce: %w", r.st.Step, r.dline.err)
		}
		r.st.Forwards += r.line.Forwards - fw0
		r.st.Replays += r.line.Replays - rp0
		r.st.Jets += r.line.Jets - jets0
	}
	if d.Reason.Failed() {
		r.st.Fallbacks++
	}
	if d.Estimated {
		r.st.Estimated++
	}
	if lr := T(d.LR); fuse { // a foreseen decision has one rate (per-group rules probe)
		updater.Update(r.values, r.grads, lr)
	} else {
		for i, p := range r.values {
			if d.GroupLR != nil {
				lr = T(d.GroupLR[r.group[i]])
			}
			tensor.Axpy(p, -lr, r.u[i])
		}
	}
	r.st.LR = d.LR
	r.st.Step++
	r.st.Position = r.loader.Position()
	if r.stream != nil {
		r.st.Stream = r.stream.Position()
	}
	return StepRecord{
		Step: r.st.Step, Epoch: float64(r.st.Step) / float64(r.loader.BatchesPerEpoch()),
		Loss: trainLoss, LR: d.LR, Updated: d.Updated, Reason: d.Reason.String(), Estimated: d.Estimated, GroupLR: slices.Clone(d.GroupLR),
		Estimate: Num(d.Estimate), Slope: Num(d.Slope), Curvature: Num(d.Curvature),
		ProbeLoss: Num(d.Loss0), LossMinus: Num(d.LossMinus), LossPlus: Num(d.LossPlus), R2: Num(d.R2),
		Forwards: r.st.Forwards, Replays: r.st.Replays, Backwards: r.st.Backwards, Jets: r.st.Jets,
	}, nil
}

// evaluate computes the test loss (and accuracy) in evaluation mode.
// With several ranks, each evaluates its range of the test set and the sums
// are all-reduced.
func (r *runner[T]) evaluate() (EpochRecord, error) {
	if r.cfg.Model == "gpt" {
		return r.evaluateGPT() // fixed windows, sharded over the ranks as the test set is
	}
	test := r.split.Test
	var t ad.Tape[T]
	var b data.Batch[T]
	var sum float64
	correct := 0
	const chunk = 1000
	first, last := r.evalRange(test.Len())
	for lo := first; lo < last; lo += chunk {
		hi := min(lo+chunk, last)
		data.FillRange(&b, test, lo, hi)
		t.Reset()
		l := r.record(&t, &b)
		sum += ad.Scalar(l) * float64(hi-lo)
		if r.task == "classification" {
			out := l.In(0) // the model's output feeds the loss
			correct += countCorrect(out.Value, b.Labels)
		}
	}
	sum, correct, err := r.reduceEval(sum, correct)
	if err != nil {
		return EpochRecord{}, err
	}
	if test.Len() == 0 {
		return EpochRecord{TestLoss: Num(math.NaN())}, nil // nothing measured: null, not 0
	}
	n := float64(test.Len())
	ev := EpochRecord{TestLoss: Num(sum / n)}
	if r.task == "classification" {
		acc := float64(correct) / n
		ev.TestAccuracy = &acc
	}
	return ev, nil
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
			return r.divergence(fmt.Sprintf("step %d: parameter %q is no longer finite after learning rate %g", r.st.Step, p.Name, r.st.LR))
		}
	}
	if r.ckptStep == r.st.Step {
		// The checkpoint holds this step already (an interruption or the
		// end right after a save): writing it again would make the copy
		// the previous checkpoint, the one a divergence rolls back to.
		return r.log.flush()
	}
	if err := r.checkReplicas(); err != nil {
		return err
	}
	if !r.root() {
		r.ckptStep, r.ckptGood = r.st.Step, false
		return nil // rank 0 writes the checkpoint of all
	}
	if r.comm.Size() > 1 {
		r.st.Ranks = r.comm.Size()
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
	err = checkpoint.Save(checkpointDir(r.dir), checkpoint.State[T]{
		Step:      int64(r.st.Step),
		Params:    r.params,
		Meta:      map[string]string{"model": r.cfg.Model, "data": r.cfg.Data},
		Optimizer: r.opt.State(),
		Rule:      ruleAndLoop{Rule: r.rule.State(), Trainer: r.st},
		Config:    r.cfg,
	})
	if err != nil {
		return err
	}
	r.ckptStep, r.ckptGood = r.st.Step, false
	if r.cfgDirty {
		// A resumed run with a new length (ResumeWith): config.json follows
		// the checkpoint's copy, written just above.
		if err := checkpoint.WriteJSON(filepath.Join(r.dir, "config.json"), r.cfg); err != nil {
			return err
		}
		r.cfgDirty = false
	}
	return nil
}

// restore loads the checkpoint into a freshly set-up runner.
func (r *runner[T]) restore() error {
	var os optim.State
	var rl ruleAndLoop
	dir := filepath.Join(r.dir, "checkpoint")
	var saved Config
	m, err := checkpoint.Load(dir, &checkpoint.State[T]{Params: r.params, Optimizer: &os, Rule: &rl, Config: &saved})
	if err != nil {
		return fmt.Errorf("train: --resume: %w", err)
	}
	if err := checkRestored(rl.Trainer, m.Step, os, r.total, r.loader.BatchesPerEpoch(), r.cfg.Batch, dir); err != nil {
		return err
	}
	r.cfgDirty = !reflect.DeepEqual(saved, r.cfg)
	if err := r.opt.SetState(os); err != nil {
		return fmt.Errorf("train: --resume: optimizer: %w", err)
	}
	if err := r.rule.SetState(rl.Rule); err != nil {
		return fmt.Errorf("train: --resume: %w", err)
	}
	r.st = rl.Trainer
	if err := r.checkRanks(); err != nil {
		return err
	}
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
	if !r.root() {
		return nil
	}
	return r.log.truncate(r.st.Step)
}

// finish writes the summary and the charts.
func (r *runner[T]) finish() (*Summary, error) {
	if err := r.save(); err != nil {
		return nil, err
	}
	if r.root() {
		if err := cleanLeftovers(r.dir); err != nil {
			return nil, err
		}
	}
	s := r.summary()
	switch r.cfg.Model {
	case "charmlp":
		s.Samples = r.sample(r.cfg.Samples, 60)
	case "gpt":
		s.Samples = r.sampleGPT(r.cfg.Samples, 80)
	}
	if r.comm.Size() > 1 {
		s.Ranks, s.AllReduceSeconds = r.comm.Size(), r.reduceSeconds
	}
	if !r.root() {
		return s, nil
	}
	if err := checkpoint.WriteJSON(filepath.Join(r.dir, "summary.json"), s); err != nil {
		return nil, err
	}
	if err := Plot(r.dir); err != nil {
		return s, fmt.Errorf("train: the run finished but its charts failed: %w", err)
	}
	return s, nil
}

// summary reports the run as it stands.
func (r *runner[T]) summary() *Summary {
	s := &Summary{
		Steps: r.st.Step, Epochs: float64(r.st.Step) / float64(r.loader.BatchesPerEpoch()),
		WallSeconds: r.st.Seconds, FinalLR: r.st.LR, Fallbacks: r.st.Fallbacks,
		Forwards: r.st.Forwards, Replays: r.st.Replays, Backwards: r.st.Backwards, Jets: r.st.Jets,
		RunDir: r.dir, Rule: r.rule.Name(), Params: nn.NumParams(r.params),
		TrainLoss: Num(r.log.recentLoss()), TestLoss: Num(math.NaN()),
	}
	if r.st.Step > 0 {
		s.Estimated = float64(r.st.Estimated) / float64(r.st.Step)
	}
	if ev, ok := r.log.lastEpoch(); ok {
		s.TestLoss, s.TestAccuracy = ev.TestLoss, ev.TestAccuracy
	}
	return s
}

// divergence is the error for a run whose loss or weights stopped being
// finite, as what says. A checkpoint whose own weights gave the non-finite
// loss is not good: it is rolled back to the previous one first. The
// message names the checkpoint that remains, or says there is none.
func (r *runner[T]) divergence(what string) error {
	dir := checkpointDir(r.dir)
	if r.ckptStep >= 0 && !r.ckptGood {
		m, ok, err := checkpoint.Rollback(dir)
		if err != nil {
			return fmt.Errorf("train: %s; the checkpoint of step %d gives it, and returning to the one before failed: %w", what, r.ckptStep, err)
		}
		r.ckptStep, r.ckptGood = -1, false
		if ok {
			r.ckptStep, r.ckptGood = int(m.Step), true
		}
	}
	advice := "a smaller --lr"
	if strings.HasPrefix(r.cfg.LR, "gen") {
		advice = "a smaller --lr-max or --lr0"
		if r.cfg.Probe != "fresh" {
			advice += ", or --probe fresh"
		}
	}
	if r.ckptStep < 0 {
		return fmt.Errorf("train: %s; no checkpoint precedes it, so there is nothing to resume: start again with --overwrite --out %s and %s", what, r.dir, advice)
	}
	return fmt.Errorf("train: %s; the last good checkpoint, of step %d, is in %s (--resume %s continues from it); or start again with --overwrite --out %s and %s", what, r.ckptStep, dir, r.dir, r.dir, advice)
}
