#!/usr/bin/env python3
"""PyTorch's side of tests/test_interop_torch.c (needs torch: Debian's python3-torch).

    make-clf OUT.safetensors IDS REF key=value...   build a classifier in PyTorch (seeded), write
                                                    it with the small writer below, and write its
                                                    class probabilities for every line of IDS
    run-clf  IN.safetensors IDS REF                 read a classifier written by `nlprnn export`
                                                    with the small reader below, rebuild it from
                                                    __metadata__, load_state_dict(strict=True), and
                                                    write its probabilities for IDS
    make-lm / run-lm                                the same for language models: REF gets, per
                                                    line, log p(<bos> ids <eos>) of the forward
                                                    network and, when there is one, of the
                                                    backward network over the reversed ids

    jobs FILE                                       the lines of FILE, each "MODE FILE IDS REF
                                                    key=value...", in one process

IDS: one document a line, token ids separated by spaces (the nlprnn tokenizer's ids). The
references are computed in float64 from the float32 weights, so they are the exact answers a
float32 implementation must approach. The safetensors reader and writer are written here on
purpose (not the safetensors package): they show how little the format is.

make-* keys: cell=rnn|lstm|gru layers= bidirectional=0|1 vocab= embed= hidden= classes=
pool=last|mean|max seed= names=torch|custom (custom: the modules are called emb/encoder/head, to
test that nlprnn finds them by shape) meta=all|none  tied=0|1 backward=0|1 (lm).
"""
import json
import struct
import sys

import numpy as np
import torch

BOS, EOS = 2, 3


def st_write(path, tensors, meta):
    header, blobs, off = {}, [], 0
    if meta:
        header["__metadata__"] = meta
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().to(torch.float32).numpy(), dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def st_read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        a = np.frombuffer(data[8 + n + b:8 + n + e], dtype="<f4").reshape(info["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out, meta


RNN = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class Classifier(torch.nn.Module):
    """embedding -> recurrent module -> pooling over time -> linear -> softmax (nlprnn's)."""

    def __init__(self, c, names="torch"):
        super().__init__()
        V, E, H, L = int(c["vocab"]), int(c["embed"]), int(c["hidden"]), int(c["layers"])
        self.bidi, self.H, self.pool = int(c["bidirectional"]) == 1, H, c["pool"]
        self.names = names
        emb = torch.nn.Embedding(V, E)
        rnn = RNN[c["cell"]](E, H, num_layers=L, bidirectional=self.bidi, batch_first=True)
        fc = torch.nn.Linear(H * (2 if self.bidi else 1), int(c["classes"]))
        if names == "torch":
            self.embedding, self.rnn, self.fc = emb, rnn, fc
        else:
            self.emb, self.encoder, self.head = emb, rnn, fc

    def parts(self):
        if self.names == "torch":
            return self.embedding, self.rnn, self.fc
        return self.emb, self.encoder, self.head

    def forward(self, ids):
        emb, rnn, fc = self.parts()
        out, _ = rnn(emb(torch.tensor([ids])))
        out = out[0]  # (T, O)
        H = self.H
        if self.pool == "last":  # forward half at the last step, reverse half at step 0
            feat = torch.cat([out[-1, :H], out[0, H:]]) if self.bidi else out[-1]
        elif self.pool == "mean":
            feat = out.mean(0)
        else:
            feat = out.max(0).values
        return torch.softmax(fc(feat), -1)


class Net(torch.nn.Module):
    """One language-model network: embedding -> LSTM/GRU -> decoder (PyTorch's word LM)."""

    def __init__(self, c):
        super().__init__()
        V, E, H, L = int(c["vocab"]), int(c["embed"]), int(c["hidden"]), int(c["layers"])
        self.embedding = torch.nn.Embedding(V, E)
        self.rnn = RNN[c["cell"]](E, H, num_layers=L, batch_first=True)
        self.decoder = torch.nn.Linear(H, V)
        if int(c.get("tied", 0)):
            self.decoder.weight = self.embedding.weight

    def logprob(self, seq):
        out, _ = self.rnn(self.embedding(torch.tensor([seq[:-1]])))
        lp = torch.log_softmax(self.decoder(out[0]), -1)
        return sum(lp[t, seq[t + 1]].item() for t in range(len(seq) - 1))


class LM(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        fwd = Net(c)
        self.embedding, self.rnn, self.decoder = fwd.embedding, fwd.rnn, fwd.decoder
        self.fwd = [fwd]  # not a submodule: its parameters are ours already
        if int(c.get("backward", 0)):
            self.backward = Net(c)

    def scores(self, ids):
        r = [self.fwd[0].logprob([BOS] + ids + [EOS])]
        if hasattr(self, "backward"):
            r.append(self.backward.logprob([BOS] + ids[::-1] + [EOS]))
        return r


def read_ids(path):
    with open(path) as f:
        return [[int(x) for x in line.split()] for line in f if line.strip()]


def write_ref(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(" ".join("%.17g" % float(v) for v in r) + "\n")


def tensors_of(model):
    """state_dict() without duplicates of a tied weight's storage (safetensors shares none): a
    tied decoder.weight is written as its own copy, which is what nlprnn reads as tied."""
    return {k: v.clone() for k, v in model.state_dict().items()}


def run(mode, path, ids_path, ref_path, keys):
    c = dict(a.split("=", 1) for a in keys)
    torch.manual_seed(int(c.get("seed", 1)))
    ids = read_ids(ids_path)
    if mode == "make-clf":
        model = Classifier(c, c.get("names", "torch"))
        meta = {} if c.get("meta") == "none" else {
            "kind": "classifier", "pool": c["pool"], "labels": "\n".join(
                "class%d" % i for i in range(int(c["classes"])))}
        st_write(path, tensors_of(model), meta)
        model = model.double()
        with torch.no_grad():
            write_ref(ref_path, [model(x).tolist() for x in ids])
    elif mode == "run-clf":
        sd, meta = st_read(path)
        model = Classifier(meta)
        model.load_state_dict(sd, strict=True)
        model = model.double()
        with torch.no_grad():
            write_ref(ref_path, [model(x).tolist() for x in ids])
    elif mode == "make-lm":
        model = LM(c)
        st_write(path, tensors_of(model), {"kind": "lm"} if c.get("meta") != "none" else {})
        model = model.double()
        with torch.no_grad():
            write_ref(ref_path, [model.scores(x) for x in ids])
    elif mode == "run-lm":
        sd, meta = st_read(path)
        model = LM(meta)
        model.load_state_dict(sd, strict=True)
        model = model.double()
        with torch.no_grad():
            write_ref(ref_path, [model.scores(x) for x in ids])
    else:
        sys.exit("unknown mode " + mode)


def main():
    if sys.argv[1] == "jobs":  # one job a line (importing torch takes seconds: do it once)
        with open(sys.argv[2]) as f:
            for line in f:
                if line.strip():
                    a = line.split()
                    run(a[0], a[1], a[2], a[3], a[4:])
    else:
        run(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])


if __name__ == "__main__":
    main()
