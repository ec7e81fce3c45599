#!/usr/bin/env python3
"""scripts/check-api.py [--self-test] [--verbose] [HEADER ...]

Checks the public headers (include/nlprnn.h and include/nlprnn/*.h by default) against the API
convention written down in docs/api.md ("The convention"). Each rule below is one check; a header
that breaks one fails with the file, the line and the rule:

  names     every function and type starts with nlprnn_, every macro and enum value with NLPRNN_;
            a context or parameter set nlprnn_T_ctx / nlprnn_T_params belongs to a handle nlprnn_T
            (nlprnn_translator_ctx, not nlprnn_translate_ctx); every other public type (struct,
            enum, callback) is nlprnn_T_... of a handle nlprnn_T (nlprnn_classifier_progress_fn,
            not nlprnn_train_progress_fn), and when functions take it, one of them is
            nlprnn_T_... (nlprnn_forecaster_train takes nlprnn_forecaster_progress_fn, so the
            series it trains on cannot name it). Exempt: the library's own types of base.h
            (nlprnn_error, nlprnn_status) and a type that only deprecated functions take
  status    a function that takes the error record returns int (a status code) and takes it last,
            as `nlprnn_error *err`; another `nlprnn_error *` before it is an output array of
            per-item records (nlprnn_classify_batch_errors's doc_errs), never named err
  out       a handle comes back through `nlprnn_T **out`, the parameter just before err (or the
            last one when there is no err); no function returns a new (non-const) handle
  verbs     a function giving a handle of type nlprnn_T is nlprnn_T_create, _load or _train (with
            an optional suffix: nlprnn_tokenizer_load_memory), or _open for streams; no _new,
            _destroy, _release, _delete
  free      every handle type nlprnn_T has `void nlprnn_T_free(nlprnn_T *)` whose comment says
            that NULL is allowed, and a constructor; a stream made by nlprnn_T_open is released
            instead by nlprnn_T_commit(t, err) or `void nlprnn_T_abort(nlprnn_T *)` (NULL allowed)
  structs   a public struct either starts with `size_t size` (set by the side that allocates the
            struct, read only as far as it reaches) or says that its layout never changes
  params    every parameter set nlprnn_T_params has the one shape: _create(out, err), _free,
            _set(p, const char *name, const char *value, err), _get(p, name, char *buf,
            size_t cap, err)
  evaluate  nlprnn_T_evaluate(const nlprnn_T *, ..., nlprnn_T_eval *res, nlprnn_error *err), and
            nlprnn_T_eval starts with `size_t size`
  deprecated a name (function or type) marked NLPRNN_DEPRECATED("use X") names a replacement X
            that exists; the rules above do not apply to it (it keeps its old shape for one
            release)

Functions are the declarations marked with an export macro (NLPRNN_API, or NLPRNN_<C>_API of an
optional component such as libnlprnn-mpi, whose constructors may be named nlprnn_<c>_<T>_create).

--self-test runs the checker on small headers that break each rule (each must be reported) and
on one that follows them all (nothing reported). Exit status: 0 clean, 1 violations, 2 usage.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CTOR_VERBS = ("create", "load", "train", "open")
BAD_VERBS = ("new", "destroy", "release", "delete")
# The export macros: NLPRNN_API (libnlprnn) and NLPRNN_<C>_API (an optional component, e.g.
# NLPRNN_MPI_API for libnlprnn-mpi). A component's functions carry its prefix, so a constructor
# there is nlprnn_<component>_<T>_create (nlprnn_dist_comm_create gives an nlprnn_comm).
EXPORT = re.compile(r"\bNLPRNN_(?:[A-Z0-9]+_)?API\b")
COMPONENTS = ("dist",)
# Types that belong to the whole library rather than to a handle (nlprnn/base.h).
LIBRARY_TYPES = ("nlprnn_error", "nlprnn_status")


def strip_preprocessor(text):
    """Blank out preprocessor lines and #ifdef __cplusplus blocks (keeping line numbers)."""
    out = []
    cont = cpp = False
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("#ifdef __cplusplus"):
            cpp = True
        if cont or cpp or s.startswith("#"):
            cont = line.rstrip().endswith("\\")
            out.append("")
        else:
            out.append(line)
        if cpp and s.startswith("#endif"):
            cpp = False
    return "\n".join(out)


def statements(text):
    """Split a header into (doc, stmt, line) at depth-0 ';': doc is the comment just before the
    statement (or after it on the same line, /**< ... */), line the statement's first line."""
    text = strip_preprocessor(text)
    i, n, depth = 0, len(text), 0
    doc, cur, start = "", [], None
    res = []
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            c = text[i:j]
            if depth == 0:
                if c.startswith("/**<") and res and not "".join(cur).strip():
                    res[-1] = (res[-1][0] + " " + c, res[-1][1], res[-1][2])
                elif not "".join(cur).strip():
                    doc = c
            i = j
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        ch = text[i]
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        if not ch.isspace() and start is None:
            start = text.count("\n", 0, i) + 1
        cur.append(ch)
        if ch == ";" and depth == 0:
            stmt = " ".join("".join(cur).split())
            if stmt != ";" and not stmt.startswith('extern "C"'):
                res.append((doc, stmt, start))
            cur, doc, start = [], "", None
        elif ch == "}" and depth == 0 and "".join(cur).strip().startswith('extern "C"'):
            cur, start = [], None
        i += 1
    return res


def split_params(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return [] if parts == ["void"] else parts


def param_type_name(p):
    """'const char *name' -> ('const char *', 'name'); function pointers keep their text."""
    m = re.match(r"^(.*?)([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?$", p)
    if not m or "(" in p:
        return p, ""
    t = " ".join(m.group(1).replace("*", " * ").split()).replace(" *", "*").replace("* ", "*")
    t = t.replace("*", " *").replace(" * *", " **").strip()
    return t + (" *" if m.group(3) else ""), m.group(2)


class Api:
    def __init__(self):
        self.funcs = {}    # name -> dict
        self.handles = {}  # opaque types -> (file, line)
        self.structs = {}  # name -> (file, line, doc, body)
        self.types = {}    # every typedef name -> (file:line, the replacement text when deprecated)
        self.problems = []

    def add(self, path, text):
        rel = os.path.relpath(path, ROOT) if os.path.isabs(path) else path
        for doc, st, line in statements(text):
            where = f"{rel}:{line}"
            if EXPORT.search(st) and "(" in st and not st.startswith("typedef"):
                m = re.match(r"^(.*?)\b(nlprnn_[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*"
                             r"(NLPRNN_DEPRECATED\s*\(\s*\"([^\"]*)\"\s*\))?\s*;$", st)
                if not m:
                    self.problems.append((where, "names", f"cannot read the declaration: {st}"))
                    continue
                ret = EXPORT.sub("", m.group(1))
                ret = re.sub(r"NLPRNN_DEPRECATED\s*\(\s*\"[^\"]*\"\s*\)", "", ret)
                depr = m.group(5) if m.group(4) else None
                if depr is None:
                    d = re.search(r"NLPRNN_DEPRECATED\s*\(\s*\"([^\"]*)\"\s*\)", st)
                    depr = d.group(1) if d else None
                ret = " ".join(ret.replace("*", " * ").split()).replace(" *", "*").replace("*", " *").strip()
                ret = ret.replace(" * *", " **")
                params = [param_type_name(p) for p in split_params(m.group(3))]
                self.funcs[m.group(2)] = dict(name=m.group(2), ret=ret, params=params, doc=doc,
                                              where=where, deprecated=depr)
                continue
            if st.startswith("typedef"):
                tm = (re.match(r"^typedef .*\(\s*\*\s*(\w+)\s*\)\s*\(.*\)\s*;$", st)
                      or re.match(r"^typedef .*?(\w+)\s*(?:NLPRNN_DEPRECATED\s*\(.*\))?\s*;$", st))
                if tm:
                    d = re.search(r"NLPRNN_DEPRECATED\s*\(\s*\"([^\"]*)\"\s*\)\s*;$", st)
                    self.types[tm.group(1)] = (where, d.group(1) if d else None)
            m = re.match(r"^typedef struct (\w+) (\w+)\s*;$", st)
            if m:
                if m.group(1) != m.group(2) and "NLPRNN_DEPRECATED" not in st:
                    self.problems.append((where, "names", f"struct {m.group(1)} is typedef'd as {m.group(2)}: "
                                          "a handle type and its struct tag have the same name"))
                if m.group(1) == m.group(2):
                    self.handles[m.group(2)] = where
                self.check_name(where, m.group(2), "type")
                continue
            m = re.match(r"^typedef (struct|enum|union) (\w+)? ?\{(.*)\} (\w+)\s*;$", st)
            if m:
                self.check_name(where, m.group(4), "type")
                if m.group(1) == "struct":
                    self.structs[m.group(4)] = (where, doc, m.group(3))
                else:
                    self.check_enum(where, m.group(3))
                continue
            m = re.match(r"^enum (\w+ )?\{(.*)\}\s*;$", st)
            if m:
                self.check_enum(where, m.group(2))
                continue
            m = re.match(r"^typedef .*\(\s*\*\s*(\w+)\s*\)\s*\(.*\)\s*;$", st)
            if m:
                self.check_name(where, m.group(1), "type")
                continue
            m = re.match(r"^typedef (.*?)(\w+)\s*(NLPRNN_DEPRECATED\s*\(.*\))?\s*;$", st)
            if m:
                self.check_name(where, m.group(2), "type")
                continue
        # macros: every #define in a public header is NLPRNN_*
        for k, line in enumerate(text.split("\n"), 1):
            d = re.match(r"\s*#\s*define\s+(\w+)", line)
            if d and not d.group(1).startswith("NLPRNN_"):
                self.problems.append((f"{rel}:{k}", "names", f"macro {d.group(1)} lacks the NLPRNN_ prefix"))

    def check_name(self, where, name, what):
        if not name.startswith("nlprnn_"):
            self.problems.append((where, "names", f"{what} {name} lacks the nlprnn_ prefix"))

    def check_enum(self, where, body):
        for item in split_params(re.sub(r"/\*.*?\*/", "", body)):
            v = item.split("=")[0].strip()
            if v and not v.startswith("NLPRNN_"):
                self.problems.append((where, "names", f"enum value {v} lacks the NLPRNN_ prefix"))

    def owner(self, t):
        """The handle a type is named after: the longest handle nlprnn_T with t = nlprnn_T_..."""
        hs = [h for h in self.handles if t.startswith(h + "_")]
        return max(hs, key=len) if hs else None

    def check_types(self):
        """names: every public type that is not a handle is named after the handle it belongs to;
        deprecated: a deprecated type names an existing replacement."""
        P = self.problems
        for t, (w, depr) in self.types.items():
            if depr is not None:
                m = re.search(r"\b(nlprnn_\w+)", depr)
                if not m or (m.group(1) not in self.types and m.group(1) not in self.funcs):
                    P.append((w, "deprecated", f"type {t} is deprecated without an existing "
                              f"replacement ('{depr}')"))
                continue
            if t in self.handles or t in LIBRARY_TYPES or not t.startswith("nlprnn_"):
                continue
            word = re.compile(r"\b" + re.escape(t) + r"\b")
            users = [f for f in self.funcs.values()
                     if any(word.search(x) for x in [f["ret"]] + [pt for pt, _ in f["params"]])]
            live = [f for f in users if f["deprecated"] is None]
            if users and not live:
                continue  # a type of deprecated functions only (it goes away with them)
            h = self.owner(t)
            if h is None:
                P.append((w, "names", f"type {t} is named after no handle: a type that belongs to a "
                          f"handle nlprnn_T is nlprnn_T_... (the handle whose functions take it)"))
                continue
            if live and not any(f["name"].startswith(h + "_") for f in live):
                P.append((w, "names", f"type {t} is named after {h}, but no function that takes it is "
                          f"{h}_... ({', '.join(sorted(f['name'] for f in live))})"))

    def handle_of(self, t):
        """'nlprnn_x **' -> 'nlprnn_x' when nlprnn_x is a handle type."""
        m = re.match(r"^(?:const )?(\w+) \*\*$", t)
        return m.group(1) if m and m.group(1) in self.handles else None

    def check(self):
        P = self.problems
        self.check_types()
        for f in self.funcs.values():
            name, ret, params, w = f["name"], f["ret"], f["params"], f["where"]
            if not name.startswith("nlprnn_"):
                P.append((w, "names", f"function {name} lacks the nlprnn_ prefix"))
            if f["deprecated"] is not None:
                m = re.search(r"\b(nlprnn_\w+)", f["deprecated"])
                if not m or (m.group(1) not in self.funcs and m.group(1) not in self.handles
                             and m.group(1) not in self.structs):
                    P.append((w, "deprecated", f"{name} is deprecated without an existing replacement "
                              f"('{f['deprecated']}')"))
                continue
            types = [t for t, _ in params]
            errs = [k for k, (t, _) in enumerate(params) if t == "nlprnn_error *"]
            if errs and not name.startswith("nlprnn_error_"):
                if (errs[-1] != len(params) - 1 or params[-1][1] != "err"
                        or any(params[k][1] == "err" for k in errs[:-1])):
                    P.append((w, "status", f"{name}: the error record must be the last parameter, "
                              "`nlprnn_error *err`"))
                if ret != "int":
                    P.append((w, "status", f"{name} takes the error record but returns {ret}, not an int status"))
            last = len(params) - 1 - (1 if errs and errs[-1] == len(params) - 1 else 0)
            outs = [k for k, t in enumerate(types) if self.handle_of(t) and not t.startswith("const ")]
            for k in outs:
                if k != last or params[k][1] != "out":
                    P.append((w, "out", f"{name}: the handle it gives ({params[k][0]}{params[k][1]}) must be "
                              "`out`, the parameter just before err"))
            rm = re.match(r"^(\w+) \*$", ret)
            if rm and rm.group(1) in self.handles:
                P.append((w, "out", f"{name} returns a new {rm.group(1)}: return an int status and give "
                          "the handle through `nlprnn_T **out` before `nlprnn_error *err`"))
            for k in outs[-1:]:
                h = self.handle_of(types[k])
                short = h[len("nlprnn_"):]
                pre = next((f"nlprnn_{c}_{short}_" for c in COMPONENTS
                            if name.startswith(f"nlprnn_{c}_{short}_")), h + "_")
                verb = name[len(pre):].split("_")[0] if name.startswith(pre) else ""
                if verb not in CTOR_VERBS:
                    P.append((w, "verbs", f"{name} gives a {h}: name it {h}_create, _load or _train "
                              "(or _open for a stream)"))
            tail = name.rsplit("_", 1)[-1]
            if tail in BAD_VERBS:
                P.append((w, "verbs", f"{name}: handles are made by _create/_load/_train and released by "
                          "_free (not _" + tail + ")"))
        for h, w in self.handles.items():
            for suf in ("_ctx", "_params"):
                if h.endswith(suf) and h[: -len(suf)] not in self.handles:
                    P.append((w, "names", f"{h} is named after no handle type {h[: -len(suf)]}: the "
                              f"{suf[1:]} of a handle nlprnn_T is nlprnn_T{suf}"))
            fr = self.funcs.get(h + "_free")
            ab = self.funcs.get(h + "_abort")
            if (not fr and ab and any(n.startswith(h + "_open") for n in self.funcs)
                    and h + "_commit" in self.funcs):
                # a stream made by _open is released by _commit or _abort (no _free)
                if ab["ret"] != "void" or [t for t, _ in ab["params"]] != [h + " *"]:
                    P.append((ab["where"], "free", f"{h}_abort must be `void {h}_abort({h} *)`"))
                if "NULL" not in ab["doc"]:
                    P.append((ab["where"], "free", f"{h}_abort: its comment must say that NULL is allowed"))
            elif not fr or fr["deprecated"] is not None:
                P.append((w, "free", f"handle {h} has no {h}_free"))
            else:
                if fr["ret"] != "void" or [t for t, _ in fr["params"]] != [h + " *"]:
                    P.append((fr["where"], "free", f"{h}_free must be `void {h}_free({h} *)`"))
                if "NULL" not in fr["doc"]:
                    P.append((fr["where"], "free", f"{h}_free: its comment must say that NULL is allowed"))
            ctors = [f for f in self.funcs.values() if f["deprecated"] is None
                     and any(self.handle_of(t) == h for t, _ in f["params"])]
            if not ctors:
                P.append((w, "free", f"handle {h} has no constructor ({h}_create/_load/_train)"))
        for s, (w, doc, body) in self.structs.items():
            members = [m.strip() for m in re.sub(r"/\*.*?\*/", "", body).split(";") if m.strip()]
            frozen = re.search(r"layout (is part of the ABI|never changes|will not change)", doc)
            if not frozen and (not members or " ".join(members[0].split()) != "size_t size"):
                P.append((w, "structs", f"struct {s}: the first member must be `size_t size` (set by the "
                          "side that allocates it), or its comment must say that its layout never changes"))
        for h in self.handles:
            if not h.endswith("_params"):
                continue
            want = {
                "_create": (["nlprnn_error *"], [h + " **", "nlprnn_error *"]),
                "_free": None,
                "_set": ([h + " *", "const char *", "const char *", "nlprnn_error *"],),
                "_get": (["const " + h + " *", "const char *", "char *", "size_t", "nlprnn_error *"],),
            }
            for suf, shapes in want.items():
                f = self.funcs.get(h + suf)
                if not f or f["deprecated"] is not None:
                    P.append((self.handles[h], "params", f"parameter set {h} has no {h}{suf}"))
                    continue
                if shapes and [t for t, _ in f["params"]] not in shapes[-1:]:
                    P.append((f["where"], "params", f"{h}{suf} must take ({', '.join(shapes[-1])})"))
        for f in self.funcs.values():
            if f["deprecated"] is None and f["name"].endswith("_eval"):
                P.append((f["where"], "evaluate", f"{f['name']}: an evaluation is nlprnn_T_evaluate "
                          "(nlprnn_T_eval is its result)"))
            if f["deprecated"] is not None or not f["name"].endswith("_evaluate"):
                continue
            t = f["name"][: -len("_evaluate")]
            types = [x for x, _ in f["params"]]
            if (len(types) < 3 or types[0] != f"const {t} *" or types[-2] != f"{t}_eval *"
                    or f["params"][-2][1] != "res" or types[-1] != "nlprnn_error *"):
                P.append((f["where"], "evaluate", f"{f['name']} must be ({'const ' + t + ' *'}, ..., "
                          f"{t}_eval *res, nlprnn_error *err)"))
            if f"{t}_eval" not in self.structs:
                P.append((f["where"], "evaluate", f"{f['name']}: no struct {t}_eval"))
        return P


def run(paths, verbose=False):
    api = Api()
    for p in paths:
        with open(p, encoding="utf-8") as fp:
            api.add(p, fp.read())
    problems = api.check()
    if verbose:
        print(f"check-api: {len(api.funcs)} functions, {len(api.handles)} handle types, "
              f"{len(api.structs)} structs in {len(paths)} headers")
    return problems, api


GOOD = r'''
#define NLPRNN_X 1
/** Status codes. */
typedef enum nlprnn_status { NLPRNN_OK = 0, NLPRNN_E_X = -1 } nlprnn_status;
/** An error record: its layout never changes. */
typedef struct nlprnn_error { int code; char message[8]; } nlprnn_error;
/** A thing. */
typedef struct nlprnn_thing nlprnn_thing;
/** Make one. */
NLPRNN_API int nlprnn_thing_create(int n, nlprnn_thing **out, nlprnn_error *err);
/** Load one. */
NLPRNN_API int nlprnn_thing_load_memory(const void *buf, size_t n, nlprnn_thing **out, nlprnn_error *err);
/** Free one (NULL is allowed). */
NLPRNN_API void nlprnn_thing_free(nlprnn_thing *t);
/** Borrowed. */
NLPRNN_API const nlprnn_thing *nlprnn_other_thing(const nlprnn_thing *t);
/** Params. */
typedef struct nlprnn_thing_params nlprnn_thing_params;
NLPRNN_API int nlprnn_thing_params_create(nlprnn_thing_params **out, nlprnn_error *err);
/** NULL is allowed. */
NLPRNN_API void nlprnn_thing_params_free(nlprnn_thing_params *p);
NLPRNN_API int nlprnn_thing_params_set(nlprnn_thing_params *p, const char *name, const char *value, nlprnn_error *err);
NLPRNN_API int nlprnn_thing_params_get(const nlprnn_thing_params *p, const char *name, char *buf, size_t cap, nlprnn_error *err);
/** Result. */
typedef struct nlprnn_thing_eval { size_t size; double loss; } nlprnn_thing_eval;
NLPRNN_API int nlprnn_thing_evaluate(const nlprnn_thing *t, const char *path, nlprnn_thing_eval *res, nlprnn_error *err);
/** Many at once, each item's own record in item_errs. */
NLPRNN_API int nlprnn_thing_run_many(nlprnn_thing *t, size_t n, int *status, nlprnn_error *item_errs, nlprnn_error *err);
/** Old. */
NLPRNN_API nlprnn_thing *nlprnn_thing_new(int n) NLPRNN_DEPRECATED("use nlprnn_thing_create");
/** What training reports, and its callback: named after the handle that trains. */
typedef struct nlprnn_thing_progress { size_t size; int epoch; } nlprnn_thing_progress;
typedef int (*nlprnn_thing_progress_fn)(void *user, const nlprnn_thing_progress *p);
NLPRNN_API int nlprnn_thing_train(const nlprnn_thing_params *p, nlprnn_thing_progress_fn progress, void *user, nlprnn_thing **out, nlprnn_error *err);
/** Old names of them. */
typedef struct nlprnn_thing_progress nlprnn_run_progress NLPRNN_DEPRECATED("use nlprnn_thing_progress");
typedef nlprnn_thing_progress_fn nlprnn_run_progress_fn NLPRNN_DEPRECATED("use nlprnn_thing_progress_fn");
/** Options of a deprecated function only. */
typedef enum nlprnn_oldopt { NLPRNN_OLDOPT_A = 1 } nlprnn_oldopt;
NLPRNN_API int nlprnn_thing_set_old(nlprnn_thing *t, nlprnn_oldopt o, long long v, nlprnn_error *err) NLPRNN_DEPRECATED("use nlprnn_thing_params_set");
/** A handle's option, taken by a function of its context. */
typedef enum nlprnn_thing_opt { NLPRNN_THING_BEAM = 1 } nlprnn_thing_opt;
typedef struct nlprnn_thing_ctx nlprnn_thing_ctx;
NLPRNN_API int nlprnn_thing_ctx_create(const nlprnn_thing *t, nlprnn_thing_ctx **out, nlprnn_error *err);
/** NULL is allowed. */
NLPRNN_API void nlprnn_thing_ctx_free(nlprnn_thing_ctx *c);
NLPRNN_API int nlprnn_thing_ctx_set(nlprnn_thing_ctx *c, nlprnn_thing_opt opt, double value, nlprnn_error *err);
NLPRNN_API int nlprnn_run(nlprnn_thing_ctx *c, const char *text, nlprnn_error *err);
enum { NLPRNN_A = 0, NLPRNN_B = 1 };
/** A stream. */
typedef struct nlprnn_sink nlprnn_sink;
NLPRNN_API int nlprnn_sink_open(const char *path, nlprnn_sink **out, nlprnn_error *err);
NLPRNN_API int nlprnn_sink_commit(nlprnn_sink *s, nlprnn_error *err);
/** Give up (NULL is allowed). */
NLPRNN_API void nlprnn_sink_abort(nlprnn_sink *s);
/** A component's handle, made by the component. */
typedef struct nlprnn_link nlprnn_link;
NLPRNN_MPI_API int nlprnn_dist_link_create(nlprnn_link **out, nlprnn_error *err);
/** NULL is allowed. */
NLPRNN_API void nlprnn_link_free(nlprnn_link *l);
'''

BAD = [  # (rule, a declaration or change that breaks it)
    ("names", "#define THING 1"),
    ("names", "NLPRNN_API int thing_count(const nlprnn_thing *t);"),
    ("names", "enum { A_VALUE = 1 };"),
    ("names", "/** Per thread. */\ntypedef struct nlprnn_thinging_ctx nlprnn_thinging_ctx;\n"
              "NLPRNN_API int nlprnn_thinging_ctx_create(const nlprnn_thing *t, nlprnn_thinging_ctx **out, nlprnn_error *err);\n"
              "/** NULL is allowed. */\nNLPRNN_API void nlprnn_thinging_ctx_free(nlprnn_thinging_ctx *c);"),
    # a type named after no handle: a callback, a struct, an enum (nlprnn_train_progress_fn,
    # nlprnn_train_progress, nlprnn_forecast_progress_fn before they were the handles')
    ("names", "/** Progress. */\ntypedef int (*nlprnn_fit_progress_fn)(void *user, int epoch);\n"
              "NLPRNN_API int nlprnn_thing_fit(nlprnn_thing *t, nlprnn_fit_progress_fn progress, void *user, nlprnn_error *err);"),
    ("names", "/** Progress. */\ntypedef struct nlprnn_fit_progress { size_t size; int epoch; } nlprnn_fit_progress;"),
    ("names", "/** Modes. */\ntypedef enum nlprnn_mode { NLPRNN_MODE_A = 0 } nlprnn_mode;\n"
              "NLPRNN_API int nlprnn_thing_set_mode(nlprnn_thing *t, nlprnn_mode m, nlprnn_error *err);"),
    # named after a handle whose functions do not take it (nlprnn_series_progress_fn for the
    # forecaster's training, whose first argument is the series)
    ("names", "/** Progress. */\ntypedef int (*nlprnn_sink_progress_fn)(void *user, int epoch);\n"
              "NLPRNN_API int nlprnn_thing_fit(const nlprnn_sink *s, nlprnn_sink_progress_fn progress, void *user, nlprnn_error *err);"),
    ("status", "NLPRNN_API int nlprnn_thing_size(nlprnn_error *err, const nlprnn_thing *t);"),
    ("status", "NLPRNN_API void nlprnn_thing_reset(nlprnn_thing *t, nlprnn_error *err);"),
    ("status", "NLPRNN_API int nlprnn_thing_run_all(nlprnn_thing *t, nlprnn_error *err, nlprnn_error *item_errs);"),
    ("status", "NLPRNN_API int nlprnn_thing_run_two(nlprnn_thing *t, nlprnn_error *err, nlprnn_error *more);"),
    ("out", "NLPRNN_API int nlprnn_thing_train(nlprnn_thing **out, const char *path, nlprnn_error *err);"),
    ("out", "NLPRNN_API nlprnn_thing *nlprnn_thing_copy(const nlprnn_thing *t, nlprnn_error *err);"),
    ("verbs", "NLPRNN_API int nlprnn_thing_from_file(const char *path, nlprnn_thing **out, nlprnn_error *err);"),
    ("verbs", "NLPRNN_API void nlprnn_thing_destroy(nlprnn_thing *t);"),
    ("verbs", "NLPRNN_MPI_API int nlprnn_dist_make_link(nlprnn_link **out, nlprnn_error *err);"),
    ("status", "NLPRNN_MPI_API void nlprnn_dist_link_reset(nlprnn_link *l, nlprnn_error *err);"),
    ("free", "/** A handle. */\ntypedef struct nlprnn_widget nlprnn_widget;\n"
             "NLPRNN_API int nlprnn_widget_create(nlprnn_widget **out, nlprnn_error *err);"),
    ("free", "/** A handle. */\ntypedef struct nlprnn_gadget nlprnn_gadget;\n"
             "NLPRNN_API int nlprnn_gadget_create(nlprnn_gadget **out, nlprnn_error *err);\n"
             "/** Free it. */\nNLPRNN_API void nlprnn_gadget_free(nlprnn_gadget *g);"),
    ("free", "/** A stream. */\ntypedef struct nlprnn_pipe nlprnn_pipe;\n"
             "NLPRNN_API int nlprnn_pipe_open(const char *path, nlprnn_pipe **out, nlprnn_error *err);\n"
             "NLPRNN_API int nlprnn_pipe_commit(nlprnn_pipe *p, nlprnn_error *err);\n"
             "/** Give up. */\nNLPRNN_API void nlprnn_pipe_abort(nlprnn_pipe *p);"),
    ("structs", "typedef struct nlprnn_stats { double mean; size_t size; } nlprnn_stats;"),
    ("params", "typedef struct nlprnn_other_params nlprnn_other_params;\n"
               "NLPRNN_API int nlprnn_other_params_create(nlprnn_other_params **out, nlprnn_error *err);\n"
               "/** NULL is allowed. */\nNLPRNN_API void nlprnn_other_params_free(nlprnn_other_params *p);\n"
               "NLPRNN_API int nlprnn_other_params_set(nlprnn_other_params *p, int option, double value, nlprnn_error *err);\n"
               "NLPRNN_API int nlprnn_other_params_get(const nlprnn_other_params *p, const char *name, char *buf, size_t cap, nlprnn_error *err);"),
    ("evaluate", "NLPRNN_API int nlprnn_thing_eval(const nlprnn_thing *t, double *loss, nlprnn_error *err);"),
    ("evaluate", "NLPRNN_API int nlprnn_thing_evaluate2(void);\n"
                 "NLPRNN_API int nlprnn_other_evaluate(const nlprnn_thing *t, double *loss, nlprnn_error *err);"),
    ("deprecated", "NLPRNN_API int nlprnn_thing_old(void) NLPRNN_DEPRECATED(\"use nlprnn_thing_gone\");"),
    ("deprecated", "typedef nlprnn_thing_progress_fn nlprnn_old_fn NLPRNN_DEPRECATED(\"use nlprnn_thing_gone_fn\");"),
]


def self_test():
    fails = 0
    probs, _ = run_text(GOOD)
    if probs:
        fails += 1
        print("check-api self-test: the good header is reported:", file=sys.stderr)
        for p in probs:
            print("   ", *p, file=sys.stderr)
    for rule, bad in BAD:
        probs, _ = run_text(GOOD + "\n" + bad + "\n")
        if not any(r == rule for _, r, _ in probs):
            fails += 1
            print(f"check-api self-test: not reported as '{rule}': {bad}", file=sys.stderr)
            for p in probs:
                print("   ", *p, file=sys.stderr)
    print(f"check-api self-test: {len(BAD)} broken headers, {len(BAD) - fails if fails <= len(BAD) else 0} "
          f"reported as expected; the good header is {'clean' if not run_text(GOOD)[0] else 'NOT clean'}")
    return 1 if fails else 0


def run_text(text):
    api = Api()
    api.add("self-test.h", text)
    return api.check(), api


def main(argv):
    verbose = "--verbose" in argv
    args = [a for a in argv if not a.startswith("--")]
    if "--self-test" in argv:
        return self_test()
    if any(a.startswith("--") and a not in ("--verbose",) for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    paths = args or [os.path.join(ROOT, "include", "nlprnn.h")] + sorted(
        glob.glob(os.path.join(ROOT, "include", "nlprnn", "*.h")))
    problems, api = run(paths, verbose)
    for where, rule, msg in problems:
        print(f"{where}: [{rule}] {msg}", file=sys.stderr)
    if problems:
        print(f"check-api: {len(problems)} violations of the API convention (docs/api.md)", file=sys.stderr)
        return 1
    print(f"check-api: ok ({len(api.funcs)} functions, {len(api.handles)} handle types, "
          f"{len(api.structs)} structs follow the convention of docs/api.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
