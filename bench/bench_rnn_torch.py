#!/usr/bin/env python3
"""PyTorch side of bench/run_rnn.sh: the same measurement as bench/bench_rnn.c, one result line.

    /usr/bin/python3 bench/bench_rnn_torch.py --cell lstm --mode train --input 128 --hidden 256 \
        --batch 64 --len 32 --threads 2 --seconds 2

train: forward + backward of loss sum(out * r) + SGD update of a 1-layer nn.LSTM/nn.GRU (float32,
CPU) on random (len, batch, input) data; infer: forward under torch.inference_mode().
Median step time over --seconds, after 3 warm-up steps; best_* from the fastest step.
"""
import argparse
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--cell", default="lstm")
ap.add_argument("--mode", default="train")
ap.add_argument("--input", type=int, default=128)
ap.add_argument("--hidden", type=int, default=256)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--len", type=int, default=32)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--seconds", type=float, default=2.0)
ap.add_argument("--mkldnn", type=int, default=1, help="0: run with oneDNN (mkldnn) disabled")
a = ap.parse_args()

torch.set_num_threads(a.threads)
torch.backends.mkldnn.enabled = bool(a.mkldnn)
torch.manual_seed(1)
m = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[a.cell](a.input, a.hidden)
x = torch.rand(a.len, a.batch, a.input) * 2 - 1
r = (torch.rand(a.len, a.batch, a.hidden) * 2 - 1) * 1e-3
opt = torch.optim.SGD(m.parameters(), lr=1e-3)
train = a.mode == "train"


def step():
    if train:
        opt.zero_grad(set_to_none=False)
        out, _ = m(x)
        (out * r).sum().backward()
        opt.step()
    else:
        with torch.inference_mode():
            m(x)


for _ in range(3):
    step()
times = []
t0 = time.perf_counter()
while time.perf_counter() - t0 < a.seconds:
    s = time.perf_counter()
    step()
    times.append(time.perf_counter() - s)
times.sort()
med = times[len(times) // 2]
gates = {"lstm": 4, "gru": 3, "rnn": 1}[a.cell]
P = 2.0 * a.len * a.batch * a.input * gates * a.hidden  # input projection
R = 2.0 * a.len * a.batch * a.hidden * gates * a.hidden  # recurrence
flops = 2 * P + 3 * R if train else P + R  # backward: dW_ih, dW_hh, dh (x needs no grad)
print("impl=pytorch-%s%s cell=%s mode=%s input=%d hidden=%d batch=%d len=%d threads=%d iters=%d "
      "ms=%.3f tokens_per_s=%.0f seqs_per_s=%.1f gflops=%.1f best_ms=%.3f best_tokens_per_s=%.0f "
      "best_seqs_per_s=%.1f best_gflops=%.1f"
      % (torch.__version__, "" if a.mkldnn else "-nomkldnn", a.cell, a.mode, a.input, a.hidden, a.batch, a.len, a.threads,
         len(times), med * 1e3, a.batch * a.len / med, a.batch / med, flops / med * 1e-9,
         times[0] * 1e3, a.batch * a.len / times[0], a.batch / times[0], flops / times[0] * 1e-9))
