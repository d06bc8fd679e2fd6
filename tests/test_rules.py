"""Every derivative rule, called directly, against central finite differences.

For each case of ``rule_cases.CASES``: ``ans = prim(*args)``, a seeded random
cotangent ``g`` shaped like ``ans``, and ``rule(g, ans, *args)`` must give, for
each differentiable argument ``x``, the gradient of ``sum(g * prim(*args))``
with respect to ``x``: same shape as ``x``, a float dtype, a fresh writable
array that shares no memory with the inputs, and the inputs left unchanged.
Then: every shipped rule has a case, rules are inlinable templates whose
parameters carry NumPy's names, and the conventions at non-differentiable
points hold.
"""

import ast
import copy
import inspect
import math
import operator
import sys
import textwrap
import zlib

import numpy as np
import pytest

import srcad.rules
from srcad.errors import SrcadError
from srcad.rules import ADJOINTS, NONDIFFERENTIABLE, is_nondifferentiable, lookup
from srcad.rules.registry import key
from srcad import runtime as rt
from srcad.runtime import UnsupportedArgumentError

from rule_cases import CASES, name_of
from rule_cases_scipy import CASES as SCIPY_CASES

EPS = 1e-6      # relative step of the central differences
RTOL = 1e-6
ATOL = 1e-8     # scaled by the size of sum(|g * ans|)


# --- finite differences ------------------------------------------------------------

def numeric_gradient(f, x):
    """Central differences of the scalar function ``f`` at ``x`` (a float or an array)."""
    if isinstance(x, float):
        h = EPS * max(1.0, abs(x))
        return (f(x + h) - f(x - h)) / (2 * h)
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        h = EPS * max(1.0, abs(x[index]))
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (f(up) - f(down)) / (up[index] - down[index])
    return grad


VALUES = type({}.values())        # the result of d.values(): a sequence here


def cotangent(ans, seed):
    if isinstance(ans, dict):
        return {k: cotangent(a, seed + j + 1) for j, (k, a) in enumerate(ans.items())}
    if isinstance(ans, (tuple, list, VALUES)):     # a sequence of arrays (unconcatenate): one each
        return tuple(cotangent(a, seed + k + 1) for k, a in enumerate(ans))
    rng = np.random.default_rng(seed)
    if isinstance(ans, float):
        return float(rng.standard_normal())
    return rng.standard_normal(np.shape(ans))


def pairing(g, value, absolute=False):
    """``sum(g * value)``, over every array of a sequence or dict result too."""
    if isinstance(g, dict):
        return sum(pairing(g[k], value[k], absolute) for k in g)
    if isinstance(g, tuple):
        return sum(pairing(gk, vk, absolute) for gk, vk in zip(g, value, strict=True))
    terms = g * np.asarray(value, dtype=np.float64)
    return float(np.sum(np.abs(terms) if absolute else terms))


def outputs_of(rule):
    """How many gradients ``rule`` returns: a tuple literal returns one per element."""
    body = _function_def(rule).body
    value = body[-1].value
    return len(value.elts) if isinstance(value, ast.Tuple) else 1


def _function_def(rule):
    return ast.parse(textwrap.dedent(inspect.getsource(rule))).body[0]


def _leaves(value):
    """The arrays and floats inside an argument (a sequence or dict argument holds several)."""
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return type(a) is type(b) and (a == b if not isinstance(a, float) or a == a else b != b)


def _replace_item(seq, j, value):
    if isinstance(seq, dict):           # a copy of the same type (a DictAdjoints keeps its primal)
        items = copy.copy(seq)
        items[j] = value
        return items
    items = list(seq)
    items[j] = value
    return type(seq)(*items) if hasattr(type(seq), "_fields") else type(seq)(items)   # namedtuple


def check_form(grad, x, args, what):
    """A gradient has exactly x's shape, a float dtype, and is a fresh writable array."""
    assert grad is not None, f"{what}: no gradient"
    assert np.shape(grad) == np.shape(x), f"{what}: shape {np.shape(grad)} != {np.shape(x)}"
    assert np.asarray(grad).dtype.kind == "f", f"{what}: dtype {np.asarray(grad).dtype}"
    if isinstance(grad, np.ndarray):
        # (or a lazy zero, a list adjoint's untouched entry: like() gives the user a dense one)
        assert grad.flags.writeable or rt.is_lazy_zero(grad), f"{what}: read-only gradient"
        for arg in args:
            for leaf in _leaves(arg):
                if isinstance(leaf, np.ndarray):
                    assert not np.shares_memory(grad, leaf), f"{what}: aliases an input"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_matches_finite_differences(case):
    rule = lookup(case.primitive)
    assert rule is not None, f"no reverse rule for {name_of(case.primitive)}"
    before = copy.deepcopy(case.args)
    ans = case.call()
    g = cotangent(ans, zlib.crc32(case.id.encode()))
    result = rule(g, ans, *case.rule_args(), **case.kwargs)
    assert _same(case.args, before), "the rule modified its inputs"

    n = outputs_of(rule)
    grads = result if n > 1 else (result,)
    assert isinstance(grads, tuple) and len(grads) == n

    def objective(args):
        return pairing(g, case.call(args))

    scale = max(1.0, pairing(g, ans, absolute=True))
    for i in case.diff:
        assert i < n, f"the rule gives no gradient for argument {i}"
        arg, grad = case.args[i], grads[i]
        if isinstance(arg, dict):
            assert isinstance(grad, dict), f"argument {i} is a dict: its gradient must be a dict"
            parts = [(grad[k], arg[k], f"argument {i}[{k!r}]",
                      lambda v, k=k: objective(case.replace(i, _replace_item(arg, k, v))))
                     for k in arg]
        elif isinstance(arg, (tuple, list)):
            assert isinstance(grad, tuple) and len(grad) == len(arg), \
                f"argument {i} is a sequence of {len(arg)}: its gradient must be a tuple as long"
            parts = [(grad[j], arg[j], f"argument {i}[{j}]",
                      lambda v, j=j: objective(case.replace(i, _replace_item(arg, j, v))))
                     for j in range(len(arg))]
        else:
            parts = [(grad, arg, f"argument {i}", lambda v: objective(case.replace(i, v)))]
        for grad_j, x_j, what, f in parts:
            check_form(grad_j, x_j, case.args, what)
            expected = numeric_gradient(f, x_j)
            error = np.abs(np.asarray(grad_j, dtype=np.float64) - expected)
            tolerance = ATOL * scale + RTOL * np.abs(expected)
            assert np.all(error <= tolerance), (
                f"{what}: rule gives\n{np.asarray(grad_j)}\nfinite differences give\n{expected}")


# --- the tables --------------------------------------------------------------------

def shipped_rules():
    """The rules srcad's own tables register (other tests may register more)."""
    return {k: rule for k, rule in ADJOINTS.items()
            if getattr(rule, "__module__", "").startswith("srcad.rules.")}


def test_every_shipped_rule_has_a_case():
    covered = {key(c.primitive) for c in CASES + SCIPY_CASES}
    missing = sorted(name_of(rule.srcad_primitives[0]) + f" ({k!r})"
                     for k, rule in shipped_rules().items() if k not in covered)
    assert not missing, "rules without a case in rule_cases(_scipy).py: " + ", ".join(missing)


NONDIFFERENTIABLE_PRIMITIVES = [
    len, int, round, bool, isinstance, range, type,
    math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
    np.sign, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix,
    np.argmax, np.argmin, np.argsort,
    np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like,
    np.arange, np.eye, np.identity, np.shape, np.ndim, np.size,
    np.isnan, np.isinf, np.isfinite,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.nonzero, np.count_nonzero, np.any, np.all, np.allclose, np.isclose, np.array_equal,
    np.floor_divide,
    np.ndarray.argmax, np.ndarray.argmin, np.ndarray.nonzero, np.ndarray.any, np.ndarray.all,
]


@pytest.mark.parametrize("primitive", NONDIFFERENTIABLE_PRIMITIVES, ids=name_of)
def test_nondifferentiable_primitives_are_listed(primitive):
    assert is_nondifferentiable(primitive)
    assert key(primitive) in NONDIFFERENTIABLE
    assert lookup(primitive) is None


@pytest.mark.parametrize("primitive", [np.sort, np.linalg.slogdet, np.linspace, np.clip],
                         ids=name_of)
def test_differentiable_primitives_are_never_constants(primitive):
    """Marking these constant would silently drop gradients."""
    assert not is_nondifferentiable(primitive)


# --- rules are templates the generator can inline ------------------------------------

_FORBIDDEN = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
              ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await)


@pytest.mark.parametrize("rule", sorted(set(shipped_rules().values()), key=lambda r: r.__qualname__),
                         ids=lambda r: f"{r.__module__.rsplit('.', 1)[-1]}.{r.__qualname__}")
def test_rule_is_an_inlinable_template(rule):
    fdef = _function_def(rule)
    body = fdef.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    *prelude, ret = body
    assert isinstance(ret, ast.Return) and ret.value is not None
    local = set()
    for stmt in prelude:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], ast.Name), ast.unparse(stmt)
        local.add(stmt.targets[0].id)
    params = {a.arg for a in fdef.args.args + fdef.args.kwonlyargs + fdef.args.posonlyargs}
    params |= {a.arg for a in (fdef.args.vararg, fdef.args.kwarg) if a is not None}
    known = params | local | set(vars(sys.modules[rule.__module__]))
    for stmt in body:
        for node in ast.walk(stmt):
            assert not isinstance(node, _FORBIDDEN), ast.unparse(node)
            if isinstance(node, ast.Name):
                assert node.id in known, f"{rule.__qualname__} uses {node.id!r}"


# Keywords a rule need not accept: a call that uses one is refused with a
# RuleError by the pipeline (the rule's signature does not bind), never
# differentiated wrongly.
_IGNORED = {"out", "where", "initial", "subok", "casting", "copy", "mean", "correction",
            "device", "retstep", "like", "dtype", "kwargs"}
_IGNORED_FOR = {"np.clip": {"min", "max"}}      # NumPy >= 2.1 aliases of a_min, a_max


def _pairs():
    for k, rule in shipped_rules().items():
        primitive = next(p for p in rule.srcad_primitives if key(p) == k)
        if isinstance(primitive, np.ufunc):
            yield primitive, rule
            continue
        try:
            inspect.signature(primitive)
        except (TypeError, ValueError):
            continue                    # math.log, max: no introspectable names
        yield primitive, rule


_PAIRS = list(_pairs())


@pytest.mark.parametrize("primitive, rule", _PAIRS, ids=[name_of(p) for p, _ in _PAIRS])
def test_rule_parameters_bind_like_the_primitive(primitive, rule):
    """Keyword calls bind to the rule by NumPy's names; positional calls by position."""
    mine = list(inspect.signature(rule).parameters.values())[2:]
    if isinstance(primitive, np.ufunc):          # inputs are positional-only
        assert len(mine) == primitive.nin and all(p.default is p.empty for p in mine)
        return
    theirs = list(inspect.signature(primitive).parameters.values())
    if getattr(primitive, "__module__", None) == "srcad.runtime":
        # helpers that generated code calls positionally: a rule may rename
        # their cotangent parameter g (every reverse rule starts with g)
        assert [p.kind == p.KEYWORD_ONLY for p in mine] == [p.kind == p.KEYWORD_ONLY for p in theirs]
        return
    if getattr(primitive, "__objclass__", None) is np.ndarray:
        theirs = theirs[1:]             # self
        mine = mine[1:]
    names = {p.name for p in mine}
    for p in theirs:
        ignored = _IGNORED | _IGNORED_FOR.get(name_of(primitive), set())
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in ignored:
            assert p.name in names, f"a call with {p.name}= would not bind to {rule.__qualname__}"
    positional = [p for p in mine if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for k, p in enumerate(positional):
        assert k < len(theirs) and theirs[k].kind != p.KEYWORD_ONLY, \
            f"{rule.__qualname__} takes {p.name} positionally; NumPy does not"
        q = theirs[k]
        if q.kind == q.VAR_POSITIONAL:
            break
        # the same name, or one the rule also takes by keyword (np.reshape's
        # newshape, its name before NumPy 2.1)
        assert q.kind == q.POSITIONAL_ONLY or q.name == p.name or q.name in names, \
            f"position {k}: {rule.__qualname__} has {p.name}, the primitive {q.name}"


# --- integer inputs give float gradients ---------------------------------------------

INTEGER_CASES = [
    (np.sin, (np.array([1, 2, 3]),)), (np.exp, (2,)), (np.square, (np.array([[1, -2]]),)),
    (np.sum, (np.array([[1, 2], [3, 4]]),)), (np.mean, (np.array([1, 2, 3]),)),
    (np.max, (np.array([1, 5, 3]),)), (np.prod, (np.array([2, 0, 3]),)),
    (np.maximum, (np.array([1, 5]), np.array([3, 2]))), (operator.mul, (np.array([1, 2]), 3)),
    (np.multiply, (2, np.array([1, 2]))), (np.dot, (np.array([[1, 2]]), np.array([3, 4]))),
    (operator.matmul, (np.array([[1, 2], [3, 4]]), np.array([1, 1]))),
    (np.clip, (np.array([-2, 0, 2]), -1, 1)), (np.cumsum, (np.array([1, 2, 3]),)),
    (np.reshape, (np.array([1, 2, 3, 4]), (2, 2))), (np.abs, (np.array([-1, 0, 2]),)),
    (np.concatenate, ((np.array([1, 2]), np.array([3])),)),
    (np.linalg.det, (np.array([[2, 1], [1, 3]]),)), (np.linalg.norm, (np.array([3, 4]),)),
    (math.sin, (2,)), (abs, (-3,)), (float, (3,)), (max, (1, 2)),
]


@pytest.mark.parametrize("primitive, args", INTEGER_CASES, ids=[name_of(p) for p, _ in INTEGER_CASES])
def test_integer_inputs_give_float_gradients(primitive, args):
    ans = primitive(*args)
    g = cotangent(ans if not isinstance(ans, (int, np.integer)) else float(ans), 0)
    result = lookup(primitive)(g, ans, *args)
    grads = result if outputs_of(lookup(primitive)) > 1 else (result,)
    for grad, arg in zip(grads, args):
        for grad_j, arg_j in zip(_leaves(grad), _leaves(arg)):
            if grad_j is not None and not isinstance(arg_j, tuple):
                assert np.asarray(grad_j).dtype.kind == "f"
                assert np.shape(grad_j) == np.shape(arg_j)


# --- conventions at non-differentiable points (see srcad/rules/numpy.py) --------------

def grad_of(primitive, *args, g=1.0, **kwargs):
    """The rule's gradients for a cotangent of ones."""
    ans = primitive(*args, **kwargs)
    if np.ndim(ans):
        g = np.full(np.shape(ans), g)
    return lookup(primitive)(g, ans, *args, **kwargs)


@pytest.mark.parametrize("primitive", [np.abs, np.fabs, abs, math.fabs], ids=name_of)
def test_abs_has_zero_derivative_at_zero(primitive):
    assert grad_of(primitive, 0.0) == 0.0
    if primitive in (np.abs, np.fabs):
        np.testing.assert_array_equal(grad_of(primitive, np.array([-2.0, 0.0, 3.0])), [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("primitive", [np.maximum, np.minimum, np.fmax, np.fmin, max, min],
                         ids=name_of)
def test_ties_of_maximum_and_minimum_split_the_cotangent(primitive):
    assert grad_of(primitive, 1.5, 1.5, g=2.0) == (1.0, 1.0)
    assert grad_of(primitive, -0.5, -0.5) == (0.5, 0.5)


def test_ties_of_broadcast_maximum_split_elementwise():
    g1, g2 = grad_of(np.maximum, np.array([1.0, 2.0, 3.0]), 2.0)
    np.testing.assert_array_equal(g1, [0.0, 0.5, 1.0])
    assert g2 == 1.0 + 0.5


@pytest.mark.parametrize("primitive", [np.fmax, np.fmin], ids=name_of)
def test_fmax_fmin_send_the_cotangent_to_the_number_beside_a_nan(primitive):
    assert grad_of(primitive, np.nan, 2.0) == (0.0, 1.0)
    assert grad_of(primitive, 2.0, np.nan) == (1.0, 0.0)


@pytest.mark.parametrize("primitive", [np.max, np.amax, np.ndarray.max], ids=name_of)
def test_tied_maxima_share_the_cotangent_evenly(primitive):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(grad_of(primitive, x, g=6.0), [[0, 3.0, 3.0], [0, 0, 0]])
    np.testing.assert_allclose(grad_of(primitive, x, axis=1, g=6.0), [[0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(grad_of(primitive, x, axis=0, keepdims=True),
                               [[0, 1.0, 1.0], [1.0, 0, 0]])


@pytest.mark.parametrize("primitive", [np.min, np.amin, np.ndarray.min], ids=name_of)
def test_tied_minima_share_the_cotangent_evenly(primitive):
    x = np.array([[1.0, 1.0, 3.0, 1.0]])
    np.testing.assert_allclose(grad_of(primitive, x), [[1 / 3, 1 / 3, 0, 1 / 3]])


@pytest.mark.parametrize("primitive", [np.sqrt, math.sqrt, np.cbrt], ids=name_of)
def test_sqrt_has_infinite_derivative_at_zero(primitive):
    with np.errstate(divide="ignore"):
        assert grad_of(primitive, 0.0) == np.inf
        if primitive is not math.sqrt:
            np.testing.assert_array_equal(grad_of(primitive, np.array([0.0, 0.0])), [np.inf, np.inf])


@pytest.mark.parametrize("primitive", [np.arcsin, math.asin], ids=name_of)
def test_arcsin_has_infinite_derivative_at_one(primitive):
    with np.errstate(divide="ignore"):
        assert grad_of(primitive, 1.0) == np.inf


def test_clip_bounds_are_inclusive():
    a = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    ga, gmin, gmax = grad_of(np.clip, a, -0.5, 0.5)
    np.testing.assert_array_equal(ga, [0.0, 1.0, 1.0, 1.0, 0.0])
    assert gmin == 1.0 and gmax == 1.0
    ga, gmin, gmax = grad_of(np.ndarray.clip, a, -0.5, 0.5)
    np.testing.assert_array_equal(ga, [0.0, 1.0, 1.0, 1.0, 0.0])
    ga, gmin, gmax = grad_of(np.ndarray.clip, a, max=0.0)
    np.testing.assert_array_equal(ga, [1.0, 1.0, 1.0, 0.0, 0.0])
    assert gmin is None and gmax == 2.0


def test_where_routes_the_cotangent_by_the_condition():
    condition = np.array([True, False, True])
    g = np.array([1.0, 2.0, 3.0])
    none, gx, gy = lookup(np.where)(g, None, condition, np.zeros(3), np.zeros(3))
    assert none is None
    np.testing.assert_array_equal(gx, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(gy, [0.0, 2.0, 0.0])
    _, gx, gy = lookup(np.where)(g, None, condition, 5.0, np.zeros(3))
    assert gx == 4.0


@pytest.mark.parametrize("primitive", [np.hypot, math.hypot], ids=name_of)
def test_hypot_has_zero_derivative_at_the_origin(primitive):
    assert grad_of(primitive, 0.0, 0.0) == (0.0, 0.0)


def test_norm_has_zero_derivative_at_zero():
    np.testing.assert_array_equal(grad_of(np.linalg.norm, np.zeros(3)), np.zeros(3))


# --- unsupported arguments fail loudly -------------------------------------------------

def test_norm_ties_share_the_derivative_evenly():
    """The inf-norm's largest |x| and the 1-norm's largest column sum, when tied,
    split the cotangent like np.max (every ord is covered: tests/rule_cases.py)."""
    np.testing.assert_allclose(grad_of(np.linalg.norm, np.array([3.0, -3.0, 1.0]), ord=np.inf),
                               [0.5, -0.5, 0.0])
    x = np.array([[1.0, -2.0], [2.0, 1.0]])         # both columns sum to 3
    np.testing.assert_allclose(grad_of(np.linalg.norm, x, ord=1), np.sign(x) / 2)


def test_norm_refuses_an_ord_numpy_has_no_vector_norm_for():
    with pytest.raises(UnsupportedArgumentError) as info:
        lookup(np.linalg.norm)(1.0, 2.0, np.array([3.0, 4.0]), ord="nuc", axis=0)
    assert isinstance(info.value, SrcadError) and isinstance(info.value, NotImplementedError)


def test_importing_srcad_rules_fills_every_table():
    modules = {rule.__module__ for rule in shipped_rules().values()}
    assert {"srcad.rules.operators", "srcad.rules.builtins", "srcad.rules.numpy",
            "srcad.rules.linalg"} <= modules
    for name in ["adjoint", "tangent", "nondifferentiable", "lookup", "is_nondifferentiable",
                 "ADJOINTS", "TANGENTS", "NONDIFFERENTIABLE"]:
        assert hasattr(srcad.rules, name)
