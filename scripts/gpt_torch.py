"""PyTorch reference of gen's character-level GPT (nn.GPT), for speed only.

The same architecture as gen's --model gpt: token and position embeddings,
pre-LayerNorm blocks of causal multi-head self-attention (one Q|K|V linear
map, explicit mask and softmax) and a 4x-wide exact-GELU MLP, final
LayerNorm, untied linear head; AdamW (weight decay 0.1, beta2 0.99) at a
constant learning rate. It trains on random windows of the same corpus and
prints one JSON line with the seconds per training step (forward, backward
and optimizer step), wall-clock and CPU time of the process, measured after a
warm-up.

Usage: python3 scripts/gpt_torch.py CORPUS THREADS STEPS
Not part of the build or of CI (needs python3-torch).
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

LAYERS, HEADS, EMBED, CONTEXT, BATCH = 4, 4, 128, 64, 12


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.register_buffer("mask", torch.tril(torch.ones(CONTEXT, CONTEXT)).bool())

    def forward(self, x):
        b, t, d = x.shape
        e = d // self.heads
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, e).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(e)
        att = att.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, EMBED), nn.Embedding(CONTEXT, EMBED)
        self.h = nn.ModuleList(Block(EMBED, HEADS) for _ in range(LAYERS))
        self.ln_f, self.lm_head = nn.LayerNorm(EMBED), nn.Linear(EMBED, vocab, bias=False)

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t))
        for blk in self.h:
            x = blk(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def main():
    corpus, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    text = open(corpus, encoding="utf-8").read()
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text[:200000]], dtype=torch.long)
    model = GPT(len(chars))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)

    def step():
        ix = torch.randint(len(ids) - CONTEXT - 1, (BATCH,))
        x = torch.stack([ids[i:i + CONTEXT] for i in ix])
        y = torch.stack([ids[i + 1:i + CONTEXT + 1] for i in ix])
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        loss = step()
    sec = (time.perf_counter() - t0) / steps
    cpu = (time.process_time() - c0) / steps
    print(json.dumps({"threads": threads, "seconds_per_step": sec, "cpu_seconds_per_step": cpu,
                      "tokens_per_second": BATCH * CONTEXT / sec, "loss": loss,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
