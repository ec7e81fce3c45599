#!/usr/bin/env python3
"""bench/classify_torch.py: the PyTorch peer of `nlprnn train`/`nlprnn classify`.

A bidirectional LSTM/GRU classifier of the same shape as the nlprnn model
(embedding E -> 1 bidirectional layer of hidden H -> max/mean pooling -> dense -> softmax),
trained on the same token ids (produced by nlprnn's tokenizer or any other) and splits.

Input files: one document a line, token ids separated by spaces (ids >= 0); labels one integer a
line in a parallel file. Prints one JSON line with accuracy, training time and prediction speed.

usage: classify_torch.py --train-ids F --train-labels F --test-ids F --test-labels F
                         [--vocab N] [--emb 128] [--hidden 128] [--cell lstm|gru]
                         [--pool max|mean|last] [--epochs 2] [--batch 64] [--lr 2e-3]
                         [--threads 1] [--seed 1] [--max-tokens 256] [--time-budget SEC]
                         [--vectors F.vec --train-pieces F]  (embedding init, as nlprnn --vectors)
                         [--save MODEL.pt]
       classify_torch.py --predict-one MODEL.pt --ids "5 17 230"   (load + classify one document;
                         for the wall time of a single prediction)
       classify_torch.py --predict MODEL.safetensors --test-ids F [--test-labels F]
                         [--batch 64] [--threads 1]
                         (PyTorch's model loop over many documents: the weights of an nlprnn
                         classifier as `nlprnn export` writes them, the network built from the
                         file's __metadata__; the documents sorted by length, batches of --batch,
                         no gradient; prints one JSON line with the loop's seconds, documents/s
                         and the accuracy when labels are given, for bench/run_e2e.sh)
"""
import argparse
import json
import math
import random
import sys
import time

import torch
import torch.nn as nn


def read_ids(path, max_tokens):
    docs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            ids = [int(t) for t in line.split()][:max_tokens]
            docs.append(ids if ids else [0])
    return docs


def read_labels(path):
    with open(path, encoding="utf-8") as f:
        return [int(line) for line in f if line.strip()]


class Net(nn.Module):
    def __init__(self, vocab, emb, hidden, cell, pool, classes):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=None)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(emb, hidden, batch_first=True, bidirectional=True)
        self.pool = pool
        self.out = nn.Linear(2 * hidden, classes)

    def forward(self, x, lengths):  # x (B,T), lengths (B,)
        e = self.emb(x)  # (B,T,E)
        packed = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True,
                                                   enforce_sorted=False)
        h, _ = self.rnn(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True)  # (B,T,2H)
        mask = (torch.arange(h.size(1))[None, :] < lengths[:, None]).unsqueeze(-1)
        if self.pool == "max":
            p = h.masked_fill(~mask, -1e9).max(dim=1).values
        elif self.pool == "mean":
            p = (h * mask).sum(1) / lengths[:, None].float()
        else:  # last: forward half at the last step, backward half at step 0
            H = h.size(2) // 2
            idx = (lengths - 1).view(-1, 1, 1).expand(-1, 1, H)
            fwd = h[:, :, :H].gather(1, idx).squeeze(1)
            p = torch.cat([fwd, h[:, 0, H:]], dim=1)
        return self.out(p)


def batches(order, docs, batch):
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        lens = torch.tensor([len(docs[j]) for j in idx])
        x = torch.zeros(len(idx), int(lens.max()), dtype=torch.long)
        for r, j in enumerate(idx):
            x[r, :len(docs[j])] = torch.tensor(docs[j])
        yield idx, x, lens


def load_vectors(net, vec_path, pieces_path, ids_path):
    """Copy .vec rows into the embedding: piece -> id from the aligned pieces/ids files."""
    p2i = {}
    with open(pieces_path, encoding="utf-8") as fp, open(ids_path, encoding="utf-8") as fi:
        for lp, li in zip(fp, fi):
            for piece, i in zip(lp.split(), li.split()):
                p2i[piece] = int(i)
    n = 0
    with open(vec_path, encoding="utf-8", errors="replace") as f:
        first = f.readline().split()
        if len(first) != 2:
            f.seek(0)
        w = net.emb.weight.data
        for line in f:
            parts = line.rstrip("\n").split(" ")
            i = p2i.get(parts[0])
            if i is None or len(parts) - 1 != w.size(1):
                continue
            w[i] = torch.tensor([float(x) for x in parts[1:]])
            n += 1
    return n


def predict_one(a):
    t0 = time.time()
    ckpt = torch.load(a.predict_one)
    net = Net(**ckpt["shape"])
    net.load_state_dict(ckpt["state"])
    net.eval()
    ids = [int(t) for t in a.ids.split()] or [0]
    with torch.no_grad():
        p = torch.softmax(net(torch.tensor([ids]), torch.tensor([len(ids)])), 1)[0]
    k = int(p.argmax())
    print(f"{k}\t{float(p[k]):.4f}\t({time.time() - t0:.3f} s load+predict)")


def read_safetensors(path):
    """The tensors and __metadata__ of a safetensors file (float32 only; no package needed)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    n, = struct.unpack("<Q", data[:8])
    head = json.loads(data[8:8 + n])
    meta = head.pop("__metadata__", {})
    tensors = {}
    for name, t in head.items():
        assert t["dtype"] == "F32", f"{name}: {t['dtype']} (float32 expected)"
        a, b = t["data_offsets"]
        buf = bytearray(data[8 + n + a:8 + n + b])
        tensors[name] = torch.frombuffer(buf, dtype=torch.float32).reshape(t["shape"]).clone()
    return tensors, meta


def predict(a):
    """The model loop of batch classification: forward over every test document, timed alone."""
    torch.set_num_threads(a.threads)
    tensors, meta = read_safetensors(a.predict)
    assert meta.get("kind") == "classifier" and meta.get("layers") == "1" and meta.get("bidirectional") == "1", \
        "a one-layer bidirectional classifier expected"
    shape = dict(vocab=int(meta["vocab"]), emb=int(meta["embed"]), hidden=int(meta["hidden"]),
                 cell=meta["cell"], pool=meta["pool"], classes=int(meta["classes"]))
    net = Net(**shape)
    rename = {"embedding.": "emb.", "fc.": "out.", "rnn.": "rnn."}
    state = {next(v + k[len(p):] for p, v in rename.items() if k.startswith(p)): t for k, t in tensors.items()}
    net.load_state_dict(state, strict=True)
    net.eval()
    max_tokens = int(meta.get("max_tokens", a.max_tokens))
    docs = read_ids(a.test_ids, max_tokens)
    labels = meta.get("labels", "").split("\n")
    gold = None
    if a.test_labels:
        with open(a.test_labels, encoding="utf-8") as f:
            gold = [line.rstrip("\n") for line in f]
        assert len(gold) == len(docs), "ids/labels line counts differ"
    order = sorted(range(len(docs)), key=lambda k: len(docs[k]))
    pred = [0] * len(docs)
    t0 = time.time()
    with torch.no_grad():
        for idx, x, lens in batches(order, docs, a.batch):
            for j, k in zip(idx, net(x, lens).argmax(1).tolist()):
                pred[j] = k
    loop_s = time.time() - t0
    acc = None
    if gold is not None:
        acc = sum(labels[p] == g for p, g in zip(pred, gold)) / len(docs)
    print(json.dumps({"docs": len(docs), "batch": a.batch, "threads": a.threads,
                      "loop_seconds": round(loop_s, 3), "docs_per_second": round(len(docs) / loop_s, 1),
                      "accuracy": acc}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--predict", default="")
    ap.add_argument("--predict-one", default="")
    ap.add_argument("--ids", default="")
    ap.add_argument("--vectors", default="")
    ap.add_argument("--train-pieces", default="")
    ap.add_argument("--save", default="")
    ap.add_argument("--train-ids")
    ap.add_argument("--train-labels")
    ap.add_argument("--test-ids")
    ap.add_argument("--test-labels")
    ap.add_argument("--vocab", type=int, default=0)
    ap.add_argument("--emb", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--cell", default="lstm", choices=["lstm", "gru"])
    ap.add_argument("--pool", default="max", choices=["max", "mean", "last"])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--time-budget", type=float, default=0, help="stop training after SEC")
    a = ap.parse_args()
    if a.predict:
        return predict(a)
    if a.predict_one:
        torch.set_num_threads(a.threads)
        return predict_one(a)

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    tr_x = read_ids(a.train_ids, a.max_tokens)
    tr_y = read_labels(a.train_labels)
    te_x = read_ids(a.test_ids, a.max_tokens)
    te_y = read_labels(a.test_labels)
    assert len(tr_x) == len(tr_y) and len(te_x) == len(te_y), "ids/labels line counts differ"
    vocab = a.vocab or 1 + max(max(d) for d in tr_x + te_x)
    classes = 1 + max(tr_y)
    shape = dict(vocab=vocab, emb=a.emb, hidden=a.hidden, cell=a.cell, pool=a.pool,
                 classes=classes)
    net = Net(**shape)
    matched = load_vectors(net, a.vectors, a.train_pieces, a.train_ids) if a.vectors else 0
    params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    lossf = nn.CrossEntropyLoss()

    t0 = time.time()
    stopped = False
    for ep in range(a.epochs):
        net.train()
        # length-bucketed batches: sort by length inside shuffled chunks of 50 batches
        order = list(range(len(tr_x)))
        random.shuffle(order)
        chunk = a.batch * 50
        order = [j for i in range(0, len(order), chunk)
                 for j in sorted(order[i:i + chunk], key=lambda k: len(tr_x[k]))]
        blist = list(batches(order, tr_x, a.batch))
        random.shuffle(blist)
        tot, n = 0.0, 0
        for idx, x, lens in blist:
            y = torch.tensor([tr_y[j] for j in idx])
            opt.zero_grad()
            loss = lossf(net(x, lens), y)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            tot += loss.item() * len(idx)
            n += len(idx)
            if a.time_budget and time.time() - t0 > a.time_budget:
                stopped = True
                break
        print(f"epoch {ep + 1}: train loss {tot / max(n, 1):.4f} ({time.time() - t0:.0f} s)",
              file=sys.stderr)
        if stopped:
            break
    train_s = time.time() - t0

    net.eval()
    order = sorted(range(len(te_x)), key=lambda k: len(te_x[k]))
    correct = 0
    t1 = time.time()
    with torch.no_grad():
        for idx, x, lens in batches(order, te_x, 256):
            pred = net(x, lens).argmax(1)
            correct += sum(int(p) == te_y[j] for p, j in zip(pred.tolist(), idx))
    pred_s = time.time() - t1
    if a.save:
        torch.save({"shape": shape, "state": net.state_dict()}, a.save)
    print(json.dumps({
        "accuracy": correct / len(te_x), "train_seconds": round(train_s, 1),
        "epochs_done": ep + 1, "stopped_by_budget": stopped, "params": params,
        "test_docs": len(te_x), "predict_seconds": round(pred_s, 2),
        "docs_per_second": round(len(te_x) / pred_s, 1), "threads": a.threads,
        "vectors_matched": matched}))


if __name__ == "__main__":
    main()
