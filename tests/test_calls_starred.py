"""Starred calls, **kwargs, *args on the differentiated function, decorators.

Every expected value is a central finite difference (tests/helpers.py), in
reverse mode (grad), forward mode (jvp) and, where the README promises it,
second order (hessian / hessp).
"""

import functools

import numpy as np
import pytest

import srcad
from helpers import assert_close, numerical_grad

RNG = np.random.default_rng(7)
X = RNG.standard_normal(3)
W = RNG.standard_normal(3)
V = RNG.standard_normal(3)


def fd_jvp(f, args, i, tangent, eps=1e-6):
    """Central difference of f along ``tangent`` in argument ``i``."""
    def at(step):
        new = list(args)
        new[i] = args[i] + step * tangent
        return np.asarray(f(*new), dtype=float)
    return (at(eps) - at(-eps)) / (2 * eps)


def fd_hessian(f, args, i, eps=1e-4):
    """The Hessian by central second differences in float64 (error ~1e-8)."""
    x = np.asarray(args[i], dtype=float)
    units = []
    for idx in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[idx] = eps
        units.append((idx, e))

    def at(step):
        new = list(args)
        new[i] = x + step if x.ndim else float(x + step)
        return float(f(*new))

    H = np.zeros(x.shape + x.shape)
    for a, ea in units:
        for b, eb in units:
            H[a + b] = (at(ea + eb) - at(ea - eb) - at(eb - ea) + at(-ea - eb)) / (4 * eps * eps)
    return H


def check_all(f, args, i=0, hessian=True):
    """grad, jvp (and hessian) of ``f`` w.r.t. argument ``i`` against finite differences."""
    assert_close(srcad.grad(f, wrt=i)(*args), numerical_grad(f, args, i), rtol=1e-6, atol=1e-8)
    tangent = np.ones_like(np.asarray(args[i], dtype=float)) * 0.7
    value, t = srcad.jvp(f, wrt=i)(*args, tangent)
    assert_close(value, f(*args))
    assert_close(t, fd_jvp(f, args, i, tangent), rtol=1e-6, atol=1e-8)
    if hessian:
        assert_close(srcad.hessian(f, wrt=i)(*args), fd_hessian(f, args, i), rtol=1e-5, atol=1e-6)


# -- f(*t), f(**d) ------------------------------------------------------------------

def layer(x, w, scale=1.0):
    return np.sum(np.tanh(x * w)) * scale


def star_of_local_tuple(x, w):
    args = (x, w)
    return layer(*args)


def star_of_literal_and_kw(x, w):
    return layer(*(x,), **{"w": w, "scale": 2.0})


def double_star_of_local_dict(x, w):
    options = {"w": w * x, "scale": 0.5}
    return layer(x, **options)


def double_star_into_numpy(x, w):
    kw = {"axis": 0}
    return np.sum(np.sin(x * w), **kw)


def einsum_star(x, w):
    args = ("i,i->", x, w * x)
    return np.einsum(*args)


def randn_star(x, w):
    shape = (3,)
    rs = np.random.RandomState(0)
    return np.sum(rs.randn(*shape) * x * w)


def zip_star_value(x, w):
    pairs = [(x, w), (x * w, 2.0)]
    a, b = zip(*pairs)
    return np.sum(a[0] * b[1] + a[1] * b[0])


def zip_star_loop(x, w):
    pairs = [(x, w), (np.sin(x), 3.0)]
    total = 0.0
    for a, b in zip(*pairs):
        total = total + np.sum(a * b)
    return total


@pytest.mark.parametrize("f", [star_of_local_tuple, star_of_literal_and_kw, double_star_of_local_dict,
                               double_star_into_numpy, einsum_star, randn_star, zip_star_value,
                               zip_star_loop], ids=lambda f: f.__name__)
@pytest.mark.parametrize("i", [0, 1])
def test_starred_calls(f, i):
    # einsum's reverse rule has no second derivative (its own limit, not the call's)
    check_all(f, (X, W), i, hessian=f is not einsum_star)


def test_a_spread_call_reads_the_literal_atoms():
    """``layer(*args)`` becomes ``forward_layer(x, w)``: no tuple is built to be taken apart."""
    source = srcad.grad(star_of_local_tuple).source
    assert "forward_layer(x, w)" in source


def test_a_spread_of_unknown_length_is_refused_where_it_carries_a_derivative():
    def f(x, n):
        args = [x] * n
        return np.add(*args)
    with pytest.raises(srcad.UnsupportedSyntaxError, match=r"\*args: it cannot tell"):
        srcad.grad(f)(1.0, 2)


def test_a_spread_of_unknown_length_is_fine_where_it_carries_none():
    def f(x, shape):
        noise = np.random.RandomState(1).randn(*shape)
        return np.sum(noise * x)
    assert_close(srcad.grad(f)(X, (2, 3)), numerical_grad(f, (X, (2, 3)), 0))


# -- **kwargs in called functions ------------------------------------------------------

def scaled(x, **options):
    return np.sum(x * options["w"]) * options.get("scale", 1.0) + np.sum(np.cos(options["w"]))


def calls_kwargs(x, w):
    return scaled(x, w=w * x, scale=3.0) + scaled(w, w=x)


def forwards_both(x, w, *extra, **options):
    return layer(x, w, *extra, **options)


def calls_forwarder(x, w):
    return forwards_both(x, w, scale=2.0) + forwards_both(np.sin(x), w, 0.5)


@pytest.mark.parametrize("f", [calls_kwargs, calls_forwarder], ids=lambda f: f.__name__)
@pytest.mark.parametrize("i", [0, 1])
def test_kwargs_in_called_functions(f, i):
    check_all(f, (X, W), i)


# -- *args of the differentiated function (SciPy's convention) ------------------------

def objective(x, *args):
    a, b = args
    return np.sum((x - a) ** 2 * b) + np.sum(np.sin(x) * a)


def test_scipy_convention_grad_jvp_hessian_hessp():
    a, b = W, np.abs(V) + 1.0
    f = objective
    args = (X, a, b)
    assert_close(srcad.grad(f)(*args), numerical_grad(f, args, 0))
    tangent = V
    _, t = srcad.jvp(f)(*args, tangent)
    assert_close(t, fd_jvp(f, args, 0, tangent))
    H = fd_hessian(f, args, 0)
    assert_close(srcad.hessian(f)(*args), H, rtol=1e-5, atol=1e-6)
    assert_close(srcad.hessp(f)(X, V, a, b), H @ V, rtol=1e-5, atol=1e-6)
    assert_close(srcad.hvp(f)(X, a, b, V), H @ V, rtol=1e-5, atol=1e-6)
    assert_close(srcad.vjp(f)(X, a, b, 2.0), 2.0 * numerical_grad(f, args, 0))


def test_scipy_minimize_with_jac_and_hessp():
    from scipy import optimize
    a, b = W, np.abs(V) + 1.0
    fun = lambda x, a, b: np.sum((x - a) ** 2 * b)     # noqa: E731 the same, without srcad
    for options in ({"jac": srcad.grad(objective)},
                    {"jac": srcad.grad(objective), "hessp": srcad.hessp(objective)},
                    {"jac": srcad.grad(objective), "hess": srcad.hessian(objective)}):
        method = "BFGS" if len(options) == 1 else "trust-ncg"
        result = optimize.minimize(objective, np.zeros(3), args=(a, b), method=method, **options)
        assert result.success, result.message
        assert_close(numerical_grad(objective, (result.x, a, b), 0), np.zeros(3), atol=1e-5)
    assert fun(a, a, b) == 0.0


def test_wrt_of_a_variadic_function_counts_the_call_positions():
    """wrt=1 is the first extra argument: its derivative is taken too."""
    args = (X, W, np.abs(V) + 1.0)
    assert_close(srcad.grad(objective, wrt=1)(*args), numerical_grad(objective, args, 1))
    gx, ga = srcad.grad(objective, wrt=(0, 1))(*args)
    assert_close(gx, numerical_grad(objective, args, 0))
    assert_close(ga, numerical_grad(objective, args, 1))


def test_a_variadic_derivative_shows_the_code_of_a_call():
    d = srcad.grad(objective)
    code = d.for_call(X, W, V).source
    assert code.startswith("def grad_objective(x, args_0, args_1, dout=1.0):"), code
    assert d.__wrapped__ is objective


def test_each_call_shape_is_specialised_once():
    def total(*xs):
        return sum(np.sum(np.sin(x)) for x in xs)
    d = srcad.grad(total)
    assert_close(d(X), numerical_grad(total, (X,), 0))
    assert_close(d(X, W, V), numerical_grad(total, (X, W, V), 0))
    assert d.for_call(X, W) is d.for_call(W, V)
    assert d.for_call(X) is not d.for_call(X, W)


def test_kwargs_of_the_differentiated_function():
    def f(x, **options):
        return np.sum(x * options["w"]) + options["c"]
    g = srcad.grad(f)(X, w=W, c=1.0)
    assert_close(g, numerical_grad(lambda x: f(x, w=W, c=1.0), (X,), 0))


# -- decorators ---------------------------------------------------------------------------

def twice(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


def shifted(fn):
    def shifted_fn(*args, **kwargs):
        return fn(*args, **kwargs) + 1.0
    return shifted_fn


@twice
def wrapped_loss(x, w, scale=1.0):
    return np.sum(np.tanh(x * w) ** 2) * scale


@shifted
def shifted_loss(x, w, scale=1.0):
    return np.sum(np.exp(x) * w) * scale


@twice
@shifted
def stacked_loss(x, w):
    return np.sum(np.sin(x * w))


@pytest.mark.parametrize("f", [wrapped_loss, shifted_loss, stacked_loss], ids=lambda f: f.__qualname__)
@pytest.mark.parametrize("i", [0, 1])
def test_decorated_functions(f, i):
    check_all(f, (X, W), i)


def test_decorated_function_called_with_a_keyword():
    f = lambda x, w: wrapped_loss(x, w, scale=3.0)       # noqa: E731 the expected values
    assert_close(srcad.grad(wrapped_loss)(X, W, scale=3.0), numerical_grad(f, (X, W), 0))
    _, t = srcad.jvp(wrapped_loss)(X, W, V, scale=3.0)
    assert_close(t, fd_jvp(f, (X, W), 0, V))


def calls_decorated(x, w):
    return wrapped_loss(x, w) + shifted_loss(w, x, scale=0.5) + stacked_loss(x, x)


@pytest.mark.parametrize("i", [0, 1])
def test_decorated_callees(i):
    check_all(calls_decorated, (X, W), i)


def test_decorated_callee_is_followed_after_rebinding_its_function():
    """The wrapper's fn is a closure cell: a derivative reads it like any other."""
    code = srcad.grad(calls_decorated).source
    assert "forward_wrapped_loss" in code or "forward_wrapper" in code


def test_a_variadic_derivative_follows_rebinding(tmp_path, monkeypatch):
    """A callee rebound after the transformation: srcad.grad(f) transforms again."""
    import importlib
    import sys
    path = tmp_path / "variadic_module.py"
    path.write_text("import numpy as np\n\n"
                    "def inner(x):\n    return np.sin(x)\n\n"
                    "def helper(x):\n    return inner(x) * 2.0\n\n"
                    "def f(x, *args):\n    return np.sum(helper(x) * args[0])\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("variadic_module")
    try:
        assert_close(srcad.grad(module.f)(X, W), 2.0 * np.cos(X) * W)
        module.inner = np.cos                      # read only inside the callee helper
        assert_close(srcad.grad(module.f)(X, W), -2.0 * np.sin(X) * W)
    finally:
        sys.modules.pop("variadic_module", None)


def vector_of_args(x, *args):
    return np.sin(x) * args[0] + x * x


def loss_and_aux(x, *args):
    return np.sum(np.exp(x) * args[0]), {"n": len(args)}


class Scaled:
    def __init__(self, w):
        self.w = w

    def loss(self, x, *args):
        return np.sum(np.tanh(x * self.w) * args[0])


def test_every_transform_takes_a_variadic_function():
    args = (X, W, 2.0)
    value, g = srcad.value_and_grad(objective)(*args)
    assert_close(value, objective(*args))
    assert_close(g, numerical_grad(objective, args, 0))
    assert set(srcad.check_grad(objective, *args)) == {"x"}
    J = srcad.jacobian(vector_of_args)(X, W)
    expected = np.stack([numerical_grad(lambda x: vector_of_args(x, W)[k], (X,), 0) for k in range(3)])
    assert_close(J, expected)
    g, aux = srcad.grad(loss_and_aux, has_aux=True)(X, W)
    assert aux == {"n": 1}
    assert_close(g, numerical_grad(lambda x: loss_and_aux(x, W)[0], (X,), 0))
    model = Scaled(0.7)
    assert_close(srcad.grad(model.loss)(X, W), numerical_grad(lambda x: model.loss(x, W), (X,), 0))


def test_graph_of_a_variadic_function_points_to_one_call():
    with pytest.raises(srcad.SrcadError, match="for_call"):
        srcad.graph(objective)
    assert "x" in str(srcad.grad(objective).for_call(X, W, V).graph)


def star_in_displays(x, w):
    a = (x, w * x)
    b = [*a, np.sin(x), *(w,)]
    return np.sum(np.stack(b) ** 2) + np.sum(sum((*a,)))


@pytest.mark.parametrize("i", [0, 1])
def test_starred_literals_in_displays(i):
    check_all(star_in_displays, (X, W), i)


# -- zip(*call(...)) in a loop header: the loop's names count the sequences ---------------

def _three_parts(x):
    return np.tanh(x), x * 2.0, np.sin(x)


def zip_of_a_call(x):
    total = 0.0
    for u, v, w in zip(*_three_parts(x)):
        total = total + u * v + w * w
    return total


def zip_of_a_call_of_rows(x):                 # x: (3, 2): each sequence is an array of rows
    total = 0.0
    for u, v, w in zip(*_three_parts(x)):
        total = total + np.sum(u * v) + np.sum(np.cos(w))
    return total


@pytest.mark.parametrize("f, x", [(zip_of_a_call, X), (zip_of_a_call_of_rows, RNG.standard_normal((3, 2)))],
                         ids=["vector", "rows"])
def test_zip_of_a_call_whose_length_the_loop_target_shows(f, x):
    check_all(f, [x], hessian=np.ndim(x) == 1)
