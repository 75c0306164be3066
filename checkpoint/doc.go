// Package checkpoint saves and restores training state: model weights as
// safetensors files, optimizer and learning-rate-rule state as JSON, and a
// manifest that says a checkpoint is complete.
//
// # Weights
//
// SaveWeights and LoadWeights store parameters in the safetensors format
// (https://github.com/huggingface/safetensors), which PyTorch, JAX and the
// Hugging Face tools read:
//
//	bytes 0..8        N, the header length, unsigned 64-bit little-endian
//	bytes 8..8+N      a JSON object: tensor name → {"dtype": "F32" | "F64" | …,
//	                  "shape": [d0, d1, …], "data_offsets": [begin, end]},
//	                  plus an optional "__metadata__": {string: string};
//	                  padded with spaces to a multiple of 8 bytes
//	bytes 8+N..       the data buffer: each tensor's elements row-major and
//	                  little-endian at buffer[begin:end]
//
// Tensor names are the parameter names (ad.Var.Name, "0.weight"). The
// encoder and decoder are written here with encoding/json and
// encoding/binary rather than taken from a library: the format is a page
// long, and owning the decoder lets it enforce what a file from an unknown
// source must satisfy before anything is allocated from it — the header
// length is capped by the file size, every offset lies in the buffer,
// tensors tile the buffer without overlap or hole (as the format requires),
// names are unique — and report each violation as an error naming the file
// and the tensor. The decoder is fuzzed (FuzzReadWeights); no input makes it
// panic.
//
// # Checkpoints
//
// A checkpoint is a directory:
//
//	DIR/weights.safetensors   the parameters (SaveWeights)
//	DIR/optimizer.json        optimizer state (optional)
//	DIR/rule.json             learning-rate-rule state (optional)
//	DIR/manifest.json         written last: step, time, Go and module
//	                          versions, the run's configuration, and the
//	                          size and SHA-256 of every other file
//
// Save builds the directory under a temporary name next to DIR (".DIR.tmp-…"),
// writes and fsyncs every file, the manifest last, fsyncs the directory, and
// only then publishes it as DIR. A crash before that leaves DIR as it was
// (plus a hidden temporary directory that Latest ignores and Clean
// removes). Replacing an existing DIR is, on Linux, one atomic exchange of
// the two directories (renameat2 with RENAME_EXCHANGE), so DIR always names
// a complete checkpoint; elsewhere it takes two renames (the old one aside,
// the new one in), and a crash between them leaves DIR absent and the
// previous checkpoint under a hidden name, which Recover renames back
// (train.Resume calls it first). Either way the checkpoint replaced is
// kept as ".DIR.prev" until the next Save: Previous reads it and Rollback
// returns to it, for a checkpoint found bad after it was saved.
//
// Readers never see half of a replacement: ReadManifest and Load read every
// file through one handle on the directory (os.Root), so they see one
// checkpoint even if DIR is swapped meanwhile, and should that checkpoint
// be deleted under them (two Saves later) or DIR be missing in the gap
// between two renames, they read again. A process training into DIR may
// thus be watched by others loading its checkpoint at any moment.
//
// Reading is the other half of the protocol: ReadManifest and Load accept a
// checkpoint only if its manifest parses and every file it lists has the
// recorded size and SHA-256. Anything else — no manifest, a truncated or
// altered file — is an error wrapping ErrIncomplete, and a caller resuming a
// run should treat it as absent. So no sequence of crashes, and no file
// system that reorders writes, yields a checkpoint that reads as complete
// but is not.
//
// WriteFileAtomic, WriteJSON and ReadJSON are the single-file building
// blocks, usable on their own (temporary file in the same directory, fsync,
// rename, fsync of the directory).
package checkpoint
