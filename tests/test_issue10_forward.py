"""Issue 10, forward mode: Hessians through loop stacks (item 5), forward rules
and broadcasting (item 6), internal errors turned into answers or refusals
(item 14).

Every expected value comes from central differences of the user's function in
float64 (second-order differences for Hessians), never from srcad.
"""

import numpy as np
import pytest

import srcad

from helpers import assert_close, numerical_grad


def fd_hessian(f, x, h=1e-4):
    """The Hessian of scalar ``f`` at ``x`` by second-order central differences
    of ``f`` itself (no first derivative involved)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    H = np.zeros((n, n))

    def at(step):
        y = (x.ravel() + step).reshape(x.shape)
        return float(f(y if x.ndim else float(y)))

    for i in range(n):
        for j in range(n):
            ei, ej = np.zeros(n), np.zeros(n)
            ei[i], ej[j] = h, h
            H[i, j] = (at(ei + ej) - at(ei - ej) - at(ej - ei) + at(-ei - ej)) / (4 * h * h)
    return H.reshape(x.shape + x.shape)


def assert_hessian(f, x, rtol=1e-4, atol=1e-5):
    """srcad.hessian and srcad.hvp (with two directions) against fd_hessian."""
    expected = fd_hessian(f, x)
    assert_close(srcad.hessian(f)(x), expected, rtol, atol)
    rng = np.random.default_rng(0)
    for _ in range(2):
        v = rng.normal(size=np.shape(x)) if np.ndim(x) else float(rng.normal())
        assert_close(srcad.hvp(f)(x, v), np.tensordot(expected, v, axes=np.ndim(x)), rtol, atol)


# -- item 5: the twin tangent stack is popped with every pop of its stack --------------

def branch_then_scale(a):
    if a > 0:
        a = a * a
    a = 2.0 * a
    return a


def square_then_loop(a):
    a = a * a
    for i in range(1):
        a = a * 3.0
    return a


def nested_loops(x):
    s = 0.0
    for i in range(3):
        for j in range(2):
            s = s + np.sin(x[i] * x[j])
            x = x * 1.1
    return s


def while_with_break(x):
    s = x[0]
    i = 0
    while i < 5:
        s = s * x[1] + np.cos(s)
        if s > 3.0:
            break
        i = i + 1
    return s


def while_condition(x):
    s = x[0]
    while s < 10.0:
        s = s * 1.5 + x[1] * x[1]
    return s * x[0]


def branch_in_loop(x):
    y = x
    for i in range(4):
        if y[0] > 0.5:
            y = y * y
        else:
            y = np.exp(-y)
    return np.sum(y)


def looping_callee(x):
    for i in range(2):
        x = np.sin(x) * x
    return x


def calls_looping_callee(x):
    y = looping_callee(x)
    y = looping_callee(y * 2.0)
    return np.sum(y * y)


def callee_in_loop(x):
    y = x[0]
    for i in range(3):
        y = looping_callee(y * x[1])
    return y


def swap_in_loop(x):
    a = x[0]
    b = x[1]
    for i in range(2):
        a, b = b, a * b
        if a > 0.1:
            a = a * 2.0
    return a + b * b


def accumulate_powers(x):
    s = 0.0
    for i in range(3):
        x = x * x
        s = s + np.sum(x)
    return s


def iterate_elements(x):
    s = 0.0
    for v in x:
        s = s + v * v * v
        if s > 0.2:
            s = np.sqrt(s)
    return s


def popped_for_shape_only(x):
    y = x * x
    for i in range(2):
        y = y * 3.0           # the reverse reads y only for its shape
    z = np.sum(y) * x[0]
    return z


HESSIAN_CASES = [
    (branch_then_scale, 2.0), (branch_then_scale, -2.0), (square_then_loop, 2.0),
    (nested_loops, np.array([0.3, 0.5, 0.7])), (while_with_break, np.array([0.4, 1.3])),
    (while_with_break, np.array([1.4, 1.9])), (while_condition, np.array([1.2, 0.8])),
    (branch_in_loop, np.array([0.7, 0.2])), (branch_in_loop, np.array([0.3, 0.2])),
    (calls_looping_callee, np.array([0.3, 0.6])), (callee_in_loop, np.array([0.5, 0.9])),
    (swap_in_loop, np.array([0.5, 0.7])), (accumulate_powers, np.array([0.9, 1.1])),
    (iterate_elements, np.array([0.5, 0.4, 0.3])), (popped_for_shape_only, np.array([0.5, 1.5])),
]


@pytest.mark.parametrize("f, x", HESSIAN_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_hessian_through_loop_stacks(f, x):
    assert_hessian(f, x)


def test_hvp_reproducers_exact():
    """The issue's reproducers, with the exact second derivatives."""
    assert srcad.hvp(branch_then_scale)(2.0, 1.0) == pytest.approx(4.0)     # d2(2a^2) = 4
    assert srcad.hvp(branch_then_scale)(-2.0, 1.0) == pytest.approx(0.0)    # 2a is linear
    assert srcad.hvp(square_then_loop)(2.0, 1.0) == pytest.approx(6.0)      # d2(3a^2) = 6


# (A list a loop appends to and a dict entry a loop overwrites, undone in the gradient by
# L.pop() / restore_entry, were refused here; forward over reverse now follows them:
# tests/test_issue10_second.py checks the same functions against second differences.)


# -- item 14: internal errors ----------------------------------------------------------

def mean(x):
    return np.mean(x)


def mean_axis0(x):
    return np.sum(np.mean(x, axis=0))


def variance(x):
    return np.var(x)


@pytest.mark.parametrize("f, shape", [(mean, (0,)), (mean_axis0, (0, 3)), (mean_axis0, (3, 0)),
                                      (variance, (0,))])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_gradient_of_an_empty_reduction_is_empty(f, shape):
    """f of an empty array is nan (or 0.0), like NumPy; its gradient has the
    input's (empty) shape, as JAX returns, instead of ZeroDivisionError."""
    x = np.zeros(shape)
    value, grad = srcad.value_and_grad(f)(x)
    assert np.array_equal(value, f(x), equal_nan=True)
    assert grad.shape == shape
    assert srcad.hessian(f)(x).shape == shape + shape


def comprehension_squared(x):
    return np.sum([xi * 3 for xi in x]) ** 2


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_vjp_of_grad_of_a_comprehension_any_length(n):
    """Reverse over reverse through the list a comprehension builds: the
    Hessian is 18 * ones((n, n)) exactly (was a crash for every n but 3)."""
    x = np.linspace(0.5, 2.0, n)
    u = np.linspace(-1.0, 1.0, n) + 0.3
    assert_close(srcad.vjp(srcad.grad(comprehension_squared))(x, 1.0, u), 18 * np.sum(u) * np.ones(n))
    assert_close(srcad.hvp(comprehension_squared)(x, u), 18 * np.sum(u) * np.ones(n))
    assert_close(srcad.hessian(comprehension_squared)(x), fd_hessian(comprehension_squared, x),
                 rtol=1e-4, atol=1e-4)


# -- item 6: every forward rule under broadcasting ----------------------------------------

def where_scalar_condition(x):
    v = np.where(x > 100, np.ones(3), x)
    return np.sum(v)


def where_scalar_condition_element(x):
    v = np.where(x > 100, np.ones(3), x)
    return v[0] * v[2]


def clip_by_larger_bounds(x):
    return np.sum(np.clip(x, np.array([-1.0, 0.0, 0.5]), 2.0) ** 2)


@pytest.mark.parametrize("f", [where_scalar_condition, where_scalar_condition_element,
                               clip_by_larger_bounds])
def test_jvp_of_a_branch_smaller_than_the_result(f):
    x = 0.7
    value, tangent = srcad.jvp(f)(x, 1.0)
    assert value == pytest.approx(f(x))
    assert tangent == pytest.approx(numerical_grad(f, (x,), 0), rel=1e-6)
    assert_hessian(f, x)


def test_where_reproducer_exact():
    assert srcad.jvp(where_scalar_condition)(2.0, 1.0)[1] == pytest.approx(3.0)


import dataclasses      # noqa: E402  (the broadcasting audit below is self-contained)
import importlib.util   # noqa: E402
import warnings         # noqa: E402
import zlib             # noqa: E402

from rule_cases import CASES  # noqa: E402
from srcad.rules import lookup_tangent  # noqa: E402

import test_forward  # noqa: E402


def _numeric(x):
    return isinstance(x, float) or (isinstance(x, np.ndarray) and x.dtype.kind in "fb")


def _variants(case):
    """The case with one numeric argument made a scalar (its first element),
    and with one stacked twice along a new leading axis (the copy scaled by
    1.01 and moved 0.01 away from zero): the shapes where one argument's contribution is smaller than the result."""
    for j, a in enumerate(case.args):
        if not _numeric(a):
            continue
        if np.ndim(a) > 0:
            first = float(a.flat[0]) if a.dtype.kind == "f" else np.bool_(a.flat[0])
            yield f"{case.id}/arg{j}-scalar", dataclasses.replace(case, args=case.replace(j, first))
        stacked = np.array(np.broadcast_to(a, (2,) + np.shape(a)))
        if stacked.dtype.kind == "f":
            # no ties (sort), no zero spread (std); clear of kinks: the copy's
            # magnitude differs by at least 0.01 even where an element is near 0
            stacked[1] = stacked[1] * 1.01 + np.where(stacked[1] < 0, -0.01, 0.01)
        yield f"{case.id}/arg{j}-stacked", dataclasses.replace(case, args=case.replace(j, stacked))


def _smooth_variant(case):
    """A variant NumPy accepts, with a finite array result away from a kink
    (a stacked copy puts std at zero spread, a scalar leaves var no degrees
    of freedom)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ans = case.call()
    except Exception:
        return False
    if not isinstance(ans, (float, np.floating, np.ndarray)) or not np.all(np.isfinite(ans)):
        return False
    if case.primitive in (np.sort, np.partition) and np.unique(case.args[0]).size < np.size(case.args[0]):
        return False                      # a stacked copy ties every element: sort has no derivative there
    return not (case.primitive in (np.std, np.ndarray.std) and np.any(ans == 0))


BROADCAST_VARIANTS = [(vid, v) for c in CASES if lookup_tangent(c.primitive) is not None
                      for vid, v in _variants(c) if _smooth_variant(v)]


@pytest.mark.parametrize("vid, case", BROADCAST_VARIANTS, ids=[v for v, _ in BROADCAST_VARIANTS])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # np.cross of 2-vectors
def test_every_forward_rule_under_broadcasting(vid, case):
    """Each contribution has the result's shape and their sum matches central
    differences along a random direction, for every rule case with one
    argument made smaller (a scalar) or larger (stacked) than in the table."""
    rule = lookup_tangent(case.primitive)
    rng = np.random.default_rng(zlib.crc32(vid.encode()))
    u = {i: test_forward._random_like(case.args[i], rng) for i in case.diff}
    ans = case.call()
    try:
        terms = test_forward._contributions(rule, case, u, ans)
    except srcad.SrcadError:
        return                            # a clear refusal (norm's ord=2 of a matrix)
    for term in terms:
        assert np.shape(term) == np.shape(ans), "a contribution must have the result's shape"
    h = 1e-6

    def along(step):
        args = list(case.args)
        for i in case.diff:
            args[i] = test_forward._shift(args[i], u[i], step)
        return np.asarray(case.call(tuple(args)), dtype=np.float64)

    assert_close(sum(terms[1:], terms[0]), (along(h) - along(-h)) / (2 * h), rtol=1e-5, atol=1e-6)


def _smaller(case, i):
    """True when argument ``i`` is a number or array of another shape than the result."""
    return _numeric(case.args[i]) and np.shape(case.args[i]) != np.shape(case.call())


#: one differentiable argument at a time, where it is smaller than the result:
#: a sum of contributions can hide a small one (scalar ``x_dot`` + full ``y_dot``)
PIPELINE_VARIANTS = [(f"{vid}/wrt{i}", dataclasses.replace(v, diff=(i,)))
                     for vid, v in BROADCAST_VARIANTS for i in v.diff if _smaller(v, i)]


def _calling_function(case, tmp_path, n):
    """A module function ``f(a0, a1, ...)`` that calls the case's primitive on
    its parameters (keywords and the primitive are module globals)."""
    params = [f"a{i}" for i in range(len(case.args))]
    keywords = "".join(f", {k}=KW_{k}" for k in case.kwargs)
    path = tmp_path / f"broadcast_case_{n}.py"
    path.write_text(f"def f({', '.join(params)}):\n    return PRIM({', '.join(params)}{keywords})\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    module.PRIM = case.primitive
    for k, v in case.kwargs.items():
        setattr(module, f"KW_{k}", v)
    spec.loader.exec_module(module)
    return module.f


@pytest.mark.parametrize("vid, case", PIPELINE_VARIANTS, ids=[v for v, _ in PIPELINE_VARIANTS])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # np.cross of 2-vectors
def test_jvp_of_every_broadcasting_call(vid, case, tmp_path):
    """srcad.jvp of a function making the call: the generator keeps or drops
    ``broadcast_like`` correctly (the tangent has the result's shape)."""
    f = _calling_function(case, tmp_path, zlib.crc32(vid.encode()))
    rng = np.random.default_rng(zlib.crc32(vid.encode()) + 1)
    u = [test_forward._random_like(case.args[i], rng) for i in case.diff]
    try:
        value, tangent = srcad.jvp(f, wrt=case.diff)(*case.args, *u)
    except srcad.SrcadError:
        return
    h = 1e-6

    def along(step):
        args = list(case.args)
        for i, ui in zip(case.diff, u):
            args[i] = test_forward._shift(args[i], ui, step)
        return np.asarray(f(*args), dtype=np.float64)

    assert np.shape(tangent) == np.shape(value)
    assert_close(tangent, (along(h) - along(-h)) / (2 * h), rtol=1e-5, atol=1e-6)


# -- item 14: np.linalg.norm of a list, and along an axis ---------------------------------

def norm_of_list(x):
    return np.linalg.norm([x, x + 2.0])


def norm_of_rows(x):
    return np.sum(np.linalg.norm(x, axis=1) ** 2 * np.arange(1.0, 3.0)[:, None])


def norm_keepdims(x):
    return np.sum(x / np.linalg.norm(x, axis=-1, keepdims=True) * np.arange(4.0))


def norm_of_matrices(x):
    return np.sum(np.sin(np.linalg.norm(x, ord="fro", axis=(0, 2))))


@pytest.mark.parametrize("f, x", [(norm_of_list, 0.7), (norm_of_rows, np.linspace(-1, 1, 24).reshape(2, 3, 4)),
                                  (norm_keepdims, np.linspace(-1, 1, 8).reshape(2, 4) + 0.05),
                                  (norm_of_matrices, np.linspace(-1, 1, 12).reshape(2, 3, 2))],
                         ids=["list", "axis=1-3d", "keepdims", "fro-axes"])
def test_norm_of_a_list_and_along_axes(f, x):
    """Were TypeError (a list) and ValueError (axis=1 of a 3-d array)."""
    value, grad = srcad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x))
    assert_close(grad, numerical_grad(f, (x,), 0), rtol=1e-6, atol=1e-8)
    _, tangent = srcad.jvp(f)(x, np.ones_like(x) if np.ndim(x) else 1.0)
    assert tangent == pytest.approx(np.sum(numerical_grad(f, (x,), 0)), rel=1e-6, abs=1e-8)
    if np.size(x) <= 12:
        assert_hessian(f, x, rtol=1e-4, atol=1e-4)


def test_norm_of_list_exact():
    """d sqrt(x^2 + (x+2)^2) / dx = (2x + 2) / norm."""
    x = 0.7
    assert srcad.grad(norm_of_list)(x) == pytest.approx((2 * x + 2) / np.hypot(x, x + 2))


# -- the README's promise: hessian and hvp through loops and branches, random programs ----

_UNARY = ["np.sin({})", "np.cos({})", "np.tanh({})", "({} * {})", "np.exp(0.3 * {})", "(0.5 * {})"]


def _random_program(seed):
    """The source of a small smooth program of two scalars ``a`` and ``b``:
    straight-line updates, branches on the current values, for loops (nested
    sometimes) and a while loop with a break, each reassigning ``a`` or ``b``
    so that the gradient saves and restores them on its loop stacks."""
    rng = np.random.default_rng(seed)

    def update(indent):
        target = str(rng.choice(["a", "b"]))
        other = "b" if target == "a" else "a"
        op = str(rng.choice(_UNARY)).format(*[str(rng.choice(["a", "b"]))] * 2)
        form = str(rng.choice([f"{target} = {op}", f"{target} = {target} * 0.9 + {op}",
                               f"{target} = {op} - 0.5 * {other}", f"a, b = b, {op}"]))
        return [" " * indent + form]

    def block(indent, depth):
        lines = []
        for _ in range(int(rng.integers(1, 4))):
            kind = rng.choice(["update", "if", "for", "while"] if depth < 2 else ["update"])
            pad = " " * indent
            if kind == "update":
                lines += update(indent)
            elif kind == "if":
                lines += [pad + f"if {rng.choice(['a', 'b'])} > {rng.uniform(-0.5, 0.5):.2f}:"]
                lines += block(indent + 4, depth + 1)
                if rng.random() < 0.5:
                    lines += [pad + "else:"] + block(indent + 4, depth + 1)
            elif kind == "for":
                lines += [pad + f"for i{depth} in range({int(rng.integers(1, 4))}):"]
                lines += block(indent + 4, depth + 1)
            else:
                lines += [pad + f"k{depth} = 0", pad + f"while k{depth} < {int(rng.integers(1, 4))}:"]
                lines += block(indent + 4, depth + 1)
                lines += [pad + f"    if a > {rng.uniform(0.5, 2.0):.2f}:", pad + "        break",
                          pad + f"    k{depth} = k{depth} + 1"]
        return lines

    body = ["a = x[0]", "b = x[1]"] + block(0, 0)
    body.append("return a * b + np.sin(a) + b * b * 0.5")
    return "import numpy as np\n\n\ndef f(x):\n" + "".join(f"    {ln}\n" for ln in body)


def _kink_free(f, x):
    """True when second differences at two step sizes agree: no branch or
    break decision changes next to ``x``, so the program is smooth there."""
    return np.allclose(fd_hessian(f, x, 1e-4), fd_hessian(f, x, 2e-4), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("seed", range(40))
def test_hessian_of_random_programs_with_loops_and_branches(seed, tmp_path):
    path = tmp_path / f"random_program_{seed}.py"
    path.write_text(_random_program(seed))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x = np.random.default_rng(seed + 1000).uniform(-1.0, 1.0, 2)
    with np.errstate(all="ignore"):
        if not np.all(np.isfinite(module.f(x))) or abs(module.f(x)) > 1e6 or not _kink_free(module.f, x):
            pytest.skip("the program is not smooth at this point")
    assert_hessian(module.f, x, rtol=1e-4, atol=1e-4)
