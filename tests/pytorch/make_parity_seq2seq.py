#!/usr/bin/env python3
"""Write the PyTorch parity fixtures of the translator's network in tests/data/parity/seq2seq_*.txt
(run from anywhere; needs torch):

    /usr/bin/python3 tests/pytorch/make_parity_seq2seq.py   # Debian's python3-torch 1.13

The network of tasks/translate/seq2seq.h, written with PyTorch's modules in float64: embeddings
(padding id 0), a bidirectional GRU encoder over packed variable-length sources, the bridge
h_0 = tanh(W_b mean(S) + b_b), a GRUCell decoder with input feeding, Luong "general" or Bahdanau
"additive" attention masked to the real source steps, a_t = tanh(W_c [ctx ; h] + b_c), the output
layer, and the summed cross-entropy with label smoothing over the real target tokens (teacher
forcing). The fixture holds the sizes, the batch, the flat parameter block in nlprnn's layout
(seq2seq.h), the loss and the gradient of the whole block. tests/test_translate.c reads them; it
does not need torch. Format as tests/pytorch/make_parity.py: '#' comments, one 'config ...' line,
then 'tensor NAME n' lines each followed by n numbers.
"""
import os
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "parity")
Vs, Vt, E, H, EH = 9, 8, 4, 4, 3  # EH: encoder units per direction (O = 6)
SRC_LEN, TGT_LEN = [5, 3, 1], [3, 1, 2]  # target tokens before <eos>
Ts, Tt, B = 5, 4, 3
BOS, EOS = 2, 3


def fmt(t):
    return " ".join("%.17g" % v for v in t.detach().reshape(-1).tolist())


def make(name, attention, smoothing, seed):
    g = torch.Generator().manual_seed(seed)
    O = 2 * EH

    def U(*shape):
        return ((torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1) * 0.6).requires_grad_()

    emb_s, emb_t = U(Vs, E), U(Vt, E)
    with torch.no_grad():
        emb_s[0].zero_()
        emb_t[0].zero_()
    enc = torch.nn.GRU(E, EH, bidirectional=True).double()
    with torch.no_grad():
        for p in enc.parameters():
            p.copy_((torch.rand(p.shape, generator=g, dtype=torch.float64) * 2 - 1) * 0.6)
    W_b, b_b = U(H, O), U(H)
    W_ih, W_hh, b_ih, b_hh = U(3 * H, E + H), U(3 * H, H), U(3 * H), U(3 * H)
    W_a = U(H, O)
    extra = [U(H, H), U(H), U(H)] if attention == "additive" else []  # W_q, b_q, v
    W_c, b_c = U(H, O + H), U(H)
    W_o, b_o = U(Vt, H), U(Vt)
    # the batch: sources of SRC_LEN ids in 5..8, targets of TGT_LEN ids in 4..7
    src = torch.zeros(Ts, B, dtype=torch.long)
    tin = torch.zeros(Tt, B, dtype=torch.long)
    tout = torch.full((Tt, B), -1, dtype=torch.long)
    for b in range(B):
        s = torch.randint(5, 9, (SRC_LEN[b],), generator=g)
        y = torch.randint(4, 8, (TGT_LEN[b],), generator=g)
        src[:SRC_LEN[b], b] = s
        tin[:TGT_LEN[b] + 1, b] = torch.cat([torch.tensor([BOS]), y])
        tout[:TGT_LEN[b] + 1, b] = torch.cat([y, torch.tensor([EOS])])
    # encoder
    x = F.embedding(src, emb_s, padding_idx=0)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(SRC_LEN), enforce_sorted=False)
    S, _ = enc(packed)
    S, _ = torch.nn.utils.rnn.pad_packed_sequence(S, total_length=Ts)  # (Ts,B,O), 0 at padding
    lens = torch.tensor(SRC_LEN, dtype=torch.float64)
    h = torch.tanh(S.sum(0) / lens[:, None] @ W_b.T + b_b)
    K = S @ W_a.T  # (Ts,B,H)
    mask = (torch.arange(Ts)[:, None] < torch.tensor(SRC_LEN)[None, :])  # (Ts,B)
    a = torch.zeros(B, H, dtype=torch.float64)
    loss = 0
    for t in range(Tt):
        xt = torch.cat([F.embedding(tin[t], emb_t, padding_idx=0), a], 1)
        gi, gh = xt @ W_ih.T + b_ih, h @ W_hh.T + b_hh
        r = torch.sigmoid(gi[:, :H] + gh[:, :H])
        z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        h = (1 - z) * n + z * h
        if attention == "general":
            e = (K * h[None]).sum(2)  # (Ts,B)
        else:
            W_q, b_q, v = extra
            e = (torch.tanh(K + (h @ W_q.T + b_q)[None]) * v).sum(2)
        alpha = torch.softmax(e.masked_fill(~mask, float("-inf")), 0)
        ctx = (alpha[:, :, None] * S).sum(0)
        a = torch.tanh(torch.cat([ctx, h], 1) @ W_c.T + b_c)
        zt = a @ W_o.T + b_o
        loss = loss + F.cross_entropy(zt, tout[t], ignore_index=-1, label_smoothing=smoothing, reduction="sum")
    enc_params = list(enc.parameters())  # PyTorch order = nlprnn's encoder layout
    blocks = [emb_s, emb_t] + enc_params + [W_b, b_b, W_ih, W_hh, b_ih, b_hh, W_a] + extra + [W_c, b_c, W_o, b_o]
    grads = torch.autograd.grad(loss, blocks)
    path = os.path.join(OUT, name + ".txt")
    with open(path, "w") as f:
        f.write("# nlprnn PyTorch parity fixture of the translator, written by tests/pytorch/make_parity_seq2seq.py\n")
        f.write("# torch %s, float64 reference; the flat block in the layout of tasks/translate/seq2seq.h\n"
                % torch.__version__)
        f.write("config attention=%s smoothing=%g Vs=%d Vt=%d embed=%d hidden=%d enc_hidden=%d Ts=%d Tt=%d B=%d\n"
                % (attention, smoothing, Vs, Vt, E, H, EH, Ts, Tt, B))

        def put(nm, t):
            t = torch.as_tensor(t)
            f.write("tensor %s %d\n%s\n" % (nm, t.numel(), fmt(t.double())))

        put("slen", torch.tensor(SRC_LEN))
        put("src", src)
        put("tin", tin)
        put("tout", tout)
        put("params", torch.cat([p.detach().reshape(-1) for p in blocks]))
        put("loss", loss.detach().reshape(1))
        put("d_params", torch.cat([gr.reshape(-1) for gr in grads]))
    print("wrote", os.path.relpath(path))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make("seq2seq_gru_general", "general", 0.1, 11)
    make("seq2seq_gru_additive", "additive", 0.0, 12)
