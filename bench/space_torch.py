#!/usr/bin/python3
"""bench/space_torch.py: the PyTorch peer of nlprnn's Korean spacing model (docs/spacing.md).

The same shape as scripts/train-spacing.sh trains: character embedding 64 (characters seen at
least twice; padding and unknown ids), 2 x bidirectional GRU 128 with dropout 0.1 between the
layers, a linear layer 256 -> 2 per character, softmax cross-entropy over the real characters
(packed sequences); Adam, lr 0.003 decaying along a cosine to 0.0003 over the time budget, clip
5, batches of 32 sentences (shuffled, in blocks of 64 batches sorted by length), sentences cut at
128 characters, 2 threads; training stops when the time budget is spent. No hints (the nlprnn
model also learns --keep-spaces hints on 30% of its sentences; this peer learns only plain
spacing). Then it respaces the test files' lines (spaces removed) and writes one output line per
input line, in order, for scripts/eval-spacing.py --hyp.

With --pretrain FILE... it trains in two stages, as scripts/train-spacing.sh does: (1) pretraining
on the --train files and the --pretrain files together for --pretrain-seconds or one epoch,
whichever ends first, lr 0.003 -> 0.0003 cosine over --pretrain-seconds; (2) fine-tuning from
those weights on the --train files alone for --seconds with the same schedule and a fresh Adam.
The characters kept are then those seen at least twice in the --train and --pretrain files
together. The caller filters the --pretrain lines (bench/run_space_peer.sh keeps those with >= 3
words and >= 15 bytes, as the recipe does). There is no validation: the weights after the last
step are used (the recipe keeps its best validated epoch). Without --pretrain: one stage, as before.

usage: bench/space_torch.py --seconds 1380 --out HYP.txt --train FILE... --test FILE...
                            [--pretrain FILE... --pretrain-seconds S] [--threads N]
"""
import argparse
import gzip
import math
import os
import random
import sys
import time
import unicodedata


def _threads_of(argv, default=2):
    """--threads N (or --threads=N) of the command line, read before torch loads."""
    for k, x in enumerate(argv):
        if x == "--threads" and k + 1 < len(argv):
            return argv[k + 1]
        if x.startswith("--threads="):
            return x.split("=", 1)[1]
    return str(default)


# --threads bounds every thread pool under torch: torch.set_num_threads does not reach Debian's
# OpenBLAS, which reads its variable once, when torch loads it (a run with --threads 1 kept both
# cores busy before this). A value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", _threads_of(sys.argv[1:]))

import torch  # noqa: E402 (after the thread bound above)
import torch.nn as nn


def is_white(c):
    return c in "\t\n\r\v\f" or unicodedata.category(c) == "Zs"


def words_of(line):
    out, cur = [], []
    for c in unicodedata.normalize("NFC", line):
        if is_white(c):
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(c)
    if cur:
        out.append("".join(cur))
    return out


def read_lines(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            w = words_of(line.rstrip("\n"))
            if w:
                yield w


class Tagger(nn.Module):
    def __init__(self, V):
        super().__init__()
        self.emb = nn.Embedding(V, 64, padding_idx=0)
        self.rnn = nn.GRU(64, 128, num_layers=2, bidirectional=True, dropout=0.1)
        self.out = nn.Linear(256, 2)

    def forward(self, ids, lens):  # ids (T,B)
        x = self.emb(ids)
        packed = nn.utils.rnn.pack_padded_sequence(x, lens, enforce_sorted=False)
        y, _ = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, total_length=ids.shape[0])
        return self.out(y)  # (T,B,2)


def pieces_of(paths):
    """Every line's characters and labels (1 = a space after it), cut at 128 characters."""
    out = []
    for p in paths:
        for w in read_lines(p):
            chars = "".join(w)
            lab = []
            for k, word in enumerate(w):
                lab.extend([0] * (len(word) - 1) + [1 if k + 1 < len(w) else 0])
            for s in range(0, len(chars), 128):
                out.append((chars[s:s + 128], lab[s:s + 128]))
    return out


def train_stage(model, data, seconds, max_epochs, name):
    """Trains for `seconds` of wall time or `max_epochs` epochs (None: no limit), a fresh Adam,
    lr 0.003 -> 0.0003 cosine over `seconds`. Returns (steps, epochs begun, seconds)."""
    opt = torch.optim.Adam(model.parameters(), lr=0.003)
    lossf = nn.CrossEntropyLoss(ignore_index=-100)
    B = 32
    t0 = time.time()
    epoch, steps, done = 0, 0, False
    while not done:
        if max_epochs is not None and epoch >= max_epochs:
            break
        epoch += 1
        random.shuffle(data)
        batches = []
        blk = B * 64
        for i in range(0, len(data), blk):
            part = sorted(data[i:i + blk], key=lambda d: -len(d[0]))
            batches.extend(part[j:j + B] for j in range(0, len(part), B))
        random.shuffle(batches)
        tot, n = 0.0, 0
        model.train()
        for bt in batches:
            el = time.time() - t0
            if el >= seconds:
                done = True
                break
            lr = 0.0003 + (0.003 - 0.0003) * (1 + math.cos(math.pi * el / seconds)) / 2
            for g in opt.param_groups:
                g["lr"] = lr
            T = max(len(d[0]) for d in bt)
            ids = torch.zeros(T, len(bt), dtype=torch.long)
            tgt = torch.full((T, len(bt)), -100, dtype=torch.long)
            for b, (x, y) in enumerate(bt):
                ids[:len(x), b] = x
                tgt[:len(y), b] = y
            lens = torch.tensor([len(d[0]) for d in bt])
            z = model(ids, lens)
            loss = lossf(z.reshape(-1, 2), tgt.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            steps += 1
            tot += loss.item()
            n += 1
        print("%sepoch %d: %d steps, mean loss %.4f, %.0f s" % (name, epoch, n, tot / max(n, 1), time.time() - t0),
              flush=True)
    return steps, epoch, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--test", nargs="+", required=True)
    ap.add_argument("--seconds", type=float, default=1380)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pretrain", nargs="+", default=[])
    ap.add_argument("--pretrain-seconds", type=float, default=None)
    a = ap.parse_args()
    if bool(a.pretrain) != (a.pretrain_seconds is not None):
        ap.error("--pretrain and --pretrain-seconds go together")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)

    sents = pieces_of(a.train)
    pre = pieces_of(a.pretrain)
    count = {}
    for c, _ in sents + pre:
        for ch in c:
            count[ch] = count.get(ch, 0) + 1
    vocab = {ch: i + 2 for i, ch in enumerate(sorted(k for k, v in count.items() if v >= 2))}
    V = len(vocab) + 2

    def tensors(ps):
        return [(torch.tensor([vocab.get(ch, 1) for ch in c]), torch.tensor(l)) for c, l in ps]
    data = tensors(sents)
    model = Tagger(V)
    nparams = sum(p.numel() for p in model.parameters())
    pre_steps = pre_epochs = 0
    pre_secs = 0.0
    if a.pretrain:
        pre_data = data + tensors(pre)
        del pre
        print("space_torch: pretraining on %d pieces (%d of them the --train files')" % (len(pre_data), len(data)),
              flush=True)
        pre_steps, pre_epochs, pre_secs = train_stage(model, pre_data, a.pretrain_seconds, 1, "pretraining ")
        del pre_data
    steps, epoch, train_secs = train_stage(model, data, a.seconds, None, "fine-tuning " if a.pretrain else "")

    model.eval()
    lines = [w for p in a.test for w in read_lines(p)]
    inputs = ["".join(w) for w in lines]
    outs = [None] * len(inputs)
    order = sorted(range(len(inputs)), key=lambda i: -len(inputs[i]))
    t1 = time.time()
    with torch.no_grad():
        for g in range(0, len(order), 64):
            idx = order[g:g + 64]
            T = max(len(inputs[i]) for i in idx)
            ids = torch.zeros(T, len(idx), dtype=torch.long)
            for b, i in enumerate(idx):
                ids[:len(inputs[i]), b] = torch.tensor([vocab.get(ch, 1) for ch in inputs[i]])
            lens = torch.tensor([len(inputs[i]) for i in idx])
            pred = model(ids, lens).argmax(-1)
            for b, i in enumerate(idx):
                s = inputs[i]
                o = []
                for j, ch in enumerate(s):
                    o.append(ch)
                    if j + 1 < len(s) and pred[j, b].item() == 1:
                        o.append(" ")
                outs[i] = "".join(o)
    infer_secs = time.time() - t1
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(outs) + "\n")
    if a.pretrain:
        print("space_torch: pretraining %d steps in %.0f s (%d epoch begun), fine-tuning %d steps in %.0f s"
              % (pre_steps, pre_secs, pre_epochs, steps, train_secs))
    print("space_torch: %d training pieces (lines cut at 128 characters), %d characters kept, %d parameters, "
          "%d epochs begun, %d steps, %.0f s of training; respaced %d test lines in %.1f s (%.0f sentences/s, "
          "torch %s, %d threads)" % (len(data), V - 2, nparams, epoch, steps, train_secs, len(inputs),
                                      infer_secs, len(inputs) / infer_secs, torch.__version__, a.threads))


if __name__ == "__main__":
    main()
