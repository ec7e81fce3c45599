#!/usr/bin/env python3
"""Make the classifier test fixture: tiny Korean/English sentiment TSVs (id, document, label).

Deterministic (seeded). Positive reviews carry words from POS, negative from NEG, both mixed with
neutral filler; a few reviews negate ("안 좋다" style is not modelled: labels follow the majority of
polar words), so a small RNN learns the task to ~100% in a few seconds.
    python3 tests/data/make_clf_fixture.py   # writes clf_train.tsv, clf_test.tsv next to itself
"""
import os
import random

POS = ["최고", "재밌다", "감동", "좋아요", "훌륭한", "great", "loved", "wonderful", "강추", "명작"]
NEG = ["최악", "지루", "별로", "실망", "돈아깝다", "awful", "boring", "hated", "쓰레기", "노잼"]
FILLER = ["영화", "배우", "연기", "스토리", "그냥", "정말", "진짜", "이", "the", "movie", "film",
          "음악", "장면", "감독", "오늘", "봤는데", "너무", "조금", "한번", "다시"]


def review(rng, label):
    polar = POS if label == 1 else NEG
    words = [rng.choice(FILLER) for _ in range(rng.randint(2, 9))]
    for _ in range(rng.randint(1, 2)):
        words.insert(rng.randint(0, len(words)), rng.choice(polar))
    return " ".join(words) + rng.choice(["", ".", "!", "..", " ㅋㅋ", " ㅠㅠ"])


def write(path, n, seed):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        f.write("id\tdocument\tlabel\n")
        for i in range(n):
            label = rng.randint(0, 1)
            f.write(f"{i}\t{review(rng, label)}\t{label}\n")


here = os.path.dirname(os.path.abspath(__file__))
write(os.path.join(here, "clf_train.tsv"), 600, 1)
write(os.path.join(here, "clf_test.tsv"), 200, 2)
