"""Gradients on Python floats (srcad/passes/floats.py): the copy of the
generated code that uses ``math`` runs when every argument is a float; it
must give what central differences give, what the generic code gives on the
same numbers as NumPy scalars (to rounding), NumPy's answers where ``math``
raises (nan, inf), and the user's exceptions where the user's code raises."""

import itertools
import linecache
import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import srcad
from srcad.passes import floats

from helpers import assert_close, numerical_grad


def smooth(x, y):
    a = np.sin(x) * y + np.exp(-0.5 * x * x)
    b = np.log(1.0 + y * y) + np.tanh(a) - np.sqrt(2.0 + np.cos(y))
    c = np.arctan(a * b) + np.cosh(0.1 * x) - np.sinh(0.2 * y) + np.log1p(x * x) + np.expm1(0.1 * y)
    return c * c + a / (1.0 + b * b) + np.abs(x) ** 1.5 + np.power(2.0 + y * y, 0.3)


def looping(x, y):
    for i in range(20):
        x = x - 0.05 * np.sin(x) * y
    return np.sum(x)


def halving(x, y):
    while x > 1.0:
        x = x * 0.5 + 0.01 * np.cos(y)
    return x * y


def branching(x, y):
    if x > 0.0:
        z = np.exp(x) * y
    else:
        z = np.sin(x) + y * y
    return z


CASES = [(smooth, (0.7, -1.3)), (smooth, (-0.4, 0.9)), (looping, (0.7, 1.3)), (halving, (7.3, 0.4)),
         (halving, (0.3, 0.4)), (branching, (0.5, -2.0)), (branching, (-0.5, -2.0))]


def generic(f, wrt=0, mode=None):
    """``f``'s derivative without its float copy: the code that ran on
    Python floats before there were copies (``f``'s cache is emptied before
    and after, so other tests get the copy)."""
    f.__dict__.pop("__srcad_cache__", None)
    floats.ENABLED = False
    try:
        return (mode or srcad.grad)(f, wrt=wrt)
    finally:
        floats.ENABLED = True
        f.__dict__.pop("__srcad_cache__", None)


@pytest.mark.parametrize("f, args", CASES)
def test_float_copy_matches_finite_differences_and_the_generic_code(f, args):
    d = srcad.grad(f, wrt=(0, 1))
    assert "_floats(" in d.source
    got = d(*args)
    assert all(type(g) is float for g in got)            # the float copy ran
    assert f"def {d.srcad_floats}(" in d.source and "math." in d.source
    for i, g in enumerate(got):
        assert_close(g, numerical_grad(f, args, i), rtol=1e-6, atol=1e-8)
    assert_close(np.array(got), np.array(generic(f, (0, 1))(*args)), rtol=1e-13, atol=1e-15)
    assert_close(np.array(got), np.array(d(*map(np.float64, args))), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("f, args", CASES)
def test_value_and_grad_and_vjp_on_floats(f, args):
    value, grads = srcad.value_and_grad(f, wrt=(0, 1))(*args)
    assert_close(value, f(*args), rtol=1e-14, atol=1e-300)
    assert_close(np.array(grads), np.array(srcad.grad(f, wrt=(0, 1))(*args)), rtol=1e-14, atol=1e-300)
    pulled = srcad.vjp(f, wrt=(0, 1))(*args, 2.5)
    assert_close(np.array(pulled), 2.5 * np.array(grads), rtol=1e-13, atol=1e-15)
    # a cotangent that is an array is not a float: the generic code
    pulled = srcad.vjp(f, wrt=(0, 1))(*args, np.array(2.5))
    assert_close(np.array(pulled, dtype=float), 2.5 * np.array(grads), rtol=1e-13, atol=1e-15)


def test_seed_argument_and_int_arguments_take_the_generic_code():
    d = srcad.grad(smooth, wrt=(0, 1))
    assert_close(np.array(d(1, 2)), np.array(d(1.0, 2.0)), rtol=1e-13)
    assert_close(np.array(d(1.0, 2.0, 3.0)), 3.0 * np.array(d(1.0, 2.0)), rtol=1e-13)


def log_at(x):
    return np.log(x) * 2.0


def sqrt_at(x):
    return np.sqrt(x) + x


def exp_at(x):
    return np.exp(x) * 0.5


def root_of(x):
    return (np.sin(x) - 2.0) ** 0.5


@pytest.mark.parametrize("f, x", [(log_at, 0.0), (sqrt_at, -1.0), (exp_at, 1000.0), (root_of, 0.3),
                                  (log_at, math.inf), (sqrt_at, math.nan)],
                         ids=["log0", "sqrt-negative", "exp-overflow", "negative-root", "log-inf", "nan"])
def test_where_math_raises_numpy_answers(f, x):
    """The answer (or the exception) of the code without float copies."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = outcome(generic(f), x)
        expected_value = outcome(generic(f, mode=srcad.value_and_grad), x)
        got, value = outcome(srcad.grad(f), x), outcome(srcad.value_and_grad(f), x)
    assert "_floats(" in srcad.grad(f).source
    assert got[0] == expected[0] and value[0] == expected_value[0]
    np.testing.assert_equal(got[1], expected[1])          # nan where nan, inf where inf
    np.testing.assert_equal(value[1], expected_value[1])


def divides(x, y):
    return np.sin(x) * 2.0 + x / y


def divides_numpy_scalar(x, y):
    return x + np.sin(x) / y


def test_a_float_division_by_zero_raises_as_the_function_does():
    with pytest.raises(ZeroDivisionError):
        divides(1.0, 0.0)
    assert "_floats(" in srcad.grad(divides, wrt=(0, 1)).source
    with pytest.raises(ZeroDivisionError):
        srcad.grad(divides, wrt=(0, 1))(1.0, 0.0)
    # np.sin(x) / 0.0 divides a NumPy scalar in the function (inf); its
    # reverse sweep divides floats: what the code without copies does
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = outcome(srcad.grad(divides_numpy_scalar, wrt=(0, 1)), 1.0, 0.0)
        expected = outcome(generic(divides_numpy_scalar, (0, 1)), 1.0, 0.0)
    assert got[0] == expected[0]
    np.testing.assert_equal(got[1], expected[1])


def test_the_copy_is_written_at_the_first_call_on_floats():
    """Not before: a gradient called on arrays only never pays for it, and
    its transformation costs what it did without copies."""
    smooth.__dict__.pop("__srcad_cache__", None)
    d = srcad.grad(smooth, wrt=(0, 1))
    written = f"def {d.srcad_floats}("
    assert d.srcad_floats in d.source and written not in d.source
    on_arrays = d(np.array(0.3), np.array(-0.4))         # 0-d arrays: the generic code
    assert written not in d.source
    first = d(0.3, -0.4)
    assert d.source.count(written) == 1 and "math." in d.source
    copy = d.__closure__[d.__code__.co_freevars.index(d.srcad_floats)].cell_contents
    assert d(0.3, -0.4) == first and d.source.count(written) == 1
    assert d.__closure__[d.__code__.co_freevars.index(d.srcad_floats)].cell_contents is copy
    for i in range(2):
        assert_close(first[i], float(on_arrays[i]), rtol=1e-13)
        assert_close(first[i], numerical_grad(smooth, (0.3, -0.4), i), rtol=1e-6, atol=1e-8)


def test_second_derivatives_of_a_gradient_with_a_float_copy():
    d = srcad.grad(smooth)
    assert "_floats(" in d.source
    dd = srcad.grad(d)
    x, y = 0.7, -1.3
    assert_close(dd(x, y), numerical_grad(lambda v, w: d(v, w), (x, y), 0, eps=1e-5), rtol=1e-5)
    h = srcad.hessian(smooth, wrt=0)
    assert_close(h(x, y), dd(x, y), rtol=1e-10)


SCALE = 0.5


def reads_a_global(x):
    return np.sin(x) * SCALE


def helper(a):
    return np.sin(a) * a


def calls_a_helper(x):
    return helper(x) + np.cos(x)


def seed(x, y, z):
    p = x + y
    return p * z


@pytest.mark.parametrize("f", [reads_a_global, calls_a_helper, seed])
def test_no_float_copy_where_it_cannot_be_proved_or_gains_nothing(f):
    """A global may be rebound to an array between calls, a helper may do
    anything, and ``(x + y) * z`` has nothing to gain from a guard."""
    d = srcad.grad(f)
    assert "_floats" not in d.source
    args = (0.4,) * (3 if f is seed else 1)
    assert_close(d(*args), numerical_grad(f, args, 0))


# -- the float copy against the generic code on generated programs ---------------------

UNARY = ["np.sin", "np.cos", "np.tan", "np.exp", "np.log", "np.sqrt", "np.tanh", "np.arcsin", "np.arccos",
         "np.arctan", "np.sinh", "np.cosh", "np.log1p", "np.expm1", "np.abs", "np.arctanh", "np.arccosh",
         "np.log2", "np.log10", "np.arcsinh"]
BINARY = ["+", "-", "*", "/", "**"]


@st.composite
def programs(draw):
    """Straight-line and looping programs over x, y whose values reach every
    domain edge: logs of negatives, powers of negatives, overflows, zeros."""
    lines, names = [], ["x", "y"]
    for k in range(draw(st.integers(1, 6))):
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names + ["2.0", "0.5", "3"]))
        kind = draw(st.sampled_from(["unary", "binary", "binary"]))
        expr = f"{draw(st.sampled_from(UNARY))}({a})" if kind == "unary" else \
            f"{a} {draw(st.sampled_from(BINARY))} {b}"
        lines.append(f"v{k} = {expr}")
        names.append(f"v{k}")
    body = "\n    ".join(lines)
    if draw(st.booleans()):
        body = "for i in range(3):\n        " + body.replace("\n    ", "\n        ") + \
            f"\n        x = x * 0.5 + 0.1 * {names[-1]}"
    return f"def f(x, y):\n    {body}\n    return {names[-1]} + x * y\n"


_loaded = itertools.count()


def load(source):
    """``f`` of ``source``, with its source where ``inspect`` finds it."""
    filename = f"<floats program {next(_loaded)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace["f"]


values = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, 1e300, 710.0, math.inf, math.nan])


def outcome(fn, *args):
    """``('ok', values)`` or ``('raised', exception type)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            got = fn(*args)
        except (ArithmeticError, ValueError, TypeError) as error:
            return "raised", type(error)
        return "ok", np.array(got, dtype=complex if np.iscomplexobj(got) else float)


@settings(max_examples=150, deadline=None)
@given(programs(), values | st.floats(-3, 3), values | st.floats(-3, 3))
def test_float_copy_equals_the_generic_code(source, x, y):
    f = load(source)
    try:
        d = srcad.grad(f, wrt=(0, 1))
    except srcad.SrcadError:
        return
    # where one ulp of an argument changes f's value (sin of sinh(710.0)), a
    # last-bit difference between math and NumPy may change anything
    base = outcome(f, x, y)
    for moved in [(np.nextafter(x, math.inf), y), (x, np.nextafter(y, math.inf))]:
        near = outcome(f, *(float(v) for v in moved))
        assume(base[0] == near[0] and (base[0] == "raised" or np.allclose(
            base[1], near[1], rtol=1e-9, atol=1e-12, equal_nan=True)))
    fast, slow = outcome(d, x, y), outcome(generic(f, (0, 1)), x, y)
    assert fast[0] == slow[0], (source, fast, slow)
    if fast[0] == "raised":
        assert fast[1] == slow[1], (source, fast, slow)
        return
    a, b = fast[1], slow[1]
    # math and NumPy round differently in the last bit; a gradient through
    # 1 - tanh(v)**2 near 1 loses the digits both had (a small absolute error)
    same = (a == b) | (np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=1e-9, atol=1e-12)
    assert same.all(), (source, x, y, a, b)
