#!/usr/bin/python3
"""bench/translate_torch.py: the PyTorch peer of nlprnn's translator (docs/translate.md).

The shape scripts/train-translate.sh trained before its recipe became 256 wide: embeddings 128; a
bidirectional GRU encoder of 64 units per direction (outputs S of 128); the bridge
h_0 = tanh(W_b mean(S) + b_b) over the real source steps; one GRU decoder layer of 128 with input
feeding (x_t = [emb(y_{t-1}) ; a_{t-1}]); Luong "general" attention e = h . W_a S_s, masked
softmax, ctx = sum alpha S; a_t = tanh(W_c [ctx ; h_t] + b_c); output Linear(128, Vt);
cross-entropy with label smoothing 0.1 over the real target tokens (teacher forcing, <eos> at the
end). Adam, lr 0.002 following a cosine to 0.0001 over the time budget, clip 5, batches of 32
pairs (shuffled, in blocks of 64 batches sorted by source length), 5% of the pairs held out
(validation loss per target token after each epoch; the best epoch's weights are kept), pairs
with more than 64 pieces on a side left out; training stops when the time budget is spent.

Pieces: the ones nlprnn's tokenizers give (bench/run_translate.sh writes them with
`nlprnn tokenize`, one line of space-separated pieces per text). Then greedy decoding of the test
sources one at a time (at most ceil(3 * source pieces) + 5 pieces, as nlprnn's default), the
pieces joined back into text ('\u2581' = space, <0xNN> = a byte), one line per test pair, for
`nlprnn translate-eval --hyp`.

Prints: pairs, pieces per epoch, epochs, training tokens/s (source + target pieces + <eos> per
second of training), best validation loss, decoding sentences/s.

usage: bench/translate_torch.py --seconds S --train-src F --train-tgt F --test-src F --out HYP
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
    def __init__(self, seqs):
        self.itos = ["<pad>", "<unk>", "<bos>", "<eos>"]
        self.stoi = {}
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
    def __init__(self, Vs, Vt, E=128, H=128):
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

    def encode(self, src, slen):
        # src (B,Ts), slen (B): S (B,Ts,O) zero at padded steps, keys, mask, h_0
        x = self.emb_s(src)
        packed = nn.utils.rnn.pack_padded_sequence(x, slen.cpu(), batch_first=True, enforce_sorted=False)
        S, _ = self.enc(packed)
        S, _ = nn.utils.rnn.pad_packed_sequence(S, batch_first=True, total_length=src.size(1))
        mask = src != PAD
        m = S.sum(1) / slen.unsqueeze(1).float()
        h = torch.tanh(self.bridge(m))
        return S, self.W_a(S), mask, h

    def step(self, y, h, a, S, K, mask):
        h = self.dec(torch.cat([self.emb_t(y), a], 1), h)
        e = torch.bmm(K, h.unsqueeze(2)).squeeze(2).masked_fill(~mask, float("-inf"))
        alpha = torch.softmax(e, 1)
        ctx = torch.bmm(alpha.unsqueeze(1), S).squeeze(1)
        a = torch.tanh(self.W_c(torch.cat([ctx, h], 1)))
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
    def greedy(self, src_ids, max_len):
        src = torch.tensor([src_ids])
        S, K, mask, h = self.encode(src, torch.tensor([len(src_ids)]))
        a = torch.zeros(1, self.H)
        y, out = torch.tensor([BOS]), []
        for t in range(max_len + 1):
            h, a = self.step(y, h, a, S, K, mask)
            z = self.out(a)[0]
            z[PAD] = z[BOS] = float("-inf")
            k = EOS if t == max_len else int(torch.argmax(z))
            if k == EOS:
                break
            out.append(k)
            y = torch.tensor([k])
        return out


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--train-src", required=True)
    ap.add_argument("--train-tgt", required=True)
    ap.add_argument("--test-src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
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
    model = Seq2Seq(len(vs.itos), len(vt.itos))
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
    model.load_state_dict(best_state)
    model.eval()
    test = read_pieces(a.test_src)
    t1 = time.time()
    with open(a.out, "w", encoding="utf-8") as f:
        for s in test:
            ids = vs.ids(s)
            out = model.greedy(ids, math.ceil(3 * len(ids)) + 5) if ids else []
            f.write(detok([vt.itos[k] for k in out]) + "\n")
    dec_secs = time.time() - t1
    print(f"epochs\t{epochs} whole (+ a part)")
    print(f"training\t{train_secs:.0f} s, {tokens / train_secs:.0f} tokens/s")
    print(f"best validation loss\t{best:.4f}")
    print(f"decoding\t{len(test)} sentences, {len(test) / dec_secs:.1f} sentences/s (greedy, one at a time)")


if __name__ == "__main__":
    main()
