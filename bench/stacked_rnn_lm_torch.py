"""Stacked-LSTM language model on the weekday toy corpus of tests/test_lm.c, in PyTorch, with
nlprnn's initialisation and training loop (docs/math.md, "Stacked LSTMs: a slow start").

    /usr/bin/python3 bench/stacked_rnn_lm_torch.py --layers 2 --seed 1 --bias zero

Corpus: 400 lines of 3..7 weekday words in cyclic order (as tests/test_lm.c, other random draws);
ids <bos> words <eos>, vocabulary 20 like nlprnn's word tokenizer for it (unused ids included).
Model: embedding E=32 tied with the output layer, L-layer nn.LSTM H=32, output bias.
--init nlprnn: embedding U(-s, s) (s = --emb-scale, nlprnn 0.05), W_ih Glorot uniform, W_hh
orthogonal, biases 0 except b_if = 1 (models/encoder.h); --init torch: PyTorch's defaults
(embedding N(0,1), LSTM U(-1/sqrt(H), 1/sqrt(H))).
--bias zero: output bias 0 (nlprnn's lm before 403d347); unigram: log unigram frequencies (after).
Training as nlprnn lm-train: Adam lr 0.01 decaying linearly to lr/10, global-norm clip 1, batch
16 (shuffled each epoch; lm-train also groups similar lengths), full softmax, mean cross-entropy
over real tokens, 40 epochs (1000 steps).
Prints the mean loss of every 50 steps and the first 50-step window with loss < 1.5 (the unigram
plateau is ~1.92 nats; the pattern's floor ~0.6).
"""
import math, random, sys, argparse
import torch
ap = argparse.ArgumentParser()
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--seed", type=int, default=3)
ap.add_argument("--bias", choices=["zero", "unigram"], default="zero")
ap.add_argument("--init", choices=["nlprnn", "torch"], default="nlprnn")
ap.add_argument("--emb-scale", type=float, default=0.05)
ap.add_argument("--lr", type=float, default=0.01)
ap.add_argument("--epochs", type=int, default=40)
ap.add_argument("--vocab", type=int, default=20)
a = ap.parse_args()
torch.manual_seed(a.seed); random.seed(a.seed); torch.set_num_threads(1)
D = ["월", "화", "수", "목", "금", "토", "일"]
def corpus(n, seed):
    r = random.Random(seed); out = []
    for _ in range(n):
        s = r.randrange(7); L = 3 + r.randrange(5)
        out.append([(s + j) % 7 for j in range(L)])
    return out
train = corpus(400, 1)
BOS, EOS, PAD = 7, 8, 9
V, E, H, B = a.vocab, 32, 32, 16
emb = torch.nn.Embedding(V, E, padding_idx=PAD)
lstm = torch.nn.LSTM(E, H, a.layers)
bias = torch.nn.Parameter(torch.zeros(V))
if a.init == "nlprnn":
    with torch.no_grad():
        emb.weight.uniform_(-a.emb_scale, a.emb_scale); emb.weight[PAD].zero_()
        for l in range(a.layers):
            wih = getattr(lstm, f"weight_ih_l{l}"); whh = getattr(lstm, f"weight_hh_l{l}")
            lim = math.sqrt(6.0 / (wih.shape[0] + wih.shape[1])); wih.uniform_(-lim, lim)
            torch.nn.init.orthogonal_(whh)
            getattr(lstm, f"bias_ih_l{l}").zero_(); getattr(lstm, f"bias_hh_l{l}").zero_()
            getattr(lstm, f"bias_ih_l{l}")[H:2 * H] = 1.0
if a.bias == "unigram":
    cnt = torch.zeros(V)
    for s in train:
        for w in s: cnt[w] += 1
        cnt[EOS] += 1
    with torch.no_grad(): bias.copy_(torch.log((cnt + 0.5) / (cnt.sum() + 0.5 * V)))
params = list(emb.parameters()) + list(lstm.parameters()) + [bias]
opt = torch.optim.Adam(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
steps_total = a.epochs * ((len(train) + B - 1) // B); step = 0; acc = 0.0; accn = 0; curve = []
for ep in range(a.epochs):
    order = list(range(len(train))); random.shuffle(order)
    for i in range(0, len(order), B):
        sents = [train[j] for j in order[i:i + B]]
        T = max(len(s) + 1 for s in sents)
        x = torch.full((T, len(sents)), PAD, dtype=torch.long); y = torch.full((T, len(sents)), -1, dtype=torch.long)
        lens = []
        for b, s in enumerate(sents):
            seq = [BOS] + s + [EOS]
            x[:len(seq) - 1, b] = torch.tensor(seq[:-1]); y[:len(seq) - 1, b] = torch.tensor(seq[1:]); lens.append(len(seq) - 1)
        packed = torch.nn.utils.rnn.pack_padded_sequence(emb(x), lens, enforce_sorted=False)
        out, _ = lstm(packed)
        h, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
        logits = h @ emb.weight.t() + bias
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1), ignore_index=-1)
        opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        for g in opt.param_groups: g["lr"] = a.lr * (1.0 - 0.9 * step / steps_total)
        opt.step(); step += 1
        acc += loss.item(); accn += 1
        if step % 50 == 0: curve.append(acc / accn); acc = 0.0; accn = 0
esc = next((50 * (k + 1) for k, v in enumerate(curve) if v < 1.5), None)
print(f"layers={a.layers} vocab={a.vocab} seed={a.seed} bias={a.bias} init={a.init}: loss every 50 steps " +
      " ".join(f"{v:.2f}" for v in curve) + f" | first step with loss<1.5: {esc}")
