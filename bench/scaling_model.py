#!/usr/bin/env python3
"""bench/scaling_model.py — the scaling model of docs/scaling.md: throughput of data-parallel
training on N ranks from the compute time per step measured here and the all-reduce cost.

  step time(N) = t_compute + t_comm(N)       (no overlap: nlprnn sums after the backward pass)
  all-reduce of S bytes in b buckets, ring:  2 (N-1)/N * S / bandwidth + b * 2 (N-1) * alpha
      (--latency tree: b * 2 log2(N) * alpha instead: Rabenseifner, reduce-scatter and
      all-gather by recursive halving and doubling, same bytes)
  classifier step (--rows-per-batch given): the batch slices (MPI_Alltoallv: alpha + (N-1) * 1 us
      of per-peer overhead); round 1 = the dense buckets, with the 7-double sums and the rows-seen
      bit set in flight beside them; round 2 = the union's embedding rows
  language-model step: a 4-double sum, then the whole parameter block in buckets
  throughput = N * tokens per rank-step / step time   (weak scaling: the batch per rank is fixed)

Usage: bench/scaling_model.py --compute-ms T --tokens-per-step K --dense-bytes D
           [--rows-per-batch G:U ...] [--row-bytes 512] [--bitset-bytes 2000] [--bucket-mb 4]
           [--gbps 25] [--alpha-us 10] [--batch 32] [--ranks 1 2 8 64 512]
           [--latency ring|tree] [--bytes-scale 0.5] [--sync-every K]
--rows-per-batch G:U: U distinct embedding rows in a global batch of G examples (measured by
bench/run_mpi.sh), interpolated in log G between the measured points. --bytes-scale 0.5: the
gradient sent as float16. --sync-every K: one sum every K steps (local SGD).
"""
import argparse
import math


def rows_for(g, table):
    pts = sorted(table)
    if g <= pts[0][0]:
        return pts[0][1] * g / pts[0][0]
    for (g0, u0), (g1, u1) in zip(pts, pts[1:]):
        if g <= g1:
            f = (math.log(g) - math.log(g0)) / (math.log(g1) - math.log(g0))
            return u0 + f * (u1 - u0)
    return pts[-1][1]  # beyond the largest measured batch: taken as saturated


def comm_seconds(a, n, table):
    """Communication time of one step on n ranks, and the bytes summed."""
    bw = a.gbps * 1e9 / 8
    alpha = a.alpha_us * 1e-6
    bucket = a.bucket_mb * (1 << 20)
    rows = rows_for(a.batch * n, table) if table else 0.0
    nbytes = (a.dense_bytes + rows * a.row_bytes) * a.bytes_scale
    if n == 1:
        return 0.0, nbytes
    hops = 2 * (n - 1) if a.latency == "ring" else 2 * math.ceil(math.log2(n))
    dense_b = math.ceil(a.dense_bytes * a.bytes_scale / bucket)
    if table:  # classifier
        rows_b = math.ceil(rows * a.row_bytes * a.bytes_scale / bucket)
        sent = nbytes + a.bitset_bytes + 56
        t = 2 * (n - 1) / n * sent / bw + (dense_b + rows_b) * hops * alpha
        t += alpha + (n - 1) * 1e-6
    else:  # language model
        t = 2 * (n - 1) / n * nbytes / bw + (dense_b + 1) * hops * alpha
    return t / a.sync_every, nbytes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compute-ms", type=float, required=True)
    ap.add_argument("--tokens-per-step", type=float, required=True, help="per rank")
    ap.add_argument("--dense-bytes", type=float, required=True)
    ap.add_argument("--rows-per-batch", nargs="*", default=[])
    ap.add_argument("--row-bytes", type=float, default=512)
    ap.add_argument("--bitset-bytes", type=float, default=2000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--bucket-mb", type=float, default=4)
    ap.add_argument("--gbps", type=float, default=25)
    ap.add_argument("--alpha-us", type=float, default=10)
    ap.add_argument("--ranks", type=int, nargs="*", default=[1, 2, 8, 64, 512])
    ap.add_argument("--latency", choices=["ring", "tree"], default="ring")
    ap.add_argument("--bytes-scale", type=float, default=1.0)
    ap.add_argument("--sync-every", type=int, default=1)
    a = ap.parse_args()
    table = [(int(x.split(":")[0]), float(x.split(":")[1])) for x in a.rows_per_batch]
    one = a.tokens_per_step / (a.compute_ms / 1e3)  # one rank's throughput
    print("| ranks | global batch | bytes summed per step | comm ms | step ms | tokens/s | efficiency |")
    print("|---|---|---|---|---|---|---|")
    for n in a.ranks:
        comm, nbytes = comm_seconds(a, n, table)
        step = a.compute_ms / 1e3 + comm
        tput = n * a.tokens_per_step / step
        sent = f"{nbytes / 1e6:.2f} MB" if n > 1 else "-"
        print(f"| {n} | {a.batch * n} | {sent} | {comm * 1e3:.2f} | {step * 1e3:.1f} | {tput:,.0f} | {tput / (n * one):.0%} |")


if __name__ == "__main__":
    main()
