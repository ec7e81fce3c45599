#!/usr/bin/env python3
"""scripts/translate-lm-corpora.py CORPORA OUTDIR

Monolingual text for pretraining the ko-en translator's encoder and decoder as language models
(docs/experiments/translate.md, "Choosing the recipe", tenth round): short lines, as tatoeba's everyday
sentences are short, and none of the parallel sets (their test sides must not be seen).

  OUTDIR/ko-lm.txt  lines of 4..40 characters of nsmc/lm_train.txt.gz (movie reviews),
                    ko-text/korsts.ko.txt.gz and ko-text/kornli-xnli.ko.txt.gz (trimmed,
                    de-duplicated, sorted, then shuffled with random.Random(1))
  OUTDIR/en-lm.txt  sentences of 10..100 characters: the sst2/train.tsv.gz phrases and the
                    imdb/train.tsv.gz reviews cut after . ! or ? followed by white space
                    ("<br />" removed first); de-duplicated, sorted, shuffled the same way

CORPORA is ../shared/corpora. Prints the two line counts.
"""
import gzip
import random
import re
import sys


def lines(path):
    with gzip.open(path, 'rt', encoding='utf-8') as f:
        for line in f:
            yield line.strip()


def column(path, name='document'):
    with gzip.open(path, 'rt', encoding='utf-8') as f:
        k = f.readline().rstrip('\n').split('\t').index(name)
        for line in f:
            yield line.rstrip('\n').split('\t')[k]


def write(path, texts):
    texts = sorted(texts)
    random.Random(1).shuffle(texts)
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(texts) + '\n')
    return len(texts)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    c, out = sys.argv[1].rstrip('/') + '/', sys.argv[2].rstrip('/') + '/'
    ko = set()
    for p in ('nsmc/lm_train.txt.gz', 'ko-text/korsts.ko.txt.gz', 'ko-text/kornli-xnli.ko.txt.gz'):
        ko.update(t for t in lines(c + p) if 4 <= len(t) <= 40)
    en = set(t for t in column(c + 'sst2/train.tsv.gz') if 10 <= len(t) <= 100)
    cut = re.compile(r'(?<=[.!?])\s+')
    for review in column(c + 'imdb/train.tsv.gz'):
        for s in cut.split(review.replace('<br />', ' ').replace('<br/>', ' ')):
            s = s.strip()
            if 10 <= len(s) <= 100:
                en.add(s)
    print(write(out + 'ko-lm.txt', ko), write(out + 'en-lm.txt', en))


if __name__ == '__main__':
    main()
