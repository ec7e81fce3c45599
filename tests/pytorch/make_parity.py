#!/usr/bin/env python3
"""Write the PyTorch parity fixtures in tests/data/parity/ (run from anywhere; needs torch).

    /usr/bin/python3 tests/pytorch/make_parity.py   # Debian's python3-torch 1.13

For nn.RNN (tanh), nn.LSTM and nn.GRU: 1 layer over full-length sequences and 2 stacked
bidirectional layers over variable-length sequences (pack_padded_sequence, enforce_sorted=False),
with random initial states. The reference is computed in float64, so it is the exact answer that a
float32 implementation must approach. Loss = sum(out * r_out) + sum(h_n * r_hn) [+ sum(c_n * r_cn)];
the fixture holds inputs, weights (in PyTorch parameter order, which is nlprnn's flat layout), the
outputs (zeros at padded steps), final states and every gradient. tests/test_parity.c reads them;
it does not need torch.

Format (text): '#' comment lines, one 'config key=value ...' line, then per tensor a header line
'tensor NAME n' followed by n numbers on one line.
"""
import os
import torch

torch.manual_seed(20240607)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "parity")

CASES = [
    # name, cell, layers, bidirectional, lengths (None = full)
    ("rnn_l1", "rnn", 1, False, None),
    ("lstm_l1", "lstm", 1, False, None),
    ("gru_l1", "gru", 1, False, None),
    ("rnn_l2_bidi_len", "rnn", 2, True, [5, 3, 1]),
    ("lstm_l2_bidi_len", "lstm", 2, True, [5, 3, 1]),
    ("gru_l2_bidi_len", "gru", 2, True, [2, 5, 4]),
]
T, B, I, H = 5, 3, 3, 4


def fmt(t):
    return " ".join("%.17g" % v for v in t.detach().reshape(-1).tolist())


def make(name, cell, layers, bidi, lengths):
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    m = cls(I, H, num_layers=layers, bidirectional=bidi).double()
    with torch.no_grad():  # non-trivial biases and weights
        for p in m.parameters():
            p.uniform_(-0.6, 0.6)
    dirs = 2 if bidi else 1
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    h0 = (0.5 * torch.randn(layers * dirs, B, H, dtype=torch.float64)).requires_grad_()
    c0 = (0.5 * torch.randn(layers * dirs, B, H, dtype=torch.float64)).requires_grad_()
    lens = lengths or [T] * B
    state = (h0, c0) if cell == "lstm" else h0
    if lengths:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lens), enforce_sorted=False)
        po, st = m(packed, state)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(po, total_length=T)
    else:
        out, st = m(x, state)
    hn, cn = (st if cell == "lstm" else (st, None))
    r_out = torch.randn_like(out)
    r_hn = torch.randn_like(hn)
    loss = (out * r_out).sum() + (hn * r_hn).sum()
    r_cn = None
    if cell == "lstm":
        r_cn = torch.randn_like(cn)
        loss = loss + (cn * r_cn).sum()
    params = list(m.parameters())
    grads = torch.autograd.grad(loss, params + [x, h0] + ([c0] if cell == "lstm" else []))
    path = os.path.join(OUT, name + ".txt")
    with open(path, "w") as f:
        f.write("# nlprnn PyTorch parity fixture, written by tests/pytorch/make_parity.py\n")
        f.write("# torch %s, float64 reference; parameters in PyTorch order: %s\n"
                % (torch.__version__, " ".join(n for n, _ in m.named_parameters())))
        f.write("config cell=%s layers=%d bidirectional=%d input=%d hidden=%d T=%d B=%d\n"
                % (cell, layers, int(bidi), I, H, T, B))

        def put(n, t):
            t = torch.as_tensor(t)
            f.write("tensor %s %d\n%s\n" % (n, t.numel(), fmt(t)))

        put("lengths", torch.tensor(lens, dtype=torch.float64))
        put("params", torch.cat([p.detach().reshape(-1) for p in params]))
        put("x", x)
        put("h0", h0)
        put("c0", c0)
        put("out", out)
        put("hn", hn)
        if cell == "lstm":
            put("cn", cn)
        put("r_out", r_out)
        put("r_hn", r_hn)
        if cell == "lstm":
            put("r_cn", r_cn)
        np_ = len(params)
        put("d_params", torch.cat([g.reshape(-1) for g in grads[:np_]]))
        put("dx", grads[np_])
        put("dh0", grads[np_ + 1])
        if cell == "lstm":
            put("dc0", grads[np_ + 2])
    print("wrote", os.path.relpath(path))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for c in CASES:
        make(*c)
