#!/usr/bin/python3
"""bench/translate_torch.py: the PyTorch peer of nlprnn's translator (docs/translate.md).

The shape and regularisation of the shipped recipe (scripts/train-translate.sh; --embed, --hidden,
--emb-dropout, --out-dropout set them, the defaults are the recipe's): embeddings E = 256; a
bidirectional GRU encoder of H/2 units per direction (outputs S of H = 256); the bridge
h_0 = tanh(W_b mean(S) + b_b) over the real source steps; one GRU decoder layer of H with input
feeding (x_t = [emb(y_{t-1}) ; a_{t-1}]); Luong "general" attention e = h . W_a S_s, masked
softmax, ctx = sum alpha S; a_t = tanh(W_c [ctx ; h_t] + b_c); output Linear(H, Vt); dropout
(training) on the source and target embeddings (0.3) and on the attentional vector a_t (0.5,
before the output layer and the input feeding), as nlprnn's --emb-dropout / --out-dropout;
cross-entropy with label smoothing 0.1 over the real target tokens (teacher forcing, <eos> at the
end). Adam, lr 0.002 following a cosine to 0.0001 over the time budget, clip 5, batches of 32
pairs (shuffled, in blocks of 64 batches sorted by source length), 5% of the pairs held out
(validation loss per target token after each epoch; the best epoch's weights are kept), pairs
with more than 64 pieces on a side left out; training stops when the time budget is spent.

Pieces: the ones nlprnn's tokenizers give (bench/run_translate.sh writes them with
`nlprnn tokenize`, one line of space-separated pieces per text).

  train:  bench/translate_torch.py train --seconds S --train-src F --train-tgt F --save MODEL.pt
          prints pairs, pieces per epoch, each epoch's validation loss, epochs, training tokens/s
          (source + target pieces + <eos> per second of training), best validation loss.
  decode: bench/translate_torch.py decode --model MODEL.pt --test-src F --out HYP [--beam N]
          [--batch N] [--len-alpha A]
          translates the test sources as nlprnn translate-eval does: greedy (one at a time, or
          --batch N sentences together in file order) or beam search (--beam N, one sentence at
          a time, the N best extensions of each live hypothesis, hypotheses ended by <eos> scored
          logp / len^A with len counting the <eos>, A = 1 by default; search ends when N have
          ended), at most ceil(3 * source pieces) + 5 pieces; the pieces joined back into text
          ('\u2581' = space, <0xNN> = a byte), one line per test pair, for
          `nlprnn translate-eval --hyp`. Prints decoding sentences/s (the decoding loop only:
          ids, search, detokenization; not the start-up or the model load).
"""
import argparse
import math
import random
import re
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, UNK, BOS, EOS = 0, 1, 2, 3


def read_pieces(path):
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f.read().split("\n")[:-1]]


class Vocab:
    def __init__(self, seqs=(), itos=None):
        self.itos = list(itos) if itos else ["<pad>", "<unk>", "<bos>", "<eos>"]
        self.stoi = {p: i for i, p in enumerate(self.itos) if i > EOS}
        for s in seqs:
            for p in s:
                if p not in self.stoi:
                    self.stoi[p] = len(self.itos)
                    self.itos.append(p)

    def ids(self, s):
        return [self.stoi.get(p, UNK) for p in s]


def detok(pieces):
    out = bytearray()
    for p in pieces:
        m = re.fullmatch(r"<0x([0-9A-Fa-f]{2})>", p)
        if m:
            out.append(int(m.group(1), 16))
        else:
            out += p.replace("\u2581", " ").encode("utf-8")
    return out.decode("utf-8", errors="replace").strip()


class Seq2Seq(nn.Module):
    def __init__(self, Vs, Vt, E=256, H=256, emb_dropout=0.3, out_dropout=0.5):
        super().__init__()
        self.H = H
        self.emb_s = nn.Embedding(Vs, E, padding_idx=PAD)
        self.emb_t = nn.Embedding(Vt, E, padding_idx=PAD)
        self.enc = nn.GRU(E, H // 2, bidirectional=True, batch_first=True)
        self.bridge = nn.Linear(H, H)
        self.dec = nn.GRUCell(E + H, H)
        self.W_a = nn.Linear(H, H, bias=False)  # keys K = S W_a^T
        self.W_c = nn.Linear(2 * H, H)
        self.out = nn.Linear(H, Vt)
        self.drop_e = nn.Dropout(emb_dropout)
        self.drop_a = nn.Dropout(out_dropout)

    def encode(self, src, slen):
        # src (B,Ts), slen (B): S (B,Ts,O) zero at padded steps, keys, mask, h_0
        x = self.drop_e(self.emb_s(src))
        packed = nn.utils.rnn.pack_padded_sequence(x, slen.cpu(), batch_first=True, enforce_sorted=False)
        S, _ = self.enc(packed)
        S, _ = nn.utils.rnn.pad_packed_sequence(S, batch_first=True, total_length=src.size(1))
        mask = src != PAD
        m = S.sum(1) / slen.unsqueeze(1).float()
        h = torch.tanh(self.bridge(m))
        return S, self.W_a(S), mask, h

    def step(self, y, h, a, S, K, mask):
        h = self.dec(torch.cat([self.drop_e(self.emb_t(y)), a], 1), h)
        e = torch.bmm(K, h.unsqueeze(2)).squeeze(2).masked_fill(~mask, float("-inf"))
        alpha = torch.softmax(e, 1)
        ctx = torch.bmm(alpha.unsqueeze(1), S).squeeze(1)
        a = self.drop_a(torch.tanh(self.W_c(torch.cat([ctx, h], 1))))
        return h, a

    def loss(self, src, slen, tin, tout, smoothing):
        S, K, mask, h = self.encode(src, slen)
        a = torch.zeros(src.size(0), self.H)
        outs = []
        for t in range(tin.size(1)):
            h, a = self.step(tin[:, t], h, a, S, K, mask)
            outs.append(a)
        z = self.out(torch.stack(outs, 1))  # (B,Tt,V)
        return F.cross_entropy(z.reshape(-1, z.size(-1)), tout.reshape(-1), ignore_index=-1,
                               label_smoothing=smoothing, reduction="sum")

    @torch.no_grad()
    def greedy(self, srcs):
        """srcs: lists of source ids (non-empty); each at most ceil(3 * len) + 5 pieces."""
        B = len(srcs)
        src = torch.full((B, max(len(s) for s in srcs)), PAD, dtype=torch.long)
        for b, s in enumerate(srcs):
            src[b, :len(s)] = torch.tensor(s)
        maxl = torch.tensor([math.ceil(3 * len(s)) + 5 for s in srcs])
        S, K, mask, h = self.encode(src, torch.tensor([len(s) for s in srcs]))
        a = torch.zeros(B, self.H)
        y = torch.full((B,), BOS, dtype=torch.long)
        live = torch.ones(B, dtype=torch.bool)
        out = [[] for _ in range(B)]
        for t in range(int(maxl.max()) + 1):
            h, a = self.step(y, h, a, S, K, mask)
            z = self.out(a)
            z[:, PAD] = z[:, BOS] = float("-inf")
            k = torch.argmax(z, 1)
            k = torch.where(maxl == t, torch.full_like(k, EOS), k)
            for b in torch.nonzero(live & (k != EOS)).flatten().tolist():
                out[b].append(int(k[b]))
            live &= k != EOS
            if not bool(live.any()):
                break
            y = k
        return out

    @torch.no_grad()
    def beam(self, src_ids, W, alpha, max_len):
        S, K, mask, h = self.encode(torch.tensor([src_ids]), torch.tensor([len(src_ids)]))
        a = torch.zeros(1, self.H)
        toks, logp, fin = [[]], torch.zeros(1), []  # live hypotheses; fin: (score, logp, tokens)
        for t in range(max_len + 1):
            R = len(toks)
            y = torch.tensor([BOS if t == 0 else s[-1] for s in toks])
            h, a = self.step(y, h, a, S.expand(R, -1, -1), K.expand(R, -1, -1), mask.expand(R, -1))
            lp = torch.log_softmax(self.out(a), 1)
            if t == max_len:  # no room for another token: only <eos>
                cand = [(float(logp[r] + lp[r, EOS]), r, EOS) for r in range(R)]
            else:
                lp[:, PAD] = lp[:, BOS] = float("-inf")
                tv, ti = torch.topk(logp.unsqueeze(1) + lp, min(W, lp.size(1)), 1)
                cand = sorted(zip(tv.flatten().tolist(), [r for r in range(R) for _ in range(tv.size(1))],
                                  ti.flatten().tolist()), key=lambda c: (-c[0], c[1], c[2]))
            rows, ntoks, nlogp = [], [], []
            for lpv, r, k in cand:
                if len(rows) >= W or len(fin) >= W:
                    break
                if k == EOS:
                    fin.append((lpv / (t + 1) ** alpha if alpha > 0 else lpv, lpv, toks[r]))
                else:
                    rows.append(r), ntoks.append(toks[r] + [k]), nlogp.append(lpv)
            if not rows or len(fin) >= W:
                break
            idx = torch.tensor(rows)
            h, a, toks, logp = h[idx], a[idx], ntoks, torch.tensor(nlogp)
        best = 0
        for i in range(1, len(fin)):
            if fin[i][0] > fin[best][0]:
                best = i
        return fin[best][2]


def batches(pairs, B, rng):
    order = list(range(len(pairs)))
    rng.shuffle(order)
    blocks = []
    for i in range(0, len(order), B * 64):
        blk = sorted(order[i:i + B * 64], key=lambda j: -len(pairs[j][0]))
        blocks += [blk[k:k + B] for k in range(0, len(blk), B)]
    rng.shuffle(blocks)
    return blocks


def tensors(pairs, idx):
    bs = [pairs[i] for i in idx]
    Ts, Tt = max(len(s) for s, _ in bs), max(len(t) for _, t in bs) + 1
    src = torch.full((len(bs), Ts), PAD, dtype=torch.long)
    tin = torch.full((len(bs), Tt), PAD, dtype=torch.long)
    tout = torch.full((len(bs), Tt), -1, dtype=torch.long)
    for b, (s, t) in enumerate(bs):
        src[b, :len(s)] = torch.tensor(s)
        tin[b, :len(t) + 1] = torch.tensor([BOS] + t)
        tout[b, :len(t) + 1] = torch.tensor(t + [EOS])
    return src, torch.tensor([len(s) for s, _ in bs]), tin, tout


def train(a):
    rng = random.Random(a.seed)
    S, T = read_pieces(a.train_src), read_pieces(a.train_tgt)
    assert len(S) == len(T), "source and target piece files differ in length"
    vs, vt = Vocab(S), Vocab(T)
    pairs = [(vs.ids(s), vt.ids(t)) for s, t in zip(S, T) if 0 < len(s) <= 64 and 0 < len(t) <= 64]
    rng.shuffle(pairs)
    nv = max(1, len(pairs) // 20)
    valid, train = pairs[:nv], pairs[nv:]
    per_epoch = sum(len(s) + len(t) + 1 for s, t in train)
    print(f"pairs\t{len(train)} training, {len(valid)} validation; vocab {len(vs.itos)}/{len(vt.itos)}")
    print(f"pieces per epoch\t{per_epoch}")
    shape = dict(E=a.embed, H=a.hidden, emb_dropout=a.emb_dropout, out_dropout=a.out_dropout)
    model = Seq2Seq(len(vs.itos), len(vt.itos), **shape)
    print(f"shape\tembed {a.embed}, hidden {a.hidden}, dropout embeddings {a.emb_dropout}, output "
          f"{a.out_dropout}, {sum(p.numel() for p in model.parameters())} parameters", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=0.002)
    t0, epochs, tokens, best, best_state = time.time(), 0, 0, float("inf"), None
    done = False
    while not done:
        model.train()
        for idx in batches(train, 32, rng):
            el = time.time() - t0
            if el >= a.seconds:
                done = True
                break
            lr = 0.0001 + 0.5 * (0.002 - 0.0001) * (1 + math.cos(math.pi * el / a.seconds))
            for g in opt.param_groups:
                g["lr"] = lr
            src, slen, tin, tout = tensors(train, idx)
            n = int((tout >= 0).sum())
            loss = model.loss(src, slen, tin, tout, 0.1) / n
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            tokens += int(slen.sum()) + n
        else:
            epochs += 1
        model.eval()
        with torch.no_grad():
            tot, cnt = 0.0, 0
            for i in range(0, len(valid), 32):
                src, slen, tin, tout = tensors(valid, range(i, min(i + 32, len(valid))))
                tot += float(model.loss(src, slen, tin, tout, 0.1))
                cnt += int((tout >= 0).sum())
        vl = tot / cnt
        print(f"epoch {epochs}{'+' if done else ''}: validation loss {vl:.4f} per target token", flush=True)
        if vl < best:
            best, best_state = vl, {k: v.clone() for k, v in model.state_dict().items()}
    train_secs = time.time() - t0
    print(f"epochs\t{epochs} whole (+ a part)")
    print(f"training\t{train_secs:.0f} s, {tokens / train_secs:.0f} tokens/s")
    print(f"best validation loss\t{best:.4f}")
    torch.save({"shape": shape, "src": vs.itos, "tgt": vt.itos, "state": best_state}, a.save)


def decode(a):
    ck = torch.load(a.model)
    vs, vt = Vocab(itos=ck["src"]), Vocab(itos=ck["tgt"])
    model = Seq2Seq(len(vs.itos), len(vt.itos), **ck["shape"])
    model.load_state_dict(ck["state"])
    model.eval()
    test = read_pieces(a.test_src)
    t1 = time.time()
    hyps = []
    if a.beam > 1:
        for s in test:
            ids = vs.ids(s)
            hyps.append(model.beam(ids, a.beam, a.len_alpha, math.ceil(3 * len(ids)) + 5) if ids else [])
    else:
        for i in range(0, len(test), a.batch):
            ids = [vs.ids(s) for s in test[i:i + a.batch]]
            real = [j for j, s in enumerate(ids) if s]
            outs = model.greedy([ids[j] for j in real]) if real else []
            got = [[] for _ in ids]
            for j, o in zip(real, outs):
                got[j] = o
            hyps += got
    lines = [detok([vt.itos[k] for k in o]) for o in hyps]
    dec_secs = time.time() - t1
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    how = f"beam {a.beam}, one at a time" if a.beam > 1 else ("greedy, one at a time" if a.batch == 1 else
                                                               f"greedy, --batch {a.batch}")
    print(f"decoding\t{len(test)} sentences, {len(test) / dec_secs:.1f} sentences/s ({how})")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--seconds", type=float, required=True)
    t.add_argument("--train-src", required=True)
    t.add_argument("--train-tgt", required=True)
    t.add_argument("--save", required=True)
    t.add_argument("--embed", type=int, default=256)
    t.add_argument("--hidden", type=int, default=256)
    t.add_argument("--emb-dropout", type=float, default=0.3)
    t.add_argument("--out-dropout", type=float, default=0.5)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=1)
    d = sub.add_parser("decode")
    d.add_argument("--model", required=True)
    d.add_argument("--test-src", required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--beam", type=int, default=1)
    d.add_argument("--batch", type=int, default=1)
    d.add_argument("--len-alpha", type=float, default=1.0)
    d.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.cmd == "train":
        torch.manual_seed(a.seed)
        train(a)
    else:
        decode(a)


if __name__ == "__main__":
    main()
