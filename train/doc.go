// Package train runs training: it loads a data set, builds the model, the
// loss, the optimizer and the learning-rate rule a Config names, and loops
//
//	batch → forward (ad.Tape) → loss → backward → direction u (optim)
//	  → line probe (probe, gen) → α → θ ← θ − α·u → metrics
//
// evaluating on the test set after each epoch. A run writes into its
// directory:
//
//	config.json       the configuration, with defaults filled in
//	metrics.jsonl     one JSON object per step (and metrics.csv, the same rows)
//	epochs.jsonl      one JSON object per epoch evaluation (and epochs.csv)
//	checkpoint/       the latest checkpoint (package checkpoint's layout)
//	loss.png/.svg, lr.png/.svg, accuracy.png/.svg   charts of the metrics
//	summary.json      the final numbers
//
// A non-finite training loss stops the run with an error and keeps the last
// good checkpoint; cancelling the context (Ctrl-C in the command) writes a
// checkpoint and returns ErrInterrupted. Resuming from a checkpoint
// continues the same trajectory bit for bit, given the same thread count:
// the data order, dropout randomness, optimizer and rule state are all
// restored.
package train
