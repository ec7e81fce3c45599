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

A thin layer: every call is one C call (docs/api.md has the semantics; docs/python.md the
module). Errors raise nlprnn.Error carrying the C error record: code, name (e.g. "NLPRNN_E_UTF8"),
message, line and offset (-1 when not applicable). The library is found through
$NLPRNN_LIBRARY (a path to libnlprnn.so), then the library installed with this package
(cmake --install writes its path into nlprnn/_install.py), then the system's loader (ldconfig,
$LD_LIBRARY_PATH).

Threads: a Classifier / LanguageModel object owns one C context, so use one object per thread
(the models themselves are immutable in C, but each object loads its own copy).
"""
import ctypes
import ctypes.util
import os

__all__ = ["Error", "Classifier", "LanguageModel", "Tokenizer", "train", "version", "library"]


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


class _Progress(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("phase", ctypes.c_int), ("message", ctypes.c_char_p),
                ("epoch", ctypes.c_int), ("epochs", ctypes.c_int), ("batch", ctypes.c_longlong),
                ("batches", ctypes.c_longlong), ("loss", ctypes.c_double),
                ("accuracy", ctypes.c_double), ("tokens_per_sec", ctypes.c_double),
                ("elapsed", ctypes.c_double), ("eta", ctypes.c_double),
                ("valid_loss", ctypes.c_double), ("valid_accuracy", ctypes.c_double),
                ("best_epoch", ctypes.c_int), ("improved", ctypes.c_int)]


_PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_Progress))
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
_decl("nlprnn_encoding_size", ctypes.c_size_t, _P)
_decl("nlprnn_encoding_ids", ctypes.POINTER(ctypes.c_int32), _P)
_decl("nlprnn_encoding_offsets", ctypes.POINTER(ctypes.c_size_t), _P)
_decl("nlprnn_classifier_params_create", _I, ctypes.POINTER(_P), _E)
_decl("nlprnn_classifier_params_free", None, _P)
_decl("nlprnn_classifier_params_set", _I, _P, _S, _S, _E)
_decl("nlprnn_classifier_train", _I, _P, _S, _S, _S, _I, ctypes.POINTER(ctypes.c_int),
      _PROGRESS_FN, _P, _E)

FILL_ALPHA = 0.25  # NLPRNN_LM_FILL_ALPHA, the calibration of nlprnn_lm_fill and `nlprnn fill`


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


class Classifier:
    """A text classifier (nlprnn_classifier + one nlprnn_classifier_ctx). path_or_name: a model file, or a
    shipped model's name ("ko", "en")."""

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

    def close(self):
        if getattr(self, "_ctx", None):
            _lib.nlprnn_classifier_ctx_free(self._ctx)
            self._ctx = None
        if getattr(self, "_m", None):
            _lib.nlprnn_classifier_free(self._m)
            self._m = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

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
        err = _CError()
        _check(_lib.nlprnn_classify_batch(self._ctx, arr, lens, n, probs, status, ctypes.byref(err)), err)
        for i in range(n):
            if status[i]:  # the single call gives the error record (byte offset, line)
                one = (ctypes.c_float * C)()
                rc = _lib.nlprnn_classify(self._ctx, texts[i], len(texts[i]), one, None,
                                          ctypes.byref(err))
                rc = rc or status[i]
                msg = err.message.decode("utf-8", "replace") if err.code else \
                    _lib.nlprnn_status_text(rc).decode()
                raise Error(rc, "text %d: %s" % (i, msg), err.line, err.offset)
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


class LanguageModel:
    """A language model (nlprnn_lm + one nlprnn_lm_ctx): fill in the blank, next word."""

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

    def close(self):
        if getattr(self, "_ctx", None):
            _lib.nlprnn_lm_ctx_free(self._ctx)
            self._ctx = None
        if getattr(self, "_lm", None):
            _lib.nlprnn_lm_free(self._lm)
            self._lm = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

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
    """A tokenizer: a tokenizer file, a model file holding one, or a shipped model's name."""

    def __init__(self, path_or_name="ko"):
        self._tok, self._owner = None, None
        err, h = _CError(), _P()
        rc = _lib.nlprnn_tokenizer_load(_path(path_or_name), ctypes.byref(h), ctypes.byref(err))
        if rc == 0:
            self._tok = h
        else:  # a classifier or language model file (or name): its tokenizer
            try:
                self._owner = Classifier(path_or_name)
                self._tok = _lib.nlprnn_classifier_tokenizer(self._owner._m)
            except Error:
                try:
                    self._owner = LanguageModel(path_or_name)
                    self._tok = _lib.nlprnn_lm_tokenizer(self._owner._lm)
                except Error:
                    _check(rc, err)
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

    def encode(self, text):
        """[(id, piece, begin, end)]: begin/end are byte offsets into the UTF-8 text."""
        t, err = _b(text), _CError()
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
