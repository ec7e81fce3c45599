#!/usr/bin/env python3
"""bench/lm_torch.py: the PyTorch peer of `nlprnn lm-train` (forward direction), for bench/run_lm.sh.

Same model and data as nlprnn's language model: the same token ids (dumped by
`nlprnn tokenize --ids` with the same tokenizer), <bos> ids <eos> per line, sentence batches of
--batch lines bucketed by length (shuffle, sort inside windows of 100 batches, shuffle batches),
lines cut to --max-len input positions, an Embedding(V,E) -> LSTM(E,H) -> Linear(H,V) with the
output matrix tied to the embedding, Adam with the learning rate decaying linearly to lr/10 over
the time budget (or over the steps of --epochs), gradient-norm clipping, and the usual full
softmax cross-entropy (PyTorch's standard language-model recipe) or, with --softmax sampled,
nlprnn's sampled softmax (--samples negatives a batch, shared by its rows, drawn log-uniform over
the pieces ranked by training frequency, the true class's logit and the negatives' corrected by
log(S Q(k)), accidental hits masked: models/head.c's recipe). Training stops after --seconds of
wall time or after --epochs passes over the training lines, whichever comes first.

Evaluation (skipped without --valid): the summed negative log-likelihood (full softmax) of every piece after <bos> (tokens
and one <eos> per line) of the validation ids; perplexity per piece = exp(nll / pieces) and bits
per character = nll / ln 2 / chars, chars = Unicode characters of each scored line + 1, exactly as
`nlprnn lm-eval` counts them.

For bench/run_e2e.sh (part lm), the last line is one JSON object: steps, pieces trained (input
positions with a target), the training loop's seconds (reading and evaluation left out) and
pieces/s.
"""
import argparse
import gzip
import json
import math
import random
import time

import torch
import torch.nn as nn

BOS, EOS, PAD = 2, 3, 0


def read_ids(path, max_lines=0):
    seqs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            ids = [int(x) for x in line.split()]
            if ids:
                seqs.append([BOS] + ids + [EOS])
            if max_lines and len(seqs) >= max_lines:
                break
    return seqs


def read_chars(path, max_lines=0):
    """Characters (+1 a line) of the non-empty lines, as nlprnn lm-eval counts them."""
    op = gzip.open if path.endswith(".gz") else open
    n = 0
    lines = 0
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            n += len(line) + 1
            lines += 1
            if max_lines and lines >= max_lines:
                break
    return n


class LM(nn.Module):
    def __init__(self, V, E, H, layers, tied):
        super().__init__()
        self.emb = nn.Embedding(V, E, padding_idx=PAD)
        self.rnn = nn.LSTM(E, H, num_layers=layers)
        self.out = nn.Linear(H, V)
        if tied:
            assert E == H
            self.out.weight = self.emb.weight

    def forward(self, x):  # x (T,B)
        h, _ = self.rnn(self.emb(x))
        return self.out(h)  # (T,B,V)

    def hidden(self, x):  # x (T,B) -> (T,B,H), before the output layer
        h, _ = self.rnn(self.emb(x))
        return h


class SampledSoftmax:
    """nlprnn's sampled softmax (models/head.c): S negatives a batch, log-uniform over the pieces
    ranked by training frequency, logits corrected by log(S Q(k)), accidental hits masked."""

    def __init__(self, train, V, S):
        counts = torch.zeros(V, dtype=torch.long)
        for s in train:
            counts += torch.bincount(torch.tensor(s[1:]), minlength=V)[:V]
        self.id_of_rank = torch.argsort(counts, descending=True, stable=True)
        self.rank_of_id = torch.empty(V, dtype=torch.long)
        self.rank_of_id[self.id_of_rank] = torch.arange(V)
        self.V, self.S = V, S

    def log_expected(self, k):  # log(S Q(k)), Q(k) = log((k+2)/(k+1)) / log(V+1), k a rank
        k = k.double()
        return (math.log(self.S) + torch.log(torch.log((k + 2) / (k + 1)) / math.log(self.V + 1))).float()

    def loss(self, h, y, weight, bias):  # h (N,H), y (N,) with -100 = none
        keep = y != -100
        h, y = h[keep], y[keep]
        u = torch.rand(self.S, dtype=torch.float64)
        k = (torch.floor(torch.exp(u * math.log(self.V + 1))) - 1).long().clamp(0, self.V - 1)
        ids = self.id_of_rank[k]
        zt = (h * weight[y]).sum(1) + bias[y] - self.log_expected(self.rank_of_id[y])
        zs = h @ weight[ids].t() + bias[ids] - self.log_expected(k)
        zs = zs.masked_fill(ids[None, :] == y[:, None], float("-inf"))
        z = torch.cat([zt[:, None], zs], 1)
        return nn.functional.cross_entropy(z, torch.zeros(len(y), dtype=torch.long))


def batches(seqs, B, max_len, rng):
    order = list(range(len(seqs)))
    rng.shuffle(order)
    win = B * 100
    for i in range(0, len(order), win):
        order[i:i + win] = sorted(order[i:i + win], key=lambda k: len(seqs[k]))
    bl = [order[i:i + B] for i in range(0, len(order), B)]
    rng.shuffle(bl)
    for b in bl:
        rows = [seqs[k][: max_len + 1] for k in b]
        T = max(len(r) for r in rows) - 1
        x = torch.full((T, len(rows)), PAD, dtype=torch.long)
        y = torch.full((T, len(rows)), -100, dtype=torch.long)
        for j, r in enumerate(rows):
            n = len(r) - 1
            x[:n, j] = torch.tensor(r[:-1])
            y[:n, j] = torch.tensor(r[1:])
        yield x, y


def evaluate(model, seqs, B=64):
    model.eval()
    nll, pieces = 0.0, 0
    lossf = nn.CrossEntropyLoss(ignore_index=-100, reduction="sum")
    with torch.no_grad():
        for i in range(0, len(seqs), B):
            rows = seqs[i:i + B]
            T = max(len(r) for r in rows) - 1
            x = torch.full((T, len(rows)), PAD, dtype=torch.long)
            y = torch.full((T, len(rows)), -100, dtype=torch.long)
            for j, r in enumerate(rows):
                n = len(r) - 1
                x[:n, j] = torch.tensor(r[:-1])
                y[:n, j] = torch.tensor(r[1:])
            z = model(x)
            nll += lossf(z.view(-1, z.size(-1)), y.view(-1)).item()
            pieces += int((y != -100).sum())
    model.train()
    return nll, pieces


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True, help="training ids, one line per text")
    ap.add_argument("--valid", default="", help="validation ids, one line per text (none: no evaluation)")
    ap.add_argument("--valid-text", default="", help="validation text (for characters)")
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--embed", type=int, default=256)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--tied", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.004)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=0, help="training wall time (0: no limit)")
    ap.add_argument("--epochs", type=int, default=0, help="passes over the training lines (0: no limit)")
    ap.add_argument("--softmax", default="full", choices=["full", "sampled"])
    ap.add_argument("--samples", type=int, default=512, help="negatives a batch (--softmax sampled)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-lines", type=int, default=0)
    a = ap.parse_args()
    if a.seconds <= 0 and a.epochs <= 0:
        ap.error("give --seconds or --epochs")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    train = read_ids(a.train, a.max_lines)
    model = LM(a.vocab, a.embed, a.hidden, a.layers, a.tied)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    lossf = nn.CrossEntropyLoss(ignore_index=-100)
    ss = SampledSoftmax(train, a.vocab, a.samples) if a.softmax == "sampled" else None
    per_epoch = (len(train) + a.batch - 1) // a.batch
    t0 = time.monotonic()
    steps, pieces, done, epoch = 0, 0, False, 0
    while not done:
        for x, y in batches(train, a.batch, a.max_len, rng):
            el = time.monotonic() - t0
            if a.seconds and el >= a.seconds:
                done = True
                break
            prog = el / a.seconds if a.seconds else steps / (a.epochs * per_epoch)
            for g in opt.param_groups:
                g["lr"] = a.lr * (1 - 0.9 * min(1.0, prog))
            if ss:
                h = model.hidden(x)
                loss = ss.loss(h.reshape(-1, h.size(-1)), y.reshape(-1), model.out.weight, model.out.bias)
            else:
                z = model(x)
                loss = lossf(z.view(-1, z.size(-1)), y.view(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            steps += 1
            pieces += int((y != -100).sum())
            if steps % 50 == 0:
                print(f"torch: step {steps} loss {loss.item():.4f} {pieces / (time.monotonic() - t0):.0f} pieces/s",
                      flush=True)
        epoch += 1
        if a.epochs and epoch >= a.epochs:
            done = True
    train_s = time.monotonic() - t0
    print(f"torch: trained {steps} steps ({pieces} pieces) in {train_s:.0f} s")
    if a.valid:
        valid = read_ids(a.valid)
        chars = read_chars(a.valid_text)
        nll, n = evaluate(model, valid)
        print(f"RESULT torch lines={len(valid)} pieces={n} chars={chars} ppl={math.exp(nll / n):.3f} "
              f"bpc={nll / math.log(2) / chars:.4f} steps={steps} train_pieces={pieces} seconds={train_s:.0f}")
    print(json.dumps({"steps": steps, "pieces": pieces, "train_seconds": round(train_s, 3),
                      "pieces_per_second": round(pieces / train_s, 1), "softmax": a.softmax,
                      "threads": a.threads, "last_loss": round(float(loss.item()), 4)}))

if __name__ == "__main__":
    main()
