// Package gen chooses the learning rate of gradient descent with the
// generalized Newton's method (GeN; Bu & Xu, "Gradient descent with
// generalized Newton's method", arXiv:2407.02772, ICLR 2025).
//
// # One training step
//
// Gradient descent moves θ ← θ − α·u, where u = ω(θ, ∇f) is the update
// direction of a base optimizer (SGD's gradient, Adam's moment ratio, …).
// GeN picks α from the loss along that line, g(α) = f(θ − α·u), as the
// minimizer of its second-order Taylor model:
//
//	α* = −g'(0)/g″(0) = (∇f·u) / (uᵀHu).
//
// The packages follow one step of training in order:
//
//	data.Batch ─▶ nn (forward, recorded on an ad.Tape) ─▶ ad losses ─▶ ad.Backward (∇f)
//	  ─▶ optim (direction u; its state advanced exactly once)
//	  ─▶ the Line along u (values by forward passes, slope ∇f·u, curvature by the ad jet)
//	  ─▶ a rule of this package (α) ─▶ θ ← θ − α·u ─▶ train (metrics, checkpoints)
//
// Exact GeN computes uᵀHu with a second-order forward replay of the recorded
// forward pass (package ad); approximate GeN fits a parabola through three
// values of g. Probes on a fresh batch are noisy: the Estimator decides how
// they become one rate — Smoothed averages the per-probe minimizers (the
// source text), Mean takes the ratio of the averaged slope and curvature
// (the minimizer of the expected loss along the line). Block gives each
// parameter group (layer) its own rate, from the quadratic model in the
// groups' step sizes. A Horizon multiplies the applied rate (a warm-up, a
// decay); Anneal instead ends a run with a cooldown of the level its rule
// held, without further probes. Every Decision says whether its rate came
// from the measurements (Estimated) or from a fixed rate.
//
// # Failure policy
//
//   - Misuse that a test would catch (a shape mismatch, LRMax ≤ LRMin)
//     panics with a message that starts with the package name.
//   - Anything met at run time — a malformed file, an unknown flag value, a
//     non-finite loss, a missing data set — is a returned error that says
//     what was wrong, where, and what to do.
//   - A learning-rate rule never returns a non-finite or negative learning
//     rate: non-convex, non-descent or non-finite probes go through a
//     documented fallback whose reason is recorded.
//   - Nothing written to disk is left half-written: files go to a temporary
//     name, are synced, then renamed.
package gen
