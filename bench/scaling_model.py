#!/usr/bin/env python3
"""bench/scaling_model.py — the scaling model of docs/scaling.md: throughput of data-parallel
training on N ranks from the compute time per step measured here and the ring-allreduce cost.

  step time(N) = t_compute + t_comm(N)            (no overlap: nlprnn sums after the backward pass)
  t_comm(N)    = sum over the step's all-reduces of 2 (N-1)/N * bytes / bandwidth
                 + 2 (N-1) * alpha per bucket (ring: 2 (N-1) messages in sequence)
                 + an all-gather of the embedding row ids (classifier): (N-1)/N * N*rows*4 / bw
                                                                         + (N-1) * alpha
  throughput   = N * tokens per rank-step / step time        (weak scaling: batch per rank fixed)

Usage: bench/scaling_model.py --compute-ms T --tokens-per-step K --dense-bytes D
           [--rows-per-batch G:U ...] [--row-bytes 512] [--local-rows R] [--bucket-mb 4]
           [--gbps 25] [--alpha-us 10] [--batch 32] [--ranks 1 2 8 64 512]
--rows-per-batch G:U gives U distinct embedding rows for a global batch of G examples (measured
by bench/run_mpi.sh); between the measured G the count is interpolated in log G. Without it the
whole gradient is dense (the language model).
"""
import argparse
import math


def rows_for(g, table):
    if not table:
        return 0.0
    pts = sorted(table)
    if g <= pts[0][0]:
        return pts[0][1] * g / pts[0][0]
    for (g0, u0), (g1, u1) in zip(pts, pts[1:]):
        if g <= g1:
            f = (math.log(g) - math.log(g0)) / (math.log(g1) - math.log(g0))
            return u0 + f * (u1 - u0)
    return pts[-1][1]  # beyond the largest measured batch: saturated


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compute-ms", type=float, required=True)
    ap.add_argument("--tokens-per-step", type=float, required=True, help="per rank")
    ap.add_argument("--dense-bytes", type=float, required=True)
    ap.add_argument("--rows-per-batch", nargs="*", default=[])
    ap.add_argument("--row-bytes", type=float, default=512)
    ap.add_argument("--local-rows", type=float, default=0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--bucket-mb", type=float, default=4)
    ap.add_argument("--gbps", type=float, default=25)
    ap.add_argument("--alpha-us", type=float, default=10)
    ap.add_argument("--ranks", type=int, nargs="*", default=[1, 2, 8, 64, 512])
    a = ap.parse_args()
    table = [(int(x.split(":")[0]), float(x.split(":")[1])) for x in a.rows_per_batch]
    bw = a.gbps * 1e9 / 8
    alpha = a.alpha_us * 1e-6
    bucket = a.bucket_mb * (1 << 20)
    base = None
    print("| ranks | global batch | bytes summed per step | comm ms | step ms | throughput (tokens/s) | efficiency |")
    print("|---|---|---|---|---|---|---|")
    for n in a.ranks:
        g = a.batch * n
        rows = rows_for(g, table)
        nbytes = a.dense_bytes + rows * a.row_bytes
        comm = 0.0
        if n > 1:
            buckets = math.ceil(a.dense_bytes / bucket) + (math.ceil(rows * a.row_bytes / bucket) if rows else 0)
            comm = 2 * (n - 1) / n * nbytes / bw + buckets * 2 * (n - 1) * alpha
            if table:
                comm += (n - 1) / n * n * a.local_rows * 4 / bw + (n - 1) * alpha
            comm += 2 * alpha  # the per-step status and loss sums (small all-reduces)
        step = a.compute_ms / 1e3 + comm
        tput = n * a.tokens_per_step / step
        if base is None:
            base = tput
        print(f"| {n} | {g} | {nbytes / 1e6:.2f} MB | {comm * 1e3:.2f} | {step * 1e3:.1f} | {tput:,.0f} | {tput / (n * base):.0%} |")


if __name__ == "__main__":
    main()
