"""nlprnn: Python bindings over the C library libnlprnn (ctypes; no build step, no network).

    import nlprnn
    clf = nlprnn.Classifier("ko")                 # a shipped model's name or a model file
    clf.labels                                    # ['negative', 'positive']
    clf.predict(["정말 재미있는 영화"])             # [('positive', 0.98...)]
    clf.classify(["...", "..."])                  # class probabilities, one list per text
    lm = nlprnn.LanguageModel("ko")
    lm.fill("난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다.", k=3)   # [(word, prob, score)]
    tok = nlprnn.Tokenizer("ko")                  # a tokenizer file, a model file, a shipped name
    tok.encode("정말 재밌다")                       # [(id, piece, begin, end)], byte offsets
    nlprnn.train("train.tsv", "mine.nrm", {"epochs": 2}, progress=print)
    sp = nlprnn.Spacer("ko")                      # Korean word spacing (a spacing tagger)
    sp.space("아버지가방에들어가신다")                # the text with the spaces the model puts
    tr = nlprnn.Translator("ko-en", beam=5)       # Korean -> English
    tr.translate("나는 학생입니다.")                  # an English sentence
    nlprnn.bleu(hyps, refs), nlprnn.chrf(hyps, refs)   # sacrebleu's defaults

A thin layer: every call is one C call (docs/api.md has the semantics; docs/python.md the
module). Errors raise nlprnn.Error carrying the C error record: code, name (e.g. "NLPRNN_E_UTF8"),
message, line and offset (-1 when not applicable). The library is found through
$NLPRNN_LIBRARY (a path to libnlprnn.so), then the library installed with this package
(cmake --install writes its path into nlprnn/_install.py), then the system's loader (ldconfig,
$LD_LIBRARY_PATH).

Threads: a Classifier / LanguageModel / Spacer / Tagger / Translator object owns one C context, so use one object per thread
(the models themselves are immutable in C, but each object loads its own copy).
"""
import ctypes
import ctypes.util
import os

__all__ = ["Error", "Classifier", "LanguageModel", "Tokenizer", "Spacer", "Tagger", "Translator",
           "train", "train_tagger", "train_spacer", "train_translator", "bleu", "chrf", "version", "library"]


def _load_library():
    tried = []
    env = os.environ.get("NLPRNN_LIBRARY")
    cands = [env] if env else []
    here = os.path.dirname(os.path.abspath(__file__))
    # installed by cmake --install: _install.py names the installed library relative to here
    try:
        from . import _install
        cands.append(os.path.normpath(os.path.join(here, _install.LIBRARY)))
    except ImportError:
        pass
    found = ctypes.util.find_library("nlprnn")
    if found:
        cands.append(found)
    cands.append("libnlprnn.so.1")  # the soname: the system's loader (ldconfig, LD_LIBRARY_PATH)
    for c in cands:
        try:
            return ctypes.CDLL(c)
        except OSError as e:
            tried.append("%s (%s)" % (c, e))
    raise ImportError("nlprnn: libnlprnn not found; set NLPRNN_LIBRARY to its path. Tried: " +
                      "; ".join(tried))


_lib = _load_library()
library = _lib._name

# ---- the C declarations used here (include/nlprnn/*.h) ------------------------------------------

_P = ctypes.c_void_p
_S = ctypes.c_char_p
_I = ctypes.c_int


class _CError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("reserved", ctypes.c_int), ("line", ctypes.c_longlong),
                ("offset", ctypes.c_longlong), ("message", ctypes.c_char * 488)]


class _Choice(ctypes.Structure):
    _fields_ = [("text", ctypes.c_char_p), ("prob", ctypes.c_double), ("score", ctypes.c_double)]


class _Progress(ctypes.Structure):  # nlprnn_classifier_progress (nlprnn/classifier.h)
    _fields_ = [("size", ctypes.c_size_t), ("phase", ctypes.c_int), ("message", ctypes.c_char_p),
                ("epoch", ctypes.c_int), ("epochs", ctypes.c_int), ("batch", ctypes.c_longlong),
                ("batches", ctypes.c_longlong), ("loss", ctypes.c_double),
                ("accuracy", ctypes.c_double), ("tokens_per_sec", ctypes.c_double),
                ("elapsed", ctypes.c_double), ("eta", ctypes.c_double),
                ("valid_loss", ctypes.c_double), ("valid_accuracy", ctypes.c_double),
                ("best_epoch", ctypes.c_int), ("improved", ctypes.c_int)]


_PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_Progress))


class _TaggerProgress(ctypes.Structure):  # nlprnn_tagger_progress (nlprnn/tagger.h)
    _fields_ = [("size", ctypes.c_size_t), ("phase", ctypes.c_int), ("message", ctypes.c_char_p),
                ("epoch", ctypes.c_int), ("epochs", ctypes.c_int), ("batch", ctypes.c_longlong),
                ("batches", ctypes.c_longlong), ("steps", ctypes.c_longlong),
                ("loss", ctypes.c_double), ("accuracy", ctypes.c_double),
                ("units_per_sec", ctypes.c_double), ("lr", ctypes.c_double),
                ("elapsed", ctypes.c_double), ("eta", ctypes.c_double),
                ("valid_loss", ctypes.c_double), ("valid_accuracy", ctypes.c_double),
                ("best_epoch", ctypes.c_int), ("improved", ctypes.c_int)]


class _TranslatorProgress(ctypes.Structure):  # nlprnn_translator_progress (nlprnn/translate.h)
    _fields_ = [("size", ctypes.c_size_t), ("phase", ctypes.c_int), ("message", ctypes.c_char_p),
                ("epoch", ctypes.c_int), ("epochs", ctypes.c_int), ("batch", ctypes.c_longlong),
                ("batches", ctypes.c_longlong), ("steps", ctypes.c_longlong),
                ("loss", ctypes.c_double), ("tokens_per_sec", ctypes.c_double),
                ("lr", ctypes.c_double), ("elapsed", ctypes.c_double), ("eta", ctypes.c_double),
                ("valid_loss", ctypes.c_double), ("best_epoch", ctypes.c_int),
                ("improved", ctypes.c_int)]


def _record(rec, struct):
    """A progress record as a dict: the fields its size reaches (NLPRNN_HAS_FIELD), message as
    text."""
    r = ctypes.cast(rec, ctypes.POINTER(struct)).contents
    d = {}
    for k, _ in struct._fields_:
        f = getattr(struct, k)
        if k != "size" and f.offset + f.size <= r.size:
            d[k] = getattr(r, k)
    if d.get("message") is not None:
        d["message"] = d["message"].decode("utf-8", "replace")
    return d


_E = ctypes.POINTER(_CError)


def _decl(name, res, *args):
    f = getattr(_lib, name)
    f.restype, f.argtypes = res, list(args)
    return f


_decl("nlprnn_version_string", _S)
_decl("nlprnn_status_name", _S, _I)
_decl("nlprnn_status_text", _S, _I)
_decl("nlprnn_free", None, _P)
_decl("nlprnn_classifier_load", _I, _S, ctypes.POINTER(_P), _E)
_decl("nlprnn_classifier_free", None, _P)
_decl("nlprnn_classifier_num_classes", _I, _P)
_decl("nlprnn_classifier_label", _S, _P, _I)
_decl("nlprnn_classifier_data_label", _S, _P, _I)
_decl("nlprnn_classifier_path", _S, _P)
_decl("nlprnn_classifier_summary", _S, _P)
_decl("nlprnn_classifier_tokenizer", _P, _P)
_decl("nlprnn_classifier_ctx_create", _I, _P, _I, ctypes.POINTER(_P), _E)
_decl("nlprnn_classifier_ctx_free", None, _P)
_decl("nlprnn_classify", _I, _P, _S, ctypes.c_size_t, ctypes.POINTER(ctypes.c_float),
      ctypes.POINTER(ctypes.c_size_t), _E)
_decl("nlprnn_classify_batch", _I, _P, ctypes.POINTER(_S), ctypes.POINTER(ctypes.c_size_t),
      ctypes.c_size_t, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int), _E)
_decl("nlprnn_classify_batch_errors", _I, _P, ctypes.POINTER(_S), ctypes.POINTER(ctypes.c_size_t),
      ctypes.c_size_t, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int), _E, _E)
_decl("nlprnn_lm_load", _I, _S, ctypes.POINTER(_P), _E)
_decl("nlprnn_lm_free", None, _P)
_decl("nlprnn_lm_tokenizer", _P, _P)
_decl("nlprnn_lm_ctx_create", _I, _P, ctypes.POINTER(_P), _E)
_decl("nlprnn_lm_ctx_free", None, _P)
_decl("nlprnn_lm_choices_free", None, ctypes.POINTER(_Choice), ctypes.c_size_t)
_decl("nlprnn_lm_fill_calibrated", _I, _P, _S, ctypes.c_size_t, ctypes.POINTER(_S),
      ctypes.c_size_t, _I, ctypes.c_double, ctypes.POINTER(ctypes.POINTER(_Choice)),
      ctypes.POINTER(ctypes.c_size_t), _E)
_decl("nlprnn_lm_next", _I, _P, _S, ctypes.c_size_t, _I, ctypes.POINTER(ctypes.POINTER(_Choice)),
      ctypes.POINTER(ctypes.c_size_t), _E)
_decl("nlprnn_tokenizer_load", _I, _S, ctypes.POINTER(_P), _E)
_decl("nlprnn_tokenizer_free", None, _P)
_decl("nlprnn_tokenizer_vocab_size", ctypes.c_int32, _P)
_decl("nlprnn_tokenizer_piece", _S, _P, ctypes.c_int32)
_decl("nlprnn_encoding_create", _I, ctypes.POINTER(_P), _E)
_decl("nlprnn_encoding_free", None, _P)
_decl("nlprnn_tokenizer_encode", _I, _P, _S, ctypes.c_size_t, _P, _E)
_decl("nlprnn_tokenizer_encode_sample", _I, _P, _S, ctypes.c_size_t, ctypes.c_uint, ctypes.c_double,
      ctypes.c_uint64, _P, _E)
_decl("nlprnn_encoding_size", ctypes.c_size_t, _P)
_decl("nlprnn_encoding_ids", ctypes.POINTER(ctypes.c_int32), _P)
_decl("nlprnn_encoding_offsets", ctypes.POINTER(ctypes.c_size_t), _P)
_decl("nlprnn_classifier_params_create", _I, ctypes.POINTER(_P), _E)
_decl("nlprnn_classifier_params_free", None, _P)
_decl("nlprnn_classifier_params_set", _I, _P, _S, _S, _E)
_decl("nlprnn_classifier_train", _I, _P, _S, _S, _S, _I, ctypes.POINTER(ctypes.c_int),
      _PROGRESS_FN, _P, _E)
# tagger.h: tagging and word spacing
_TAGGER_PROGRESS_FN = ctypes.CFUNCTYPE(_I, _P, _I, ctypes.c_double, ctypes.c_double)
_decl("nlprnn_tagger_params_create", _I, ctypes.POINTER(_P), _E)
_decl("nlprnn_tagger_params_free", None, _P)
_decl("nlprnn_tagger_params_set", _I, _P, _S, _S, _E)
_decl("nlprnn_tagger_train", _I, ctypes.POINTER(_S), _I, _P, _P, _TAGGER_PROGRESS_FN, _P,
      ctypes.POINTER(_P), _E)
_decl("nlprnn_tagger_train_ctl", _I, ctypes.POINTER(_S), _I, _P, _P,
      ctypes.CFUNCTYPE(_I, _P, _P), _P, ctypes.POINTER(_P), _E)
_decl("nlprnn_tagger_save", _I, _P, _S, _E)
_decl("nlprnn_tagger_save_stored", _I, _P, _S, _S, _E)
_decl("nlprnn_tagger_load", _I, _S, ctypes.POINTER(_P), _E)
_decl("nlprnn_tagger_free", None, _P)
_decl("nlprnn_tagger_is_spacing", _I, _P)
_decl("nlprnn_tagger_num_labels", _I, _P)
_decl("nlprnn_tagger_label", _S, _P, _I)
_decl("nlprnn_tagger_summary", _S, _P)
_decl("nlprnn_tagger_ctx_create", _I, _P, _I, ctypes.POINTER(_P), _E)
_decl("nlprnn_tagger_ctx_free", None, _P)
_decl("nlprnn_tag", _I, _P, ctypes.POINTER(_S), ctypes.c_size_t, ctypes.POINTER(_I),
      ctypes.POINTER(ctypes.c_float), _E)
_decl("nlprnn_space_batch", _I, _P, ctypes.POINTER(_S), ctypes.POINTER(ctypes.c_size_t),
      ctypes.c_size_t, ctypes.c_uint, ctypes.POINTER(_I), _E)
_decl("nlprnn_space", _I, _P, _S, ctypes.c_size_t, ctypes.c_uint, _E)
_decl("nlprnn_space_text", _S, _P, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t))
_decl("nlprnn_space_units", ctypes.c_size_t, _P, ctypes.c_size_t)
_decl("nlprnn_space_unit", _I, _P, ctypes.c_size_t, ctypes.c_size_t,
      ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_float), ctypes.POINTER(_I), _E)
# translate.h: translation and its scores
_TRANSLATE_PROGRESS_FN = ctypes.CFUNCTYPE(_I, _P, _I, ctypes.c_double, ctypes.c_double)
_decl("nlprnn_translator_params_create", _I, ctypes.POINTER(_P), _E)
_decl("nlprnn_translator_params_free", None, _P)
_decl("nlprnn_translator_params_set", _I, _P, _S, _S, _E)
_decl("nlprnn_translator_train", _I, _S, _P, _P, _TRANSLATE_PROGRESS_FN, _P, ctypes.POINTER(_P),
      _E)
_decl("nlprnn_translator_train_ctl", _I, _S, _P, _P, ctypes.CFUNCTYPE(_I, _P, _P), _P,
      ctypes.POINTER(_P), _E)
_decl("nlprnn_translator_save", _I, _P, _S, _E)
_decl("nlprnn_translator_save_stored", _I, _P, _S, _S, _E)
_decl("nlprnn_translator_load", _I, _S, ctypes.POINTER(_P), _E)
_decl("nlprnn_translator_load_ensemble", _I, ctypes.POINTER(_S), ctypes.c_size_t, ctypes.POINTER(_P), _E)
_decl("nlprnn_translator_members", _I, _P)
_decl("nlprnn_tagger_load_ensemble", _I, ctypes.POINTER(_S), ctypes.c_size_t, ctypes.POINTER(_P), _E)
_decl("nlprnn_tagger_members", _I, _P)
_decl("nlprnn_translator_free", None, _P)
_decl("nlprnn_translator_summary", _S, _P)
_decl("nlprnn_translator_column", _S, _P, _I)
_decl("nlprnn_translator_tokenizer", _P, _P, _I)
_decl("nlprnn_translator_ctx_create", _I, _P, ctypes.POINTER(_P), _E)
_decl("nlprnn_translator_ctx_free", None, _P)
_decl("nlprnn_translator_ctx_set", _I, _P, _I, ctypes.c_double, _E)
_decl("nlprnn_translator_get_default", _I, _P, _I, ctypes.POINTER(ctypes.c_double), _E)
_decl("nlprnn_translate", _I, _P, _S, ctypes.c_size_t, _E)
_decl("nlprnn_translate_text", _S, _P, ctypes.POINTER(ctypes.c_size_t))
_decl("nlprnn_translate_batch", _I, _P, ctypes.POINTER(_S), ctypes.POINTER(ctypes.c_size_t),
      ctypes.c_size_t, _E)
_decl("nlprnn_translate_batch_text", _S, _P, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t))
_decl("nlprnn_translate_logprob", ctypes.c_double, _P)
_decl("nlprnn_translate_src_len", ctypes.c_size_t, _P)
_decl("nlprnn_translate_tgt_len", ctypes.c_size_t, _P)
_decl("nlprnn_translate_piece", _S, _P, _I, ctypes.c_size_t)
_decl("nlprnn_translate_attention", ctypes.POINTER(ctypes.c_float), _P)
_decl("nlprnn_bleu", _I, ctypes.POINTER(_S), ctypes.POINTER(_S), ctypes.c_size_t,
      ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double), _E)
_decl("nlprnn_chrf", _I, ctypes.POINTER(_S), ctypes.POINTER(_S), ctypes.c_size_t,
      ctypes.POINTER(ctypes.c_double), _E)

_E_UNSUPPORTED = -13  # NLPRNN_E_UNSUPPORTED (nlprnn/base.h)
FILL_ALPHA = 0.1  # NLPRNN_LM_FILL_ALPHA, the calibration of nlprnn_lm_fill and `nlprnn fill`


class Error(Exception):
    """A failed library call: code (negative), name ("NLPRNN_E_UTF8"), message, line, offset."""

    def __init__(self, code, message, line=-1, offset=-1):
        self.code, self.message, self.line, self.offset = code, message, line, offset
        self.name = _lib.nlprnn_status_name(code).decode()
        super().__init__("%s (%s)" % (message, self.name))


def _check(rc, err):
    if rc != 0:
        raise Error(rc, err.message.decode("utf-8", "replace"), err.line, err.offset)


def _b(s):
    return s.encode("utf-8") if isinstance(s, str) else bytes(s)


def _path(p):
    return os.fsencode(p)


def version():
    """The C library's version, "MAJOR.MINOR.PATCH"."""
    return _lib.nlprnn_version_string().decode()


def _numpy():
    try:
        import numpy
        return numpy
    except ImportError:
        return None


class _Owned:
    """Frees C handles in order on close(), at the end of a `with` block, or when collected:
    self._owned is a list of [attribute, free function], the context before its model."""

    _owned = ()

    def close(self):
        for attr, free in self._owned:
            h = getattr(self, attr, None)
            if h:
                free(h)
                setattr(self, attr, None)

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def _texts(texts):
    """(list of UTF-8 bytes, was one text): a str or bytes is one text, else an iterable."""
    if isinstance(texts, (str, bytes, bytearray)):
        return [_b(texts)], True
    return [_b(t) for t in texts], False


class Classifier(_Owned):
    """A text classifier (nlprnn_classifier + one nlprnn_classifier_ctx). path_or_name: a model file, or a
    shipped model's name ("ko", "en")."""

    _owned = (("_ctx", _lib.nlprnn_classifier_ctx_free), ("_m", _lib.nlprnn_classifier_free))

    def __init__(self, path_or_name="ko", threads=1):
        err, h = _CError(), _P()
        _check(_lib.nlprnn_classifier_load(_path(path_or_name), ctypes.byref(h), ctypes.byref(err)),
               err)
        self._m, self._ctx = h, None
        ctx = _P()
        rc = _lib.nlprnn_classifier_ctx_create(h, threads, ctypes.byref(ctx), ctypes.byref(err))
        if rc:
            self.close()
            _check(rc, err)
        self._ctx = ctx
        C = _lib.nlprnn_classifier_num_classes(h)
        self.labels = [_lib.nlprnn_classifier_label(h, i).decode() for i in range(C)]
        self.data_labels = [_lib.nlprnn_classifier_data_label(h, i).decode() for i in range(C)]
        self.path = _lib.nlprnn_classifier_path(h).decode()
        self.summary = _lib.nlprnn_classifier_summary(h).decode()

    def classify(self, texts, numpy=None):
        """Class probabilities of each text (str or UTF-8 bytes), in the order of .labels: a
        list of lists, or an (n, C) numpy array when numpy is installed and numpy is not False.
        A text that is empty or not valid UTF-8 raises Error naming its index and byte offset."""
        texts = [_b(t) for t in texts]
        n, C = len(texts), len(self.labels)
        arr = (_S * max(n, 1))(*texts)
        lens = (ctypes.c_size_t * max(n, 1))(*[len(t) for t in texts])
        probs = (ctypes.c_float * max(n * C, 1))()
        status = (ctypes.c_int * max(n, 1))()
        doc_errs = (_CError * max(n, 1))()  # each text's error record (byte offset, line)
        err = _CError()
        _check(_lib.nlprnn_classify_batch_errors(self._ctx, arr, lens, n, probs, status, doc_errs,
                                                 ctypes.byref(err)), err)
        for i in range(n):
            if status[i]:
                e = doc_errs[i]
                msg = e.message.decode("utf-8", "replace") if e.code else \
                    _lib.nlprnn_status_text(status[i]).decode()
                raise Error(status[i], "text %d: %s" % (i, msg), e.line, e.offset)
        np = _numpy() if numpy is not False else None
        if np is not None:
            return np.ctypeslib.as_array(probs)[: n * C].reshape(n, C).copy()
        return [[probs[i * C + k] for k in range(C)] for i in range(n)]

    def predict(self, texts, k=1):
        """The k most probable (label, probability) pairs of each text, most probable first:
        a list of (label, probability) with k = 1, else a list of lists."""
        out = []
        for row in self.classify(texts, numpy=False):
            order = sorted(range(len(row)), key=lambda c: (-row[c], c))[:k]
            pairs = [(self.labels[c], row[c]) for c in order]
            out.append(pairs[0] if k == 1 else pairs)
        return out


def _choices(fn, *args):
    out, n, err = ctypes.POINTER(_Choice)(), ctypes.c_size_t(), _CError()
    _check(fn(*args, ctypes.byref(out), ctypes.byref(n), ctypes.byref(err)), err)
    try:
        return [(out[i].text.decode(), out[i].prob, out[i].score) for i in range(n.value)]
    finally:
        _lib.nlprnn_lm_choices_free(out, n.value)


class LanguageModel(_Owned):
    """A language model (nlprnn_lm + one nlprnn_lm_ctx): fill in the blank, next word."""

    _owned = (("_ctx", _lib.nlprnn_lm_ctx_free), ("_lm", _lib.nlprnn_lm_free))

    def __init__(self, path_or_name="ko"):
        err, h = _CError(), _P()
        _check(_lib.nlprnn_lm_load(_path(path_or_name), ctypes.byref(h), ctypes.byref(err)), err)
        self._lm, self._ctx = h, None
        ctx = _P()
        rc = _lib.nlprnn_lm_ctx_create(h, ctypes.byref(ctx), ctypes.byref(err))
        if rc:
            self.close()
            _check(rc, err)
        self._ctx = ctx

    def fill(self, text, candidates=None, k=5, calibrate=FILL_ALPHA):
        """Answers for the one blank ("___" or "[MASK]") of text, best first: a list of
        (text, probability, score). The probability is softmax(score) over every answer ranked
        (docs/lm.md), the same numbers as `nlprnn fill` and nlprnn_lm_fill."""
        t = _b(text)
        cands = [_b(c) for c in candidates] if candidates else []
        arr = (_S * len(cands))(*cands) if cands else None
        return _choices(_lib.nlprnn_lm_fill_calibrated, self._ctx, t, len(t), arr, len(cands), k,
                        calibrate)

    def next(self, prefix, k=5):
        """The k most probable next words after prefix: a list of (word, probability, log p)."""
        t = _b(prefix)
        return _choices(_lib.nlprnn_lm_next, self._ctx, t, len(t), k)


class Tokenizer:
    """A tokenizer: a tokenizer file, a model file holding one (a classifier, a language model or
    a translator: its source side's, or with target=True its target side's), or a shipped model's
    name."""

    def __init__(self, path_or_name="ko", target=False):
        self._tok, self._owner = None, None
        self._enc = None
        err, h = _CError(), _P()
        rc = _lib.nlprnn_tokenizer_load(_path(path_or_name), ctypes.byref(h), ctypes.byref(err))
        if rc == 0:
            self._tok = h
        else:  # a classifier, language model or translator file (or name), in the order of
            # `nlprnn tokenize -m`: its tokenizer
            for kind in (Classifier, LanguageModel, Translator):
                try:
                    self._owner = kind(path_or_name)
                    break
                except Error:
                    pass
            if self._owner is None:
                _check(rc, err)
            elif isinstance(self._owner, Translator):
                self._tok = _lib.nlprnn_translator_tokenizer(self._owner._t, 1 if target else 0)
            elif isinstance(self._owner, Classifier):
                self._tok = _lib.nlprnn_classifier_tokenizer(self._owner._m)
            else:
                self._tok = _lib.nlprnn_lm_tokenizer(self._owner._lm)
        if target and not isinstance(self._owner, Translator):
            self.close()
            raise ValueError("target=True: %s is not a translator (only a translator has a target "
                             "side)" % path_or_name)
        self._enc = _P()
        _check(_lib.nlprnn_encoding_create(ctypes.byref(self._enc), ctypes.byref(err)), err)

    def close(self):
        if getattr(self, "_enc", None):
            _lib.nlprnn_encoding_free(self._enc)
            self._enc = None
        if getattr(self, "_owner", None):
            self._owner.close()
        elif getattr(self, "_tok", None):
            _lib.nlprnn_tokenizer_free(self._tok)
        self._tok = self._owner = None

    __del__ = close

    def __len__(self):
        return _lib.nlprnn_tokenizer_vocab_size(self._tok)

    def piece(self, i):
        p = _lib.nlprnn_tokenizer_piece(self._tok, i)
        return p.decode() if p is not None else None

    def encode(self, text, dropout=0.0, seed=0):
        """[(id, piece, begin, end)]: begin/end are byte offsets into the UTF-8 text. dropout > 0:
        one sampled segmentation by BPE dropout (nlprnn_tokenizer_encode_sample: each merge
        skipped with that probability; the draws from seed), for subword regularisation."""
        t, err = _b(text), _CError()
        if dropout:
            _check(_lib.nlprnn_tokenizer_encode_sample(self._tok, t, len(t), 0, float(dropout), int(seed),
                                                       self._enc, ctypes.byref(err)), err)
        else:
            _check(_lib.nlprnn_tokenizer_encode(self._tok, t, len(t), self._enc, ctypes.byref(err)), err)
        n = _lib.nlprnn_encoding_size(self._enc)
        ids, off = _lib.nlprnn_encoding_ids(self._enc), _lib.nlprnn_encoding_offsets(self._enc)
        return [(ids[i], self.piece(ids[i]), off[2 * i], off[2 * i + 1]) for i in range(n)]


def train(train_path, out_path, params=None, valid_path=None, progress=None, resume=False):
    """Train a classifier (nlprnn_classifier_train) and save it to out_path. params: training
    parameters by name ({"epochs": 2, "hidden": 64, "label-names": "0=negative,1=positive"};
    nlprnn/classifier.h lists them). progress(p): called with a dict of the progress record
    (phase, message, epoch, epochs, batch, batches, loss, accuracy, valid_loss, ...); returning
    True stops training (a checkpoint is saved; Error NLPRNN_E_INTERRUPTED)."""
    p, err = _P(), _CError()
    _check(_lib.nlprnn_classifier_params_create(ctypes.byref(p), ctypes.byref(err)), err)
    failure = []

    def cb(user, rec):
        r = rec.contents
        d = {k: getattr(r, k) for k, _ in _Progress._fields_ if k != "size"}
        d["message"] = r.message.decode() if r.message else None
        try:
            return 1 if progress(d) else 0
        except BaseException as e:  # an exception cannot cross the C frames: stop, re-raise
            failure.append(e)
            return 1

    fn = _PROGRESS_FN(cb) if progress else _PROGRESS_FN()
    try:
        for k, v in (params or {}).items():
            _check(_lib.nlprnn_classifier_params_set(p, _b(k), _b(str(v)), ctypes.byref(err)), err)
        rc = _lib.nlprnn_classifier_train(p, _path(train_path),
                                          _path(valid_path) if valid_path else None,
                                          _path(out_path), 1 if resume else 0, None, fn, None,
                                          ctypes.byref(err))
        if failure:
            raise failure[0]
        _check(rc, err)
    finally:
        _lib.nlprnn_classifier_params_free(p)


# ---- word spacing and tagging (nlprnn/tagger.h) --------------------------------------------------

class _TaggerBase(_Owned):
    _owned = (("_ctx", _lib.nlprnn_tagger_ctx_free), ("_t", _lib.nlprnn_tagger_free))

    def __init__(self, path_or_name, threads, spacing):
        err, h, ctx = _CError(), _P(), _P()
        if isinstance(path_or_name, (list, tuple)):  # an ensemble: the mean of the members' probabilities
            names = [_path(p) for p in path_or_name]
            _check(_lib.nlprnn_tagger_load_ensemble((_S * max(len(names), 1))(*names), len(names),
                                                    ctypes.byref(h), ctypes.byref(err)), err)
        else:
            _check(_lib.nlprnn_tagger_load(_path(path_or_name), ctypes.byref(h), ctypes.byref(err)), err)
        self._t, self._ctx = h, None
        if _lib.nlprnn_tagger_is_spacing(h) != spacing:
            self.close()
            what = "a spacing model" if spacing else "a token tagger"
            raise Error(_E_UNSUPPORTED, "%s: not %s (use %s)" % (
                path_or_name, what, "Tagger" if spacing else "Spacer"))
        rc = _lib.nlprnn_tagger_ctx_create(h, threads, ctypes.byref(ctx), ctypes.byref(err))
        if rc:
            self.close()
            _check(rc, err)
        self._ctx = ctx
        self.labels = [_lib.nlprnn_tagger_label(h, i).decode()
                       for i in range(_lib.nlprnn_tagger_num_labels(h))]
        self.summary = _lib.nlprnn_tagger_summary(h).decode()
        self.members = _lib.nlprnn_tagger_members(h)

    def save(self, path, store=None):
        """Write the model to a model file (atomically); an ensemble becomes one file that holds
        every member (what `nlprnn space-pack` writes). store: None or "keep" (each member as it
        was stored), "f32" or "f16" (space-pack --store; no int8 for taggers)."""
        err = _CError()
        _check(_lib.nlprnn_tagger_save_stored(self._t, _path(path), None if store is None else _b(store),
                                              ctypes.byref(err)), err)


class Spacer(_TaggerBase):
    """Korean word spacing (a spacing model: nlprnn_tagger + one nlprnn_tagger_ctx).
    path_or_name: a model file, or a shipped model's name ("ko" stands for "ko-space"), or a list
    of them: an ensemble (same units) whose probabilities of a space are averaged per character
    (a packed ensemble file, `nlprnn space-pack`, is one name). members: how many models it holds."""

    def __init__(self, path_or_name="ko", threads=1):
        super().__init__(path_or_name, threads, 1)

    def _run(self, texts, keep_spaces):
        n = len(texts)
        arr = (_S * max(n, 1))(*texts)
        lens = (ctypes.c_size_t * max(n, 1))(*[len(t) for t in texts])
        status, err = (_I * max(n, 1))(), _CError()
        flags = 1 if keep_spaces else 0  # NLPRNN_SPACE_KEEP
        _check(_lib.nlprnn_space_batch(self._ctx, arr, lens, n, flags, status, ctypes.byref(err)), err)
        for i in range(n):
            if status[i]:  # the single call gives the error record (byte offset)
                rc = _lib.nlprnn_space(self._ctx, texts[i], len(texts[i]), flags, ctypes.byref(err))
                rc = rc or status[i]
                msg = err.message.decode("utf-8", "replace") if err.code else \
                    _lib.nlprnn_status_text(rc).decode()
                raise Error(rc, "text %d: %s" % (i, msg), err.line, err.offset)

    def space(self, texts, keep_spaces=False):
        """The respaced text (in NFC, a single space where the model puts one) of a str, or a list
        of them for a list of texts (one batch, split over the object's threads). keep_spaces: the
        input's spaces are kept as hints and the model only adds spaces (`space --keep-spaces`).
        Invalid UTF-8 raises Error naming the text's index and the byte offset."""
        texts, one = _texts(texts)
        self._run(texts, keep_spaces)
        out = [_lib.nlprnn_space_text(self._ctx, i, None).decode() for i in range(len(texts))]
        return out[0] if one else out

    def probabilities(self, text, keep_spaces=False):
        """(respaced text, [(unit, p_space, space)]): each character of the result with the
        model's probability that a space follows it and whether the result has one (the numbers
        of `nlprnn space --format json`)."""
        texts, _ = _texts(text)
        self._run(texts[:1], keep_spaces)
        out = _lib.nlprnn_space_text(self._ctx, 0, None)
        units, begin, err = [], 0, _CError()
        end, p, sp = ctypes.c_size_t(), ctypes.c_float(), _I()
        for j in range(_lib.nlprnn_space_units(self._ctx, 0)):
            _check(_lib.nlprnn_space_unit(self._ctx, 0, j, ctypes.byref(end), ctypes.byref(p),
                                          ctypes.byref(sp), ctypes.byref(err)), err)
            units.append((out[begin:end.value].decode(), p.value, sp.value))
            begin = end.value + sp.value  # past the unit and the space the result puts after it
        return out.decode(), units


class Tagger(_TaggerBase):
    """A token tagger (part of speech, named entities, ...) trained by train_tagger or
    `nlprnn tag-train`: one label per token. A list of models is an ensemble (the mean of their
    label distributions decides)."""

    def __init__(self, path_or_name, threads=1):
        super().__init__(path_or_name, threads, 0)

    def tag(self, tokens):
        """[(label, probability)] for a sentence given as a list of tokens (str or bytes)."""
        toks = [_b(t) for t in tokens]
        n = len(toks)
        if n == 0:
            return []
        labels, probs, err = (_I * n)(), (ctypes.c_float * n)(), _CError()
        _check(_lib.nlprnn_tag(self._ctx, (_S * n)(*toks), n, labels, probs, ctypes.byref(err)), err)
        return [(self.labels[labels[i]], probs[i]) for i in range(n)]


# ---- translation (nlprnn/translate.h) -------------------------------------------------------------

class Translator(_Owned):
    """An encoder-decoder translator (nlprnn_translator + one nlprnn_translator_ctx).
    path_or_name: a model file or a shipped model's name ("ko-en"), or a list of them: an
    ensemble whose members' next-token distributions are combined at each step (they must share
    both tokenizers; a packed ensemble file is one name). beam: 1 is greedy search; len_alpha:
    length normalisation of beam search; word_reward: added to the log-probability of each token
    written (not the end) by greedy and beam search, > 0 for longer outputs; min_ratio: no end
    before floor(min_ratio * source tokens) target tokens; min_from: that minimum only for sources
    of at least min_from tokens (0: all); max_ratio: at most ceil(ratio * source tokens) + 5 target
    tokens; combine: "logp" (the mean of the members' log-probabilities, the library's default) or
    "prob" (the mean of their probabilities) (docs/translate.md). members: how many models it holds.
    word_reward, min_ratio, min_from and combine left None take the decoding defaults the model
    file stores (`translate-pack --word-reward ...`; the shipped ko-en: word reward 0.9), else 0,
    0, 0, "logp": .defaults has them ({"word_reward": ..., "min_ratio": ..., "min_from": ...,
    "combine": ...}); a value given
    here or to set() wins. batch: how many texts of a list translate() decodes at once
    (NLPRNN_TRANSLATE_BATCH, 1..1024; the library's default 64); the translations do not depend
    on it."""

    _owned = (("_ctx", _lib.nlprnn_translator_ctx_free), ("_t", _lib.nlprnn_translator_free))
    _OPTS = (("beam", 1), ("len_alpha", 2), ("max_ratio", 3), ("combine", 8), ("batch", 9),
             ("word_reward", 10), ("min_ratio", 11), ("min_from", 12))  # nlprnn_translator_opt
    _COMBINE = {"prob": 0, "logp": 1}

    def __init__(self, path_or_name="ko-en", beam=1, len_alpha=None, max_ratio=None, combine=None,
                 word_reward=None, min_ratio=None, batch=None, min_from=None):
        err, h, ctx = _CError(), _P(), _P()
        if isinstance(path_or_name, (list, tuple)):
            names = [_path(p) for p in path_or_name]
            _check(_lib.nlprnn_translator_load_ensemble((_S * max(len(names), 1))(*names), len(names),
                                                        ctypes.byref(h), ctypes.byref(err)), err)
        else:
            _check(_lib.nlprnn_translator_load(_path(path_or_name), ctypes.byref(h),
                                               ctypes.byref(err)), err)
        self._t, self._ctx = h, None
        rc = _lib.nlprnn_translator_ctx_create(h, ctypes.byref(ctx), ctypes.byref(err))
        if rc:
            self.close()
            _check(rc, err)
        self._ctx = ctx
        self.source = _lib.nlprnn_translator_column(h, 0).decode()
        self.target = _lib.nlprnn_translator_column(h, 1).decode()
        self.summary = _lib.nlprnn_translator_summary(h).decode()
        self.members = _lib.nlprnn_translator_members(h)
        try:
            v, self.defaults = ctypes.c_double(), {}
            for name, opt in self._OPTS:
                if name in ("word_reward", "min_ratio", "min_from", "combine"):
                    _check(_lib.nlprnn_translator_get_default(h, opt, ctypes.byref(v), ctypes.byref(err)), err)
                    self.defaults[name] = v.value
            self.defaults["combine"] = "prob" if self.defaults["combine"] == self._COMBINE["prob"] else "logp"
            self.defaults["min_from"] = int(self.defaults["min_from"])
            self.set(beam=beam, len_alpha=len_alpha, max_ratio=max_ratio, combine=combine,
                     word_reward=word_reward, min_ratio=min_ratio, batch=batch, min_from=min_from)
        except (Error, ValueError):
            self.close()
            raise

    def set(self, beam=None, len_alpha=None, max_ratio=None, combine=None, word_reward=None,
            min_ratio=None, batch=None, min_from=None):
        """Change search options (None leaves one as it is); out of range raises Error, an unknown
        combine rule ValueError."""
        if combine is not None and combine not in self._COMBINE:
            raise ValueError("combine: %r (prob or logp)" % (combine,))
        vals = {"beam": beam, "len_alpha": len_alpha, "max_ratio": max_ratio,
                "combine": None if combine is None else self._COMBINE[combine],
                "word_reward": word_reward, "min_ratio": min_ratio, "batch": batch, "min_from": min_from}
        err = _CError()
        for name, opt in self._OPTS:
            if vals[name] is not None:
                _check(_lib.nlprnn_translator_ctx_set(self._ctx, opt, float(vals[name]),
                                                     ctypes.byref(err)), err)

    def save(self, path, store=None):
        """Write the translator to a model file (atomically); an ensemble becomes one file that
        holds every member (what `nlprnn translate-pack` writes). store: None or "keep" (each
        member as it was stored), "f32", "f16" or "int8" (translate-pack --store)."""
        err = _CError()
        _check(_lib.nlprnn_translator_save_stored(self._t, _path(path),
                                                  None if store is None else _b(store),
                                                  ctypes.byref(err)), err)

    def _one(self, text):
        t, err = _b(text), _CError()
        _check(_lib.nlprnn_translate(self._ctx, t, len(t), ctypes.byref(err)), err)
        return _lib.nlprnn_translate_text(self._ctx, None).decode()

    def translate(self, texts):
        """The translation of a str, or a list of them for a list of texts. A list is one call of
        nlprnn_translate_batch: greedy search (and sampling) decodes its texts `batch` at a time,
        ordered by length, the same translations as one by one (up to float rounding, which
        could flip a near tie between two tokens); with a wider beam they are searched one by one.
        Invalid UTF-8 raises Error naming the text's index (.line is index + 1) and the byte."""
        texts, one = _texts(texts)
        if one:
            return self._one(texts[0])
        n, err = len(texts), _CError()
        arr = (_S * max(n, 1))(*texts)
        lens = (ctypes.c_size_t * max(n, 1))(*[len(t) for t in texts])
        rc = _lib.nlprnn_translate_batch(self._ctx, arr, lens, n, ctypes.byref(err))
        if rc:
            msg = err.message.decode("utf-8", "replace")
            raise Error(rc, "text %d: %s" % (err.line - 1, msg) if err.line > 0 else msg, err.line,
                        err.offset)
        return [_lib.nlprnn_translate_batch_text(self._ctx, i, None).decode() for i in range(n)]

    def details(self, text):
        """The translation of one text with what `nlprnn translate --format json` prints: a dict
        with text, logprob, src and tgt (the subword pieces) and attention (one row per target
        piece and one for the end, each a list of weights over the source pieces)."""
        out = self._one(text)
        S, T = _lib.nlprnn_translate_src_len(self._ctx), _lib.nlprnn_translate_tgt_len(self._ctx)
        src = [_lib.nlprnn_translate_piece(self._ctx, 0, i).decode() for i in range(S)]
        tgt = [_lib.nlprnn_translate_piece(self._ctx, 1, i).decode() for i in range(T)]
        a = _lib.nlprnn_translate_attention(self._ctx)
        att = [[a[j * S + i] for i in range(S)] for j in range(T + 1)] if a and S else []
        return {"text": out, "logprob": _lib.nlprnn_translate_logprob(self._ctx), "src": src,
                "tgt": tgt, "attention": att}


def _pairs(hyps, refs):
    if len(hyps) != len(refs):
        raise ValueError("%d hypotheses but %d references" % (len(hyps), len(refs)))
    n = len(hyps)
    return (_S * max(n, 1))(*[_b(h) for h in hyps]), (_S * max(n, 1))(*[_b(r) for r in refs]), n


def bleu(hyps, refs, detail=False):
    """Corpus BLEU (0..100) of hypotheses against one reference each, as sacrebleu computes it by
    default (13a tokenizer, exp smoothing). detail=True also returns a dict: precisions (4, in
    percent), bp (brevity penalty), ratio, hyp_len, ref_len."""
    h, r, n = _pairs(hyps, refs)
    score, d, err = ctypes.c_double(), (ctypes.c_double * 8)(), _CError()
    _check(_lib.nlprnn_bleu(h, r, n, ctypes.byref(score), d, ctypes.byref(err)), err)
    if not detail:
        return score.value
    return score.value, {"precisions": list(d[0:4]), "bp": d[4], "ratio": d[5],
                         "hyp_len": int(d[6]), "ref_len": int(d[7])}


def chrf(hyps, refs):
    """Corpus chrF (0..100), as sacrebleu computes it by default (character n-grams 1-6, beta 2)."""
    h, r, n = _pairs(hyps, refs)
    score, err = ctypes.c_double(), _CError()
    _check(_lib.nlprnn_chrf(h, r, n, ctypes.byref(score), ctypes.byref(err)), err)
    return score.value


# ---- training taggers and translators -----------------------------------------------------------

def _train(kind, params, progress, call, record=None):
    """Shared by train_tagger and train_translator: make kind's parameters, set them by name, run
    call(params_handle, callback, model_out) and return the trained handle. progress(epoch,
    train_loss, valid) is called once per epoch; returning True stops training (Error
    NLPRNN_E_INTERRUPTED). An exception in progress stops training and is raised again.
    With record (a function of one progress record): call(params_handle, callback,
    record_callback, model_out) instead; record_callback(user, d) runs record(d) as callback runs
    progress."""
    create, free, set_ = (getattr(_lib, "nlprnn_%s_params_%s" % (kind, s))
                          for s in ("create", "free", "set"))
    p, err, failure = _P(), _CError(), []
    _check(create(ctypes.byref(p), ctypes.byref(err)), err)

    def cb(user, epoch, loss, valid):
        try:
            return 1 if progress(epoch, loss, valid) else 0
        except BaseException as e:  # an exception cannot cross the C frames: stop, re-raise
            failure.append(e)
            return 1

    def rcb(user, d):
        if failure:  # an exception in a message (phase 0, whose return is ignored): stop at once
            return 1
        try:
            return 1 if record(d) else 0
        except BaseException as e:
            failure.append(e)
            return 1

    try:
        for k, v in (params or {}).items():
            _check(set_(p, _b(k), _b(str(v)), ctypes.byref(err)), err)
        out = _P()
        if record:
            rc = call(p, cb if progress else None, rcb, ctypes.byref(out), ctypes.byref(err))
        else:
            rc = call(p, cb if progress else None, ctypes.byref(out), ctypes.byref(err))
        if failure:
            if out:
                call.free(out)
            raise failure[0]
        _check(rc, err)
        return out
    finally:
        free(p)


def _both(cb, rcb, struct, valid):
    """The callback of a *_train_ctl given both forms of _train: rcb(user, d) with each record
    (struct) as a dict, cb(user, epoch, loss, d[valid]) at each epoch's end (when cb is not
    None); non-zero when either asks to stop."""
    def both(user, rec):
        d = _record(rec, struct)
        stop = rcb(user, d)
        if d["phase"] == 2 and cb and cb(user, d["epoch"], d["loss"], d[valid]):
            stop = 1
        return 1 if stop else 0
    return both


def _save(h, save, free, out_path):
    err = _CError()
    try:
        _check(save(h, _path(out_path), ctypes.byref(err)), err)
    finally:
        free(h)


def train_tagger(paths, out_path, params=None, progress=None, progress_record=None):
    """Train a token tagger (nlprnn_tagger_train, like `nlprnn tag-train`) and save it to out_path
    (written atomically). paths: a file or a list of files (.gz read too) of token<TAB>label
    lines with a blank line between sentences. params by name (`nlprnn tag-train --help` lists
    them). progress(epoch, train_loss, valid_accuracy): once per epoch, True stops.
    progress_record(d) (nlprnn_tagger_train_ctl): after every optimizer step, at each epoch's
    end and for messages, d a dict of the record nlprnn_tagger_progress (phase 0 message, 1
    step, 2 epoch done; epoch, epochs, batch, batches, steps, loss, accuracy, units_per_sec, lr,
    elapsed, eta, valid_loss, valid_accuracy, best_epoch, improved); True from a step or an
    epoch's end stops. Both may be given."""
    _train_tag(paths, out_path, dict(params or {}, format="tagged"), progress, progress_record)


def train_spacer(paths, out_path, params=None, progress=None, progress_record=None):
    """Train a word-spacing model (like `nlprnn space-train`) from well-spaced text, one sentence
    a line, and save it to out_path; otherwise as train_tagger (`nlprnn space-train --help`),
    e.g. params={"jamo": 1, "conv": 5, "conv-channels": 64}."""
    _train_tag(paths, out_path, dict(params or {}, format="spacing"), progress, progress_record)


def _train_tag(paths, out_path, params, progress, progress_record=None):
    paths = [paths] if isinstance(paths, (str, bytes, os.PathLike)) else list(paths)
    arr = (_S * len(paths))(*[_path(x) for x in paths])

    def call(p, cb, out, err):
        fn = _TAGGER_PROGRESS_FN(cb) if cb else _TAGGER_PROGRESS_FN()
        return _lib.nlprnn_tagger_train(arr, len(paths), p, None, fn, None, out, err)

    def call_record(p, cb, rcb, out, err):
        fn = _lib.nlprnn_tagger_train_ctl.argtypes[4](_both(cb, rcb, _TaggerProgress, "valid_accuracy"))
        return _lib.nlprnn_tagger_train_ctl(arr, len(paths), p, None, fn, None, out, err)

    call.free = call_record.free = _lib.nlprnn_tagger_free
    trained = (_train("tagger", params, progress, call_record, progress_record) if progress_record
               else _train("tagger", params, progress, call))
    _save(trained, _lib.nlprnn_tagger_save, _lib.nlprnn_tagger_free, out_path)


def train_translator(tsv_path, out_path, params=None, progress=None, progress_record=None):
    """Train a translator (nlprnn_translator_train) on the pairs of a TSV file whose header names
    the columns (params "src-col", "tgt-col"; `nlprnn translate-train --help` lists the rest)
    and save it to out_path (written atomically). progress(epoch, train_loss, valid_loss): once
    per epoch, True stops. progress_record(d) (nlprnn_translator_train_ctl): after every
    optimizer step, at each epoch's end and for messages, d a dict of the record
    nlprnn_translator_progress (phase, message, epoch, epochs, batch, batches, steps, loss,
    tokens_per_sec, lr, elapsed, eta, valid_loss, best_epoch, improved); True from a step or an
    epoch's end stops. Both may be given."""

    def call(p, cb, out, err):
        fn = _TRANSLATE_PROGRESS_FN(cb) if cb else _TRANSLATE_PROGRESS_FN()
        return _lib.nlprnn_translator_train(_path(tsv_path), p, None, fn, None, out, err)

    def call_record(p, cb, rcb, out, err):
        fn = _lib.nlprnn_translator_train_ctl.argtypes[3](_both(cb, rcb, _TranslatorProgress, "valid_loss"))
        return _lib.nlprnn_translator_train_ctl(_path(tsv_path), p, None, fn, None, out, err)

    call.free = call_record.free = _lib.nlprnn_translator_free
    trained = (_train("translator", params, progress, call_record, progress_record) if progress_record
               else _train("translator", params, progress, call))
    _save(trained, _lib.nlprnn_translator_save, _lib.nlprnn_translator_free, out_path)
