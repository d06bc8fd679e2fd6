"""Errors: every refusal is a SrcadError that points at the user's code.

* Constructs outside the supported language are refused when the function is
  transformed, with a message that names the construct and shows the file,
  line, column, source line, a caret under the column and a hint.
* Odd but valid functions never make an internal error escape.
* Functions without source, bad ``wrt`` arguments: clear errors.
* Integer inputs give float gradients.
* An error raised while generated code runs shows the generated line and the
  user's line it comes from.
* ``check_finite=True`` names the line where a gradient first becomes NaN/inf.

Every snippet is written to a real module file and imported, because srcad
reads the source of what it transforms.
"""

import functools
import importlib.util
import itertools
import math
import re
import textwrap
import traceback

import numpy as np
import pytest

import srcad

from helpers import numerical_grad

_count = itertools.count()


@pytest.fixture(scope="module")
def moddir(tmp_path_factory):
    return tmp_path_factory.mktemp("error_snippets")


def load(directory, source, name="f"):
    """Write ``source`` (after a fixed two-line header) to a module; return ``name``."""
    module_name = f"srcad_error_snippet_{next(_count)}"
    path = directory / f"{module_name}.py"
    path.write_text(HEADER + textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name), path


HEADER = "import math\nimport numpy as np\n"


# --------------------------------------------------------------------------
# the language fence
# --------------------------------------------------------------------------

# (id, source, words the message must contain, text at the caret: the error
# points at the first character of the first line containing it)
REFUSED = [
    ("try", """
        def f(x):
            try:
                y = x * 2.0
            except ValueError:
                y = x
            return y
        """, ["try"], "try:"),
    ("try-finally", """
        def f(x):
            try:
                y = x * 2.0
            finally:
                pass
            return y
        """, ["try"], "try:"),
    ("with", """
        def f(x):
            with np.errstate(all="ignore"):
                y = x * 2.0
            return y
        """, ["with"], "with np"),
    ("yield", """
        def f(x):
            yield x * 2.0
        """, ["yield"], "yield"),
    ("yield-from", """
        def f(x):
            yield from [x, x]
        """, ["yield from"], "yield from"),
    ("async-def", """
        async def f(x):
            return x * 2.0
        """, ["async"], "async def"),
    ("await", """
        async def f(x):
            y = await x
            return y
        """, ["async", "await"], "async def"),
    ("global-write", """
        G = 0.0
        def f(x):
            global G
            G = x
            return x * 2.0
        """, ["global"], "global G"),
    ("nonlocal-write", """
        def outer():
            v = 0.0
            def f(x):
                nonlocal v
                v = x
                return x * 2.0
            return f
        f = outer()
        """, ["nonlocal"], "nonlocal v"),
    ("class", """
        def f(x):
            class A:
                pass
            return x * 2.0
        """, ["class"], "class A"),
    ("del", """
        def f(x):
            y = x * 2.0
            del y
            return x
        """, ["del"], "del y"),
    ("match", """
        def f(x):
            match x:
                case 1.0:
                    return x
            return x * 2.0
        """, ["match"], "match x"),
    ("import", """
        def f(x):
            import os
            return x * 2.0
        """, ["import"], "import os"),
    ("import-from", """
        def f(x):
            from os import path
            return x * 2.0
        """, ["import"], "from os"),
    ("lambda-in-a-branch", """
        def f(x):
            if x > 0:
                g = lambda t: t * 2.0
            else:
                g = lambda t: t * 3.0
            return g(x)
        """, ["lambda"], "lambda t"),
    ("lambda-argument", """
        def f(x):
            return np.sum(np.apply_along_axis(lambda t: t * x, 0, x))
        """, ["lambda", "reads x", "can only be called"], "lambda t"),
    ("nested-def-in-a-branch", """
        def f(x):
            if x > 0:
                def g(t):
                    return t * 2.0
                x = g(x)
            return x
        """, ["nested function", "branch or loop"], "def g"),
    ("nested-def-passed-as-a-value", """
        def f(x):
            def g(t):
                return t * x
            return np.sum(np.apply_along_axis(g, 0, x))
        """, ["nested function", "only be called"], "g, 0"),
    ("nested-def-returned", """
        def f(x):
            def g(t):
                return t * x
            fs = [g]
            return fs[0](x)
        """, ["nested function", "only be called"], "g]"),
    ("nested-def-and-assignment", """
        def f(x):
            def g(t):
                return t * 2.0
            y = g(x)
            g = 3.0
            return y * g
        """, ["bound both"], "g = 3.0"),
    ("nested-def-decorated", """
        def f(x):
            @np.vectorize
            def g(t):
                return t * 2.0
            return g(x)
        """, ["decorated", "nested function"], "np.vectorize"),
    ("nested-def-computed-default", """
        def f(x):
            def g(t, s=x * 2.0):
                return t * s
            return g(x)
        """, ["default", "constants"], "x * 2.0"),
    ("nested-def-used-before-definition", """
        def f(x):
            y = g(x)
            def g(t):
                return t * 2.0
            return y
        """, ["before it is defined"], "g(x)"),
    ("nested-def-defined-twice", """
        def f(x):
            def g(t):
                return t * 2.0
            y = g(x)
            def g(s):
                return s * 3.0
            return y + g(x)
        """, ["defined twice"], "def g(s)"),
    ("nested-def-given-its-closure-variable", """
        def f(x, w):
            def g(t):
                return t * w
            return g(x, w=2.0)
        """, ["no parameter 'w'"], "2.0)"),
    ("nested-def-nonlocal", """
        def f(x):
            s = 0.0
            def g(t):
                nonlocal s
                s = t
                return t * 2.0
            return g(x) + s
        """, ["nonlocal"], "nonlocal s"),
    ("set-comprehension", """
        def f(x):
            s = {t for t in x}
            return np.sum(x)
        """, ["set comprehension"], "{t for"),
    ("starred-call", """
        def f(x, n):
            args = [x] * n
            return np.add(*args)
        """, ["*args", "cannot tell which arguments"], "np.add(*args)"),
    ("starred-list", """
        def f(x):
            return np.sum(np.stack([*x]))
        """, ["starred"], "*x"),
    ("starred-assignment", """
        def f(x):
            a, *b = x
            return a
        """, ["starred"], "a, *b"),
    ("walrus", """
        def f(x):
            if (y := x * 2.0) > 0:
                return y
            return x
        """, [":="], "y :="),
    ("dict-unpacking", """
        def f(x, other):
            d = {"a": x, **other}
            return d["a"]
        """, ["**", "dict display"], "other}"),
    ("dict-computed-keys", """
        def f(x, k1, k2):
            d = {k1: x, k2: 2.0 * x}
            return d[k1]
        """, ["constant keys"], "k1:"),
    ("dict-items-one-name", """
        def f(p):
            s = 0.0
            for item in p.items():
                s = s + item[1]
            return s
        """, ["d.items()"], "item in"),
    ("set-display", """
        def f(x):
            s = {1, 2}
            return x * 2.0
        """, ["set"], "{1, 2}"),
    ("f-string", """
        def f(x):
            s = f"{x}"
            return x * 2.0
        """, ["f-string"], 'f"{x}"'),
    ("attribute-assignment", """
        class A:
            pass
        OBJ = A()
        def f(x):
            OBJ.v = x
            return x * 2.0
        """, ["attribute"], "OBJ.v ="),
    ("subscript-assignment-into-argument", """
        def f(x):
            x[0] = 1.0
            return np.sum(x)
        """, ["in place", "argument"], "x[0] ="),
    ("kwargs-in-call", """
        def f(x, kw):
            return np.sum(x, **kw)
        """, ["**kw", "cannot tell which arguments"], 'np.sum(x, **kw)'),
]


def _located(message):
    """(file, line, column, source line, caret column) parsed from a message."""
    where = re.search(r'File "(?P<file>[^"]+)", line (?P<line>\d+), column (?P<col>\d+)', message)
    assert where, message
    lines = message.splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("File "))
    source_line, caret_line = lines[at + 1], lines[at + 2]
    assert caret_line.strip() == "^", message
    return (where["file"], int(where["line"]), int(where["col"]),
            source_line, caret_line.index("^") - 4)


@pytest.mark.parametrize("source, words, at", [case[1:] for case in REFUSED],
                         ids=[case[0] for case in REFUSED])
def test_unsupported_construct_is_refused_with_location(moddir, source, words, at):
    f, path = load(moddir, source)
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)
    error = info.value
    message = str(error)
    assert isinstance(error, (srcad.UnsupportedSyntaxError, srcad.NonDifferentiableError)), message
    for word in words:
        assert word in message.splitlines()[0], message          # names the construct
    file_lines = path.read_text().splitlines()
    lineno = next(i for i, line in enumerate(file_lines, 1) if at in line)
    column = file_lines[lineno - 1].index(at)
    filename, line, col, source_line, caret = _located(message)
    assert filename == str(path)
    assert line == lineno, message
    assert col == column + 1, message                            # 1-based in the message
    assert source_line.strip() == file_lines[lineno - 1].strip()
    indent = len(file_lines[lineno - 1]) - len(file_lines[lineno - 1].lstrip())
    assert caret == column - indent, message                     # the caret under the column
    assert re.search(r"^hint: \S", message, re.MULTILINE), message
    assert (error.filename, error.lineno, error.col) == (str(path), lineno, column)


def test_every_refused_statement_kind_is_covered():
    """Each statement and expression kind in the fence has a case above."""
    from srcad.normalize import UNSUPPORTED_EXPRESSIONS, UNSUPPORTED_STATEMENTS
    covered = " ".join(case[0] for case in REFUSED)
    for kind in list(UNSUPPORTED_STATEMENTS) + list(UNSUPPORTED_EXPRESSIONS):
        words = {"Try": "try", "TryStar": "try", "With": "with", "AsyncWith": "async",
                 "AsyncFor": "async", "AsyncFunctionDef": "async", "Global": "global",
                 "Nonlocal": "nonlocal", "ClassDef": "class", "Delete": "del",
                 "Import": "import", "ImportFrom": "import", "Match": "match",
                 "Yield": "yield", "YieldFrom": "yield-from", "Await": "await",
                 "Lambda": "lambda", "SetComp": "set-comprehension",
                 "DictComp": "dict-comprehension", "ListComp": "list",
                 "GeneratorExp": "generator", "NamedExpr": "walrus", "Starred": "starred",
                 "Dict": "dict-display", "Set": "set-display", "JoinedStr": "f-string"}
        word = words.get(kind.__name__)
        assert word is not None and word in covered, kind.__name__


# --------------------------------------------------------------------------
# odd but valid functions: no internal error escapes
# --------------------------------------------------------------------------

ODD = {
    "constant": "def f(x):\n    return 3.0\n",
    "identity": "def f(x):\n    return x\n",
    "other-parameter": "def f(x, y):\n    return y * 2.0\n",
    "docstring": "def f(x):\n    '''doc'''\n    return x * 2.0\n",
    "integer-output": "def f(x):\n    return 1\n",
    "assert": "def f(x):\n    assert x > -100, 'message'\n    return x * 2.0\n",
    "raise-not-taken": "def f(x):\n    if x > 100:\n        raise ValueError('big')\n    return x * 2.0\n",
    "print": "def f(x):\n    print(end='')\n    return x * 2.0\n",
    "string-methods": "def f(x):\n    s = 'a %s'.upper()\n    t = '{}'.format(1)\n    return x * 2.0\n",
    "bytes-and-complex-constants": "def f(x):\n    b = b'abc'\n    c = 1j\n    return x * 2.0\n",
    "chained-comparison": "def f(x):\n    if -10 < x < 10:\n        return x * 2.0\n    return x\n",
    "if-expression": "def f(x):\n    return x * 2.0 if x > 0 else -x\n",
    "and-or": "def f(x):\n    y = x > 0 and x < 5\n    return x * 2.0 if y else x\n",
    "or-value": "def f(x):\n    y = x or 1.0\n    return y * 2.0\n",
    "is-none": "def f(x, y=None):\n    if y is None:\n        y = 2.0\n    return x * y\n",
    "keyword-only": "def f(x, *, scale=2.0):\n    return x * scale\n",
    "positional-only": "def f(x, /, y=1.0):\n    return x * y\n",
    "annotations": "def f(x: float) -> float:\n    y: float = x * 2.0\n    z: float\n    return y\n",
    "multiple-targets": "def f(x):\n    a = b = x * 2.0\n    return a * b\n",
    "swap": "def f(x, y):\n    x, y = y, x\n    return x * 2.0 + y\n",
    "nested-unpacking": "def f(x):\n    (a, b), c = (x, x), x\n    return a * b * c\n",
    "for-else": "def f(x):\n    for i in range(3):\n        x = x * 2.0\n    else:\n        x = x * x\n    return x\n",
    "while-else": ("def f(x):\n    n = 0\n    while n < 3:\n        x = x * 2.0\n        n = n + 1\n"
                   "    else:\n        x = x * x\n    return x\n"),
    "while-true-break": ("def f(x):\n    n = 0\n    while True:\n        x = x * 1.5\n        n += 1\n"
                         "        if n >= 3:\n            break\n    return x\n"),
    "continue": ("def f(x):\n    for i in range(4):\n        if i % 2 == 0:\n            continue\n"
                 "        x = x * 2.0\n    return x\n"),
    "return-in-loop": ("def f(x):\n    for i in range(10):\n        x = x * 2.0\n        if i == 2:\n"
                       "            return x\n    return x\n"),
    "empty-range": "def f(x):\n    for i in range(0):\n        x = x * 2.0\n    return x\n",
    "range-step": "def f(x):\n    for i in range(5, 0, -2):\n        x = x * i\n    return x\n",
    "loop-over-constants": "def f(x):\n    for c in [1.0, 2.0]:\n        x = x * c\n    return x\n",
    "loop-variable-after-loop": "def f(x):\n    for i in range(3):\n        pass\n    return x * i\n",
    "nested-loops": ("def f(x):\n    s = 0.0\n    for i in range(2):\n        for j in range(2):\n"
                     "            s = s + x * i * j\n    return s\n"),
    "if-elif-else": ("def f(x):\n    if x > 1:\n        y = x\n    elif x > 0:\n        y = x * 2.0\n"
                     "    else:\n        y = x * 3.0\n    return y\n"),
    "int-and-float-casts": "def f(x):\n    k = int(x)\n    return float(x) * 2.0 + k\n",
    "round": "def f(x):\n    return round(x) + x\n",
    "negative-power": "def f(x):\n    return x ** -1\n",
    "floor-division-and-modulo": "def f(x):\n    return (x // 1.0) * x + x % 1.0\n",
    "numpy-scalar-constructor": "def f(x):\n    return np.float64(2.0) * x\n",
    "isinstance": "def f(x):\n    if isinstance(x, float):\n        return x * 2.0\n    return x\n",
    "builtin-max": "def f(x, y):\n    return max(x, y)\n",
    "builtin-max-three": "def f(x, y):\n    return max(x, y, 0.0)\n",
    "builtin-min-of-list": "def f(x):\n    return min([x, 2.0])\n",
    "builtin-abs": "def f(x):\n    return abs(x)\n",
    "math-functions": "def f(x):\n    return math.sin(x) * math.exp(x) + math.pi\n",
    "global-read": "K = 3.0\ndef f(x):\n    return K * x\n",
    "global-dict-read": "CFG = {'a': 2.0}\ndef f(x):\n    return CFG['a'] * x\n",
    "closure-read": "def mk():\n    k = 2.0\n    def f(x):\n        return k * x\n    return f\nf = mk()\n",
    "function-in-a-global": "G = np.sin\ndef f(x):\n    return G(x)\n",
    "computed-callee": "def mk():\n    return np.sin\ndef f(x):\n    return mk()(x)\n",
    "subscripted-callee": "FS = [np.sin]\ndef f(x):\n    return FS[0](x)\n",
    "nested-def": "def f(x):\n    def g(t):\n        return t * 2.0\n    return g(x)\n",
    "lambda-itself": "f = lambda x: x * 2.0\n",
    "two-lambdas-on-a-line": "f, g = lambda x: x * 2.0, lambda y: y\n",
    "empty-list": "def f(x):\n    l = []\n    return x * 2.0\n",
    "list-append": "def f(x):\n    l = []\n    l.append(x)\n    return l[0] * 2.0\n",
    "tuple-index": "def f(x):\n    t = (x, 2.0)\n    return t[0] * t[1]\n",
    "helper-function": "def h(t):\n    return t * t\ndef f(x):\n    return h(x) + x\n",
    "helper-with-varargs": "def h(*ts):\n    return ts[0] * ts[1]\ndef f(x):\n    return h(x, x)\n",
    "recursion": "def f(x, n=3):\n    if n == 0:\n        return x\n    return f(x * 2.0, n - 1)\n",
    "method-of-a-global-object": ("class A:\n    def m(self, t):\n        return t * 2.0\nOBJ = A()\n"
                                  "def f(x):\n    return OBJ.m(x)\n"),
    "unknown-numpy-function": "def f(x):\n    return np.sum(np.linalg.svd(x)[1])\n",
    "random-numbers": "def f(x):\n    r = np.random.default_rng(0).random()\n    return x * r\n",
    "multi-line-statement": "def f(x):\n    y = (x +\n         x * 2.0)\n    return y\n",
    "semicolons": "def f(x):\n    a = x * 2.0; b = a + 1.0\n    return b\n",
    "unused-parameter": "def f(x, y):\n    return y * 2.0\n",
    "parameter-rebound-to-constant": "def f(x):\n    x = 2.0\n    return x\n",
    "returns-none-on-a-path": "def f(x):\n    if x > 0:\n        return x\n",
    "returns-none": "def f(x):\n    pass\n",
    "returns-tuple": "def f(x):\n    return x, x\n",
    "array-ops": ("def f(x):\n    y = x[None, :] * x[:, None]\n    z = x[::-1] + x[-1]\n"
                  "    return np.sum(y) + np.sum(z) + np.sum(x[x > 0]) + np.sum(x[[0, 1]])\n"),
    "array-attributes": "def f(x):\n    return np.sum(x.T) / x.shape[0] + np.sum(x) / x.size + len(x)\n",
    "array-methods": "def f(x):\n    return x.sum() + x.mean() + x.copy().dot(x) + x.reshape(-1, 1).sum()\n",
    "keepdims": "def f(x):\n    return np.sum(x / np.sum(x, axis=-1, keepdims=True))\n",
    "sum-over-axis-of-a-scalar": "def f(x):\n    return np.sum(np.sum(x, axis=0))\n",
    "comprehension": "def f(x):\n    return sum([t * t for t in x])\n",
    "generator-expression": "def f(x):\n    return sum(t * t for t in x)\n",
    "augmented-matmul": "def f(x):\n    y = x\n    y @= np.eye(3)\n    return np.sum(y)\n",
    "in-place-into-local-array": "def f(x):\n    y = np.zeros(3)\n    y[0] = x[1]\n    return np.sum(y * x)\n",
    "ellipsis-and-newaxis": "def f(x):\n    return np.sum(x[..., np.newaxis])\n",
    "slice-object": "def f(x):\n    s = slice(0, 2)\n    return np.sum(x[s])\n",
    "item-and-tolist": "def f(x):\n    return x[0].item() * 2.0 + sum(x.tolist())\n",
    "einsum": "def f(x):\n    return np.einsum('i,i->', x, x)\n",
    "sorted": "def f(x):\n    return np.sum(sorted(x))\n",
    "getattr-call": "def f(x):\n    return np.sum(getattr(x, 'T'))\n",
    "divmod": "def f(x):\n    q, r = divmod(x, 1.0)\n    return r * x\n",
    "enumerate-with-start": ("def f(x):\n    s = 0.0\n    for i, r in enumerate(x, 1):\n"
                             "        s = s + r * i\n    return np.sum(s)\n"),
}

# (id, argument): scalar arguments and arrays; a case whose f itself fails on
# an argument is skipped for it.
ARGUMENTS = [0.7, 2, np.array([0.5, -1.5, 2.5])]

# Known bugs: the derivative raises an internal error where f itself runs.
# (np.sum(x, axis=0) of a Python scalar was one; fixed in runtime.repeat_to.)
KNOWN_ODD_BUGS = {}


def _kind(arg):
    return type(arg).__name__ if not isinstance(arg, np.ndarray) else "array"


def _odd_cases():
    for name, source in ODD.items():
        for arg in ARGUMENTS:
            reason = KNOWN_ODD_BUGS.get((name, _kind(arg)))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(source, arg, id=f"{name}-{_kind(arg)}", marks=marks)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("source, arg", list(_odd_cases()))
def test_odd_functions_raise_only_srcad_errors(moddir, source, arg, capsys):
    f, _ = load(moddir, source)
    n = f.__code__.co_argcount - len(f.__defaults__ or ())
    args = [arg.copy() if isinstance(arg, np.ndarray) else arg for _ in range(n)]
    try:
        d = srcad.grad(f)
    except srcad.SrcadError:
        return                                         # refused clearly: fine
    try:
        f(*args)
    except Exception:
        return                                         # f itself fails here: nothing to compare
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        d(*args)
    except srcad.SrcadError:
        pass
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)            # inputs untouched
    try:                                               # the NaN-debugging pass copes too
        srcad.grad(f, check_finite=True)(*args)
    except srcad.SrcadError:
        pass


# --------------------------------------------------------------------------
# silently wrong gradients found while writing the batch above
# --------------------------------------------------------------------------

@pytest.mark.parametrize("source, x", [
    ("def f(x):\n    l = []\n    l.append(x)\n    return l[0] * 2.0\n", 0.7),
    ("def f(x):\n    q, r = divmod(x, 1.0)\n    return r * x\n", 0.7),
    ("def f(x):\n    return round(x) + x\n", 0.7),
    ("def f(x):\n    for i in range(3):\n        x = x * 2.0\n    else:\n        x = x * x\n    return x\n", 0.7),
], ids=["list-append", "divmod", "round", "for-else"])
def test_odd_functions_that_transform_have_correct_gradients(moddir, source, x):
    f, _ = load(moddir, source)
    try:
        d = srcad.grad(f)
    except srcad.SrcadError:
        return
    np.testing.assert_allclose(d(x), numerical_grad(f, [x], 0), rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------
# functions whose source srcad cannot read
# --------------------------------------------------------------------------

class _CallableObject:
    def __call__(self, x):
        return x * 2.0


def _exec_def():
    namespace = {}
    exec("def q(x):\n    return x * x\n", namespace)
    return namespace["q"]


@pytest.mark.parametrize("make, name", [
    (lambda: eval("lambda x: x * x"), "<lambda>"),
    (_exec_def, "q"),
    (lambda: abs, "abs"),
    (lambda: len, "len"),
    (lambda: math.sin, "sin"),
    (lambda: np.sin, "sin"),
    (lambda: np.sum, "sum"),
    (lambda: functools.partial(np.multiply, 2.0), "partial"),
    (lambda: _CallableObject(), "_CallableObject"),
    (lambda: [].append, "append"),
    (lambda: float, "float"),
], ids=["eval-lambda", "exec-def", "builtin-abs", "builtin-len", "math-sin", "numpy-ufunc",
        "numpy-function", "functools-partial", "callable-object", "builtin-method", "a-class"])
def test_source_unavailable_is_a_clear_error(make, name):
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(make())
    error = info.value
    assert isinstance(error, srcad.SourceUnavailableError), repr(error)
    message = str(error)
    assert name in message, message
    assert re.search(r"^hint: \S", message, re.MULTILINE), message


def test_source_unavailable_for_every_transform():
    f = eval("lambda x: x * x")
    for transform in (srcad.grad, srcad.value_and_grad, srcad.vjp):
        with pytest.raises(srcad.SourceUnavailableError):
            transform(f)
    with pytest.raises(srcad.SourceUnavailableError):
        srcad.graph(f)


# --------------------------------------------------------------------------
# wrt
# --------------------------------------------------------------------------

def two_params(x, y):
    return x * y


@pytest.mark.parametrize("wrt, words", [
    ("z", ["'z'", "x, y"]),                     # no such parameter: names them
    (True, ["True"]),
    (False, ["False"]),
    (None, ["None"]),
    (1.0, ["1.0"]),
    (0.5, ["0.5"]),
    ("0", ["'0'"]),                              # a string is a name, not an index
    (b"x", ["b'x'"]),
    (("x", "x"), ["x", "more than once"]),
    ((0, "x"), ["x", "more than once"]),
    ((1, -1), ["y", "more than once"]),
    ((), ["empty"]),
    ([], ["empty"]),
    (2, ["out of range"]),
    (-3, ["out of range"]),
    ((True,), ["True"]),
    ((0, None), ["None"]),
    ((0, 1.0), ["1.0"]),
    (np.float64(0.0), ["0.0"]),
    (np.bool_(True), ["True"]),
], ids=lambda v: repr(v))
def test_bad_wrt_is_a_wrt_error(wrt, words):
    for transform in (srcad.grad, srcad.value_and_grad, srcad.vjp):
        with pytest.raises(srcad.WrtError) as info:
            transform(two_params, wrt=wrt)
        message = str(info.value)
        for word in words:
            assert word in message, message
        assert isinstance(info.value, srcad.SrcadError)
        assert "hint: " in message, message


@pytest.mark.parametrize("wrt", [True, None, 1.5, "z", (), ("x", "x")], ids=repr)
def test_bad_wrt_in_decorator_form(wrt):
    with pytest.raises(srcad.WrtError):
        srcad.grad(wrt=wrt)(two_params)


def test_bad_wrt_to_graph_and_check_grad():
    with pytest.raises(srcad.WrtError):
        srcad.graph(two_params, wrt="z")
    with pytest.raises(srcad.WrtError):
        srcad.check_grad(two_params, 1.0, 2.0, wrt=True)


# --------------------------------------------------------------------------
# integer inputs promote to float gradients
# --------------------------------------------------------------------------

def uses_both(x, y):
    return x * y + x * x


def ignores_x(x, y):
    return y * 2.0


def sums_square(x):
    return np.sum(x * x)


def ignores_array(x, y):
    return y * 3.0


def _assert_float_like(value, expected):
    assert np.asarray(value).dtype.kind == "f", (value, type(value))
    assert np.shape(value) == np.shape(expected), (value, expected)
    np.testing.assert_allclose(value, expected, rtol=1e-12)


@pytest.mark.parametrize("f, args, expected", [
    (uses_both, (2, 3), 7.0),
    (ignores_x, (2, 3), 0.0),
    (sums_square, (np.arange(3),), np.array([0.0, 2.0, 4.0])),
    (sums_square, (np.arange(3, dtype=np.int32),), np.array([0.0, 2.0, 4.0])),
    (ignores_array, (np.arange(3), 1), np.zeros(3)),
    (uses_both, (np.int64(2), 3), 7.0),
    (ignores_x, (np.int64(2), 3), 0.0),
], ids=["int", "int-unused", "int-array", "int32-array", "int-array-unused",
        "numpy-int", "numpy-int-unused"])
def test_integer_inputs_give_float_gradients(f, args, expected):
    _assert_float_like(srcad.grad(f)(*args), expected)
    value, gradient = srcad.value_and_grad(f)(*args)
    _assert_float_like(gradient, expected)
    out = f(*args)
    _assert_float_like(srcad.vjp(f)(*args, np.ones_like(out, dtype=float)), expected)


def test_integer_inputs_with_tuple_wrt():
    gx, gy = srcad.grad(ignores_x, wrt=(0, 1))(2, 3)
    _assert_float_like(gx, 0.0)
    _assert_float_like(gy, 2.0)


# --------------------------------------------------------------------------
# errors while generated code runs quote the user's line
# --------------------------------------------------------------------------

SHAPES = """
def f(A, x):
    y = A @ x
    return np.sum(np.tanh(y))
"""

DOMAIN = """
def f(x):
    s = x * 2.0
    t = math.log(s)
    return t * s
"""

CALLEE = """
def inner(t):
    u = t - 1.0
    return math.sqrt(u)

def f(x):
    v = x * 2.0
    return inner(v) * 3.0
"""

REVERSE = """
def f(x, y):
    p = x * y
    q = np.sin(p)
    return q
"""


def _traceback_of(call):
    with pytest.raises(Exception) as info:
        call()
    assert not isinstance(info.value, srcad.SrcadError)
    return "".join(traceback.format_exception(info.value))


def _user_line(path, needle):
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_shape_error_shows_generated_and_user_line(moddir):
    f, path = load(moddir, SHAPES)
    d = srcad.grad(f, wrt=(0, 1))
    text = _traceback_of(lambda: d(np.ones((2, 3)), np.ones(4)))
    line = _user_line(path, "y = A @ x")
    # the generated statement and, on the same line, the user's line it comes from
    assert re.search(rf"y = A @ x\s+# <- {path.name}:{line}: y = A @ x", text), text
    assert "<srcad grad_f" in text


def test_domain_error_in_forward_sweep_shows_user_line(moddir):
    f, path = load(moddir, DOMAIN)
    text = _traceback_of(lambda: srcad.grad(f)(-1.0))
    line = _user_line(path, "t = math.log(s)")
    assert re.search(rf"math\.log\(s\)\s+# <- {path.name}:{line}: t = math\.log\(s\)", text), text
    assert "math domain error" in text


def test_error_inside_a_called_function_shows_its_user_line(moddir):
    f, path = load(moddir, CALLEE)
    try:
        d = srcad.grad(f)
    except srcad.UnknownPrimitiveError:
        pytest.skip("srcad does not differentiate calls into user functions")
    text = _traceback_of(lambda: d(0.25))
    line = _user_line(path, "return math.sqrt(u)")
    assert re.search(rf"# <- {path.name}:{line}: return math\.sqrt\(u\)", text), text


NESTED = """
def f(x, w):
    def inner(t):
        u = t * w
        return math.sqrt(u)
    return inner(x * 2.0) * 3.0
"""


def test_error_inside_a_nested_function_shows_its_user_line(moddir):
    f, path = load(moddir, NESTED)
    text = _traceback_of(lambda: srcad.grad(f)(0.25, -1.0))
    line = _user_line(path, "return math.sqrt(u)")
    assert re.search(rf"# <- {path.name}:{line}: return math\.sqrt\(u\)", text), text


def test_unknown_function_inside_a_nested_function_points_at_its_line(moddir):
    f, path = load(moddir, """
        def f(x):
            def g(t):
                s = t * 2.0
                return np.sum(np.fft.fft(s).real)
            return g(x)
        """)
    with pytest.raises(srcad.UnknownPrimitiveError) as info:
        srcad.grad(f)
    error = info.value
    assert (error.filename, error.lineno) == (str(path), _user_line(path, "np.fft.fft(s)"))
    assert "np.fft.fft(s)" in str(error) and "^" in str(error)


def test_error_in_reverse_sweep_shows_user_line(moddir):
    f, path = load(moddir, REVERSE)
    d = srcad.vjp(f, wrt=(0, 1))
    # a cotangent of the wrong shape fails in the reverse sweep
    text = _traceback_of(lambda: d(np.ones(3), np.ones(3), np.ones(4)))
    line = _user_line(path, "q = np.sin(p)")
    assert re.search(rf"# <- {path.name}:{line}: q = np\.sin\(p\)", text), text


def test_source_attribute_stays_clean(moddir):
    f, _ = load(moddir, SHAPES)
    d = srcad.grad(f, wrt=(0, 1))
    assert "# <-" not in d.source
    compile(d.source, "<check>", "exec")


def test_repeated_user_line_is_not_guessed(moddir):
    f, path = load(moddir, """
        def f(x):
            x = x * 2.0
            x = x * 2.0
            return x
        """)
    d = srcad.grad(f)
    import linecache
    text = "".join(linecache.getlines(d.__code__.co_filename))
    first = _user_line(path, "x = x * 2.0")
    for line in text.splitlines():
        m = re.search(rf"# <- {path.name}:([\d or]+): x = x \* 2\.0", line)
        if m:
            numbers = {int(n) for n in re.findall(r"\d+", m.group(1))}
            assert numbers <= {first, first + 1}, line


# --------------------------------------------------------------------------
# NaN debugging: check_finite=True
# --------------------------------------------------------------------------

SQRT_AT_ZERO = """
def f(x):
    a = x * 2.0
    y = np.sqrt(a)
    z = y * 3.0
    return np.sum(z)
"""

LOG_OF_ZERO = """
def f(x, w):
    h = np.tanh(x * w)
    s = 0.0
    for i in range(3):
        s = s + np.log(x * i + 1.0) * h
    return np.sum(s)
"""

SQRT_IN_BRANCH = """
def f(x):
    y = x + 1.0
    if np.sum(y) > 0:
        z = np.sqrt(x)
    else:
        z = x
    return np.sum(z * y)
"""


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_check_finite_names_the_sqrt_line(moddir):
    f, path = load(moddir, SQRT_AT_ZERO)
    d = srcad.grad(f, check_finite=True)
    with pytest.raises(srcad.NonFiniteGradientError) as info:
        d(np.array([1.0, 0.0, 2.0]))
    error = info.value
    line = _user_line(path, "y = np.sqrt(a)")
    assert isinstance(error, srcad.SrcadError)
    assert (error.filename, error.lineno) == (str(path), line)
    message = str(error)
    assert f"line {line}" in message and "y = np.sqrt(a)" in message, message
    assert "inf" in message and "hint: " in message, message
    assert "(1,)" in message                       # the first bad entry


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_check_finite_names_the_log_line_inside_a_loop(moddir):
    f, path = load(moddir, LOG_OF_ZERO)
    d = srcad.grad(f, wrt=(0, 1), check_finite=True)
    with pytest.raises(srcad.NonFiniteGradientError) as info:
        d(np.array([-0.5, 0.3]), 0.7)            # x * 2 + 1 == 0 at i == 2
    assert info.value.lineno == _user_line(path, "s = s + np.log(")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_check_finite_in_a_branch_and_for_every_reverse_transform(moddir):
    f, path = load(moddir, SQRT_IN_BRANCH)
    line = _user_line(path, "z = np.sqrt(x)")
    x = np.array([0.0, 1.0])
    for d in (srcad.grad(f, check_finite=True), srcad.value_and_grad(f, check_finite=True)):
        with pytest.raises(srcad.NonFiniteGradientError) as info:
            d(x)
        assert info.value.lineno == line
    with pytest.raises(srcad.NonFiniteGradientError) as info:
        srcad.vjp(f, check_finite=True)(x, 1.0)
    assert info.value.lineno == line


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_check_finite_reports_nan_from_the_forward_computation(moddir):
    f, path = load(moddir, SQRT_AT_ZERO)
    with pytest.raises(srcad.NonFiniteGradientError) as info:
        srcad.grad(f, check_finite=True)(np.array([1.0, -1.0]))     # sqrt(-2) is nan
    assert info.value.lineno == _user_line(path, "y = np.sqrt(a)")
    assert "nan" in str(info.value)


def test_check_finite_passes_finite_gradients_unchanged(moddir):
    f, _ = load(moddir, LOG_OF_ZERO)
    x, w = np.array([0.5, 0.3]), 0.7
    checked = srcad.grad(f, wrt=(0, 1), check_finite=True)(x, w)
    plain = srcad.grad(f, wrt=(0, 1))(x, w)
    for a, b in zip(checked, plain):
        np.testing.assert_array_equal(a, b)


def test_check_finite_is_cached_separately_and_default_code_has_no_checks(moddir):
    f, _ = load(moddir, SQRT_AT_ZERO)
    plain = srcad.grad(f)
    checked = srcad.grad(f, check_finite=True)
    assert checked is not plain
    assert checked is srcad.grad(f, check_finite=True)
    assert plain is srcad.grad(f)
    assert "check_finite" not in plain.source
    assert "check_finite" in checked.source
    assert srcad.grad(check_finite=True)(f) is checked          # decorator form


def test_check_finite_decorator_with_wrt(moddir):
    f, _ = load(moddir, LOG_OF_ZERO)
    d = srcad.grad(wrt=("x", "w"), check_finite=True)(f)
    assert "check_finite" in d.source


def test_check_finite_helper_directly():
    from srcad.debug import check_finite
    check_finite(1.0, "m.py:3: y = x", "dy")
    check_finite(np.ones(3), "m.py:3: y = x", "dy")
    check_finite([np.ones(2), 2.0], "m.py:3: y = x", "dy")
    check_finite(np.arange(3), "m.py:3: y = x", "dy")           # integers are finite
    for bad in (float("nan"), float("inf"), np.float64("-inf"), np.array([1.0, np.nan]),
                [np.ones(2), np.array([np.inf])], complex(0, np.nan)):
        with pytest.raises(srcad.NonFiniteGradientError) as info:
            check_finite(bad, "m.py:3: y = x", "dy")
        assert info.value.lineno == 3 and info.value.filename == "m.py"
        assert "dy" in str(info.value)


CALLS_SQRT = """
def h(t):
    return np.sqrt(t)

def f(x):
    y = x * 2.0
    z = h(y)
    return np.sum(z)
"""


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_check_finite_reports_a_callee_at_its_call_line(moddir):
    f, path = load(moddir, CALLS_SQRT)
    try:
        d = srcad.grad(f, check_finite=True)
    except srcad.UnknownPrimitiveError:
        pytest.skip("srcad does not differentiate calls into user functions")
    with pytest.raises(srcad.NonFiniteGradientError) as info:
        d(np.array([1.0, 0.0]))
    assert info.value.lineno == _user_line(path, "z = h(y)")


@pytest.mark.parametrize("name", ["jvp", "jacobian", "hessian", "hvp"])
def test_check_finite_is_refused_by_forward_transforms(name):
    transform = getattr(srcad, name, None)
    if transform is None:
        pytest.skip(f"srcad.{name} does not exist")
    # not in their signatures (issue 15): Python refuses the keyword
    with pytest.raises(TypeError, match="check_finite"):
        transform(two_params, check_finite=True)
