// Package optim provides optimizers as direction fields: each computes an
// update direction
//
//	u = ω(θ, ∇f)
//
// from the parameters θ and the gradient ∇f, advancing its own state (moments,
// step count) exactly once per call, and leaves the step size to the caller,
// who applies
//
//	θ ← θ − α·u
//
// with α chosen by a rule (a GeN rule, a schedule, a constant). Splitting the
// direction from the step is what lets a learning-rate rule look at the loss
// along u before committing to α.
//
// Parameters and gradients are passed as parallel slices of tensors:
// params[i], grads[i] and u[i] share one shape, and the optimizer's buffers
// are sized from those shapes on the first Direction call. Direction never
// modifies params or grads, and allocates nothing after its first call.
//
// Options common to every optimizer (Common): coupled L2 weight decay (or,
// for AdamW and Lion, decoupled decay), clipping of the gradient by its global
// L2 norm before the optimizer sees it, and parameter groups whose directions
// are multiplied by per-group factors, so that one α keeps the groups'
// ratios.
//
// The learning-rate-free peers (DAdaptAdam, DAdaptSGD, Prodigy, DoG) are
// Optimizers too, but their directions already include their own step size:
// they are meant to run with the constant α = 1 and serve as baselines for
// the learning-rate rules (PeerNames lists them).
//
// Configuration: every Config struct's zero value gives the published
// defaults. A float field set to 0 takes the default documented on it; the
// constant Off sets a field to exactly 0 where 0 would otherwise mean "the
// default" (for example β₁ = 0 in Adam, or no decay in AdamW). Other negative
// values are misuse and make the constructor panic.
//
// State (State, SetState) is exact: a state saved after step t, written to
// JSON and read back, makes a fresh optimizer continue bit-for-bit as the
// original would have.
package optim
