#!/usr/bin/env python3
"""The project's PyTorch yardstick: one Adam step of the paper's model, timed, on the CPU.

The step `npm run bench` times in TensorFlow.js, written in PyTorch: 4 layers, 4 heads, d_model 128,
d_ff 512, vocabulary 104, no positional embedding, pre-LayerNorm blocks (x + attn(ln1 x), then
x + mlp(ln2 x)), GELU, biases everywhere, a final LayerNorm; a batch of 64 sorting sequences of
length 7 in the project's token format (START x1..x7 SEP y1..y7: 16 positions), cross-entropy on
the 8 answer positions (y1..y7, END) only; Adam at 1e-3, eps 1e-8.

  python3 scripts/torch_step.py [--threads 1] [--steps 30] [--eval N]
prints one line: torch=<version> threads=... median_ms_per_step=... [eval_seqs_per_s=...]
--eval N also times the evaluation the analysis is made of: N sorting sequences of length 10
(22 tokens) through the model without gradients, in batches of 256, with each position's argmax
(the median of 3 passes over all N), as `npm run bench`'s eval_seqs_per_s does in TensorFlow.js.
PyTorch: a venv (python3 -m venv .venv-torch && .venv-torch/bin/pip install torch: a current
CPU build) or Debian's python3-torch (1.13); npm run bench prefers the venv.
"""
import argparse
import math
import os
import statistics
import sys
import time

THREADS = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
os.environ.setdefault("OMP_NUM_THREADS", THREADS)  # before torch picks its thread pools
os.environ.setdefault("OPENBLAS_NUM_THREADS", THREADS)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

LAYERS, HEADS, D_MODEL, D_FF, VOCAB = 4, 4, 128, 512, 104
PAD, START, SEP, END, IGNORE = 100, 101, 102, 103, -100


def sort_batch(batch: int, n: int, gen: torch.Generator):
    """START x SEP y as decoder input, y END as the targets of the answer positions."""
    x = torch.randint(1, 100, (batch, n), generator=gen)
    y = torch.sort(x, dim=1).values
    col = lambda v: torch.full((batch, 1), v)
    tokens = torch.cat([col(START), x, col(SEP), y], dim=1)  # [batch, 2n + 2]
    targets = torch.full_like(tokens, IGNORE)
    targets[:, n + 1:] = torch.cat([y, col(END)], dim=1)  # position p predicts token p + 1
    return tokens, targets


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL)
        self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(D_MODEL, D_MODEL) for _ in range(4))
        self.mlp = nn.Sequential(nn.Linear(D_MODEL, D_FF), nn.GELU(), nn.Linear(D_FF, D_MODEL))

    def attention(self, h, mask):
        b, t, _ = h.shape
        heads = lambda z: z.view(b, t, HEADS, D_MODEL // HEADS).transpose(1, 2)  # [batch, head, pos, d_head]
        q, k, v = heads(self.W_q(h)), heads(self.W_k(h)), heads(self.W_v(h))
        pattern = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D_MODEL // HEADS) + mask, dim=-1)
        return self.W_o((pattern @ v).transpose(1, 2).reshape(b, t, D_MODEL))

    def forward(self, x, mask):
        x = x + self.attention(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f, self.out = nn.LayerNorm(D_MODEL), nn.Linear(D_MODEL, VOCAB)

    def forward(self, tokens):
        t = tokens.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x, mask)
        return self.out(self.ln_f(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--eval", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = Transformer()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
    tokens, targets = sort_batch(64, 7, gen)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(tokens).reshape(-1, VOCAB), targets.reshape(-1), ignore_index=IGNORE)
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(1000 * (time.perf_counter() - t0))
    line = f"torch={torch.__version__} threads={args.threads} median_ms_per_step={statistics.median(times):.1f}"
    if args.eval > 0:
        line += f" eval_seqs_per_s={args.eval / eval_seconds(model, args.eval, gen):.0f}"
    print(line)


def eval_seconds(model, n: int, gen: torch.Generator) -> float:
    """Median seconds of one pass over n sorting sequences of length 10 (batches of 256), no gradients, argmax per position."""
    batches = [sort_batch(min(256, n - i), 10, gen)[0] for i in range(0, n, 256)]
    model.eval()
    passes = []
    with torch.no_grad():
        for _ in range(4):  # the first pass is a warm-up
            t0 = time.perf_counter()
            for tokens in batches:
                model(tokens).argmax(-1)
            passes.append(time.perf_counter() - t0)
    model.train()
    return statistics.median(passes[1:])


if __name__ == "__main__":
    main()
