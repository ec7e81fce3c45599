#!/usr/bin/env python3
"""tests/python/test_nlprnn.py: the Python module (python/nlprnn) against the C library and the
program. Run by tests/test_python.c (NLPRNN_LIBRARY, PYTHONPATH, NLPRNN_CLI, NLPRNN_TESTDATA set);
every check that fails is printed and the exit status is 1."""
import json
import os
import subprocess
import sys
import tempfile

import nlprnn

CLI = os.environ["NLPRNN_CLI"]
DATA = os.environ.get("NLPRNN_TESTDATA", "data")
fails = 0
checks = 0


def check(ok, what):
    global fails, checks
    checks += 1
    if not ok:
        fails += 1
        print("FAIL:", what, file=sys.stderr)


def cli(*args, input=None):
    r = subprocess.run([CLI] + list(args), input=input, capture_output=True)
    return r.returncode, r.stdout.decode()


# version: the library the module loaded is the program's
rc, out = cli("--version")
check(out.strip() == "nlprnn " + nlprnn.version(), "version %r vs %r" % (nlprnn.version(), out))

# classifier: labels, probabilities equal to `nlprnn classify --format json`
texts = ["정말 재미있고 감동적인 영화였어요", "시간 낭비. 스토리도 연기도 최악", "그냥 그랬다"]
with nlprnn.Classifier("ko") as clf:
    check(clf.labels == ["negative", "positive"], "labels %r" % clf.labels)
    check(clf.data_labels == ["0", "1"], "data labels %r" % clf.data_labels)
    probs = clf.classify(texts, numpy=False)
    rc, out = cli("classify", "--lines", "--format", "json", input="\n".join(texts).encode())
    rows = [json.loads(line) for line in out.splitlines()]
    check(rc == 0 and len(rows) == 3, "classify json: %d %r" % (rc, out))
    for i, (p, r) in enumerate(zip(probs, rows)):
        for k, lab in enumerate(clf.labels):
            check(abs(p[k] - r["probabilities"][lab]) < 2e-6,
                  "text %d %s: module %.6f, program %.6f" % (i, lab, p[k], r["probabilities"][lab]))
        check(abs(sum(p) - 1) < 1e-5, "probabilities sum to %f" % sum(p))
    best = clf.predict(texts)
    check([b[0] for b in best] == [r["label"] for r in rows], "predict %r" % best)
    top2 = clf.predict(texts[:1], k=2)[0]
    check(len(top2) == 2 and top2[0][1] >= top2[1][1], "predict k=2 %r" % top2)
    try:
        import numpy
        a = clf.classify(texts)
        check(isinstance(a, numpy.ndarray) and a.shape == (3, 2), "numpy result %r" % type(a))
    except ImportError:
        check(isinstance(clf.classify(texts), list), "without numpy: lists")
    # errors carry the C error record
    try:
        clf.classify(["좋아", b"abc\xffdef"])
        check(False, "invalid UTF-8 accepted")
    except nlprnn.Error as e:
        check(e.name == "NLPRNN_E_UTF8" and e.code < 0 and e.offset == 3 and "text 1" in str(e),
              "utf8 error: %s %d %d %s" % (e.name, e.code, e.offset, e))
    try:
        clf.classify(["   "])
        check(False, "empty text accepted")
    except nlprnn.Error as e:
        check(e.name == "NLPRNN_E_EMPTY", "empty: %s" % e.name)
try:
    nlprnn.Classifier(os.path.join(DATA, "clf_test.tsv"))
    check(False, "a TSV file loaded as a model")
except nlprnn.Error as e:
    check(e.name == "NLPRNN_E_MAGIC" and "clf_test.tsv" in e.message, "not a model: %s %s" % (e.name, e))

# language model: the same numbers as `nlprnn fill --format json` (one meaning of the scores)
q = "난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다."
with nlprnn.LanguageModel("ko") as lm:
    ans = lm.fill(q, k=3)
    rc, out = cli("fill", "--top", "3", "--format", "json", q)
    ref = json.loads(out)["answers"] if rc == 0 else []
    check(len(ans) == 3 and [a[0] for a in ans] == [r["text"] for r in ref], "fill %r vs %r" % (ans, ref))
    for a, r in zip(ans, ref):
        check(abs(a[1] - r["probability"]) < 1e-6 and abs(a[2] - r["score"]) < 1e-6,
              "fill %s: %r vs %r" % (a[0], a, r))
    cands = lm.fill(q, candidates=["극장", "영화관", "집"], k=3)
    check(sorted(c[0] for c in cands) == ["극장", "영화관", "집"] and abs(sum(c[1] for c in cands) - 1) < 1e-9,
          "fill candidates %r" % cands)
    nx = lm.next("이 영화 정말", k=2)
    check(len(nx) == 2 and nx[0][1] >= nx[1][1] > 0, "next %r" % nx)
    try:
        lm.fill("빈칸이 없는 문장")
        check(False, "no blank accepted")
    except nlprnn.Error as e:
        check(e.name == "NLPRNN_E_DATA" and "no blank" in e.message, "no blank: %s" % e)

# tokenizer: ids as `nlprnn tokenize --ids`, offsets into the UTF-8 bytes
text = "정말 재밌다, 최고!"
tok = nlprnn.Tokenizer("ko")
enc = tok.encode(text)
tf = tempfile.NamedTemporaryFile(suffix=".tok", delete=False)
tf.close()
rc, _ = cli("export", "ko", "-o", tf.name + ".st", "--tokenizer-out", tf.name)
rc2, out = cli("tokenize", "--tokenizer", tf.name, "--ids", text)
check(rc == 0 and rc2 == 0 and [e[0] for e in enc] == [int(x) for x in out.split()],
      "ids %r vs %r" % (enc, out))
raw = text.encode()
for i, p, b, e in enc:
    check(0 <= b < e <= len(raw) and raw[b:e].decode() == p.replace("▁", ""),
          "offsets of %r: %d..%d %r" % (p, b, e, raw[b:e]))
check(len(tok) == 16000 and tok.piece(enc[0][0]) == enc[0][1], "vocab / piece")
tok.close()
for f in (tf.name, tf.name + ".st"):
    os.unlink(f)

# training with a progress callback; returning True stops it
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "m.nrm")
    seen = []
    small = {"vocab": 300, "embed": 8, "hidden": 8, "epochs": 2, "batch": 16, "threads": 1,
             "seed": 7, "patience": 0, "label-names": "0=neg,1=pos"}
    nlprnn.train(os.path.join(DATA, "clf_train.tsv"), out, small, progress=seen.append)
    ends = [p for p in seen if p["phase"] == 2]
    check(len(ends) == 2 and ends[-1]["epoch"] == 2 and ends[-1]["loss"] > 0, "progress %r" % ends)
    check(any(p["phase"] == 1 and p["batches"] > 0 for p in seen), "no step records")
    with nlprnn.Classifier(out) as m:
        check(m.labels == ["neg", "pos"] and m.data_labels == ["0", "1"], "trained labels %r" % m.labels)
    try:
        nlprnn.train(os.path.join(DATA, "clf_train.tsv"), os.path.join(d, "x.nrm"), small,
                     progress=lambda p: p["phase"] == 1)
        check(False, "training did not stop")
    except nlprnn.Error as e:
        check(e.name == "NLPRNN_E_INTERRUPTED", "stop: %s" % e)
    check(not os.path.exists(os.path.join(d, "x.nrm")), "a stopped training wrote its model")
    try:
        nlprnn.train(os.path.join(DATA, "clf_train.tsv"), out, {"hidden": "many"})
        check(False, "bad parameter accepted")
    except nlprnn.Error as e:
        check(e.name == "NLPRNN_E_INVALID_ARG" and "hidden" in e.message, "bad param: %s" % e)

print("test_nlprnn.py: %d checks, %d failed" % (checks, fails))
sys.exit(1 if fails else 0)
