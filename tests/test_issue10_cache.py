"""Issue 10, items 3, 4, 15 (second half), 16 and 17: srcad differentiates what
a name calls (decorators made with functools.wraps, bound methods of
module-level objects), derivatives follow rebinding, the caches do not keep
dead functions alive, and gradients have their argument's structure and dtype.

Expected values are central finite differences (tests/helpers.py) or exact
hand-derived derivatives, never srcad's own output.
"""

import functools

import numpy as np
import pytest

import srcad

from helpers import assert_close, assert_tree_close, numerical_grad, numerical_grad_tree


# -- item 3: decorators made with functools.wraps ---------------------------------

def twice(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2 * fn(x)
    return wrapper


@twice
def doubled_square(x):
    return x * x


def calls_doubled(x):
    return doubled_square(x) + np.sin(x)


def scaled(factor):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(x, y):
            return factor * fn(x, y) + y
        return wrapper
    return decorate


@scaled(3.0)
def product(x, y):
    return x * y


@twice
@twice
def quadrupled_cube(x):
    return x ** 3


def test_wraps_decorator_is_differentiated_not_unwrapped():
    value, grad = srcad.value_and_grad(doubled_square)(1.5)
    assert value == 4.5                            # what the name computes: 2 * 1.5 ** 2
    assert_close(grad, 6.0)
    assert_close(grad, numerical_grad(doubled_square, (1.5,), 0))


@pytest.mark.parametrize("f,args", [
    (doubled_square, (1.5,)), (calls_doubled, (0.7,)), (product, (1.2, -0.4)),
    (quadrupled_cube, (0.9,)),
    (lambda x: np.sum(doubled_square(x)), (np.array([0.5, -1.0]),)),
])
def test_wraps_decorators_match_finite_differences(f, args):
    wrt = tuple(range(len(args)))
    grads = srcad.grad(f, wrt=wrt)(*args)
    for i, g in zip(wrt, grads):
        assert_close(g, numerical_grad(f, args, i))


def test_wraps_decorator_in_forward_mode_and_higher_order():
    assert_close(srcad.jvp(calls_doubled)(0.7, 1.0)[1], 4 * 0.7 + np.cos(0.7))
    assert_close(srcad.hessian(calls_doubled)(0.7), 4.0 - np.sin(0.7))
    assert_close(srcad.hvp(quadrupled_cube)(0.9, 2.0), 4 * 6 * 0.9 * 2.0)
    # grad of grad: srcad's own generated functions carry __wrapped__ too
    assert_close(srcad.grad(srcad.grad(doubled_square))(1.5), 4.0)
    assert_close(srcad.grad(srcad.grad(calls_doubled))(0.7), 4.0 - np.sin(0.7))
    assert srcad.grad(doubled_square).__wrapped__ is doubled_square


def _triple_scale(fn):
    @functools.wraps(fn)
    def wrapper(x, scale=1.0):              # not the default of the wrapped function
        return fn(x, scale=scale * 3.0)
    return wrapper


@_triple_scale
def scaled_square(x, scale=3.0):
    return scale * x * x


def calls_scaled_square(x):
    return scaled_square(x, scale=3.0)      # 9 x**2: the keyword must stay


def test_keyword_equal_to_the_wrapped_default_is_kept():
    assert calls_scaled_square(1.0) == 9.0
    assert srcad.jvp(calls_scaled_square)(1.0, 1.0) == (9.0, 18.0)
    assert srcad.grad(calls_scaled_square)(1.0) == 18.0
    assert_close(srcad.hessian(calls_scaled_square)(1.0), 18.0)


def test_wraps_decorator_with_star_args_is_differentiated():
    """The wrapper the name calls is specialised on the call (srcad/calls.py)."""
    def passthrough(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return 2 * fn(*args, **kwargs)
        return wrapper

    @passthrough
    def sq(x):
        return x * x

    def caller(x):
        return sq(x)

    for f in (sq, caller):
        assert_close(srcad.grad(f)(1.5), 6.0)          # d/dx 2 x^2 = 4 x
        assert_close(srcad.hessian(f)(1.5), 4.0)


# -- item 15 (second half): methods of module-level objects -----------------------

class Model:
    scale = 2.0

    def __init__(self, w):
        self.w = w

    def energy(self, x, y):
        return self.w * x * y + np.sin(x)

    @classmethod
    def prior(cls, x):
        return cls.scale * x * x

    @staticmethod
    def penalty(x):
        return x ** 4


model = Model(3.0)
energy_of_model = model.energy


def uses_methods(x, y):
    return (model.energy(x, y) + model.prior(x) + Model.prior(y) + energy_of_model(y, x)
            + model.penalty(x))


def method_in_loop(x, y):
    total = 0.0
    for i in range(3):
        total = total + model.energy(x, y * i)
    return total


@pytest.mark.parametrize("f", [uses_methods, method_in_loop])
def test_bound_method_calls_bind_self(f):
    args = (0.8, -1.3)
    grads = srcad.grad(f, wrt=(0, 1))(*args)
    for i in (0, 1):
        assert_close(grads[i], numerical_grad(f, args, i))
    _, tangent = srcad.jvp(f, wrt=(0, 1))(*args, 1.0, 0.0)
    assert_close(tangent, numerical_grad(f, args, 0))
    h = srcad.hessian(f)(*args)
    eps = 1e-4
    d = lambda x: numerical_grad(f, (x, args[1]), 0)   # noqa: E731
    assert_close(h, (d(args[0] + eps) - d(args[0] - eps)) / (2 * eps), rtol=1e-5, atol=1e-6)


def test_bound_method_reads_the_object_at_call_time():
    other = Model(5.0)

    def f(x):
        return other.energy(x, 2.0)

    df = srcad.grad(f)
    assert_close(df(0.3), 5.0 * 2.0 + np.cos(0.3))
    other.w = 7.0                                   # an attribute: read when called
    assert_close(df(0.3), 7.0 * 2.0 + np.cos(0.3))


# -- item 17: structure and dtype of gradients --------------------------------------

def total_of_list(L):
    return L[0] * L[1] + np.sum(L[2])


def test_list_and_tuple_arguments_get_list_and_tuple_gradients():
    L = [2.0, 3.0, np.array([1.0, 2.0])]
    g = srcad.grad(total_of_list)(L)
    assert type(g) is list and type(g[0]) is float
    assert_tree_close(g, numerical_grad_tree(total_of_list, (L,), 0))
    g = srcad.grad(total_of_list)(tuple(L))
    assert type(g) is tuple
    assert_tree_close(g, numerical_grad_tree(total_of_list, (tuple(L),), 0))
    _, (gx, gL) = srcad.value_and_grad(lambda x, L: x * L[0], wrt=(0, 1))(2.0, [5.0, 7.0])
    assert gx == 5.0 and type(gL) is list and gL == [2.0, 0.0]


def test_dict_gradient_is_a_plain_dict_with_every_key():
    def f(p, x):
        return np.sum(p["W"] * x) * p["b"]

    p = {"W": np.array([1.0, 2.0]), "b": 0.5, "unused": np.ones(3, dtype=np.float32)}
    g = srcad.grad(f)(p, np.array([3.0, -1.0]))
    assert type(g) is dict and set(g) == set(p)
    assert g["unused"].dtype == np.float32 and np.all(g["unused"] == 0)
    assert_tree_close(g, numerical_grad_tree(f, (p, np.array([3.0, -1.0])), 0))


def _squares(x):
    return np.sum(x * x)


def _mean_tanh(x):
    return np.mean(np.tanh(x)) * 3.0


def _tail(x):
    return np.sum(x[1:] * 2.0)


def test_float32_inputs_get_float32_gradients():
    x = np.array([0.5, -1.5, 2.0], dtype=np.float32)
    for f in (_squares, _mean_tanh, _tail):
        g = srcad.grad(f)(x)
        assert g.dtype == np.float32
        assert_close(g, numerical_grad(f, (x.astype(np.float64),), 0), rtol=1e-5, atol=1e-6)
    g = srcad.vjp(lambda x: x * 2.0)(x, np.ones(3, dtype=np.float32))
    assert g.dtype == np.float32
    assert srcad.hessian(lambda x: np.sum(x ** 3))(x).dtype == np.float32
    assert srcad.jacobian(lambda x: x ** 2)(x).dtype == np.float32
    # float64 and int arguments keep their float64 gradients
    assert srcad.grad(lambda x: np.sum(x * x))(np.arange(3)).dtype == np.float64


def test_python_floats_give_python_floats():
    h = srcad.hessian(lambda x: x ** 3)(2.0)
    assert type(h) is float and h == 12.0
    j = srcad.jacobian(lambda x: np.sin(x))(0.3)
    assert type(j) is float
    assert_close(j, np.cos(0.3))
    (hxx, hxy), (hyx, hyy) = srcad.hessian(lambda x, y: x * x * y, wrt=(0, 1))(2.0, 3.0)
    assert all(type(b) is float for b in (hxx, hxy, hyx, hyy))
    assert (hxx, hxy, hyx, hyy) == (6.0, 4.0, 4.0, 0.0)
    g = srcad.grad(lambda x: np.sum(np.array([x, 2.0]) ** 2))(1.5)
    assert type(g) is float and g == 3.0


def test_hvp_of_a_dict_argument_has_every_key():
    def f(p):
        return p["a"] ** 3 + np.sum(p["w"] ** 2)

    p = {"a": 2.0, "w": np.array([1.0, -1.0]), "b": 1.0}
    v = {"a": 1.0, "w": np.array([1.0, 2.0]), "b": 1.0}
    hv = srcad.hvp(f)(p, v)
    assert type(hv) is dict and set(hv) == set(p)
    assert hv["a"] == 12.0 and hv["b"] == 0.0 and np.array_equal(hv["w"], [2.0, 4.0])


# -- item 4: a derivative is always the derivative of what the name computes ---------

def _module(tmp_path, name, text):
    """Import ``text`` as a fresh module ``name`` (a real file: srcad reads it)."""
    import importlib
    import sys
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    if str(tmp_path) not in sys.path:
        sys.path.insert(0, str(tmp_path))      # the fixture takes it out again
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return importlib.import_module(name)


CALLER = """
import numpy as np
import callee_{n}

act = np.tanh

def h(x):
    return x * x

def f(x):
    return h(x) + 0.0

def g(x):
    return act(x) * 1.0

def k(x):
    return callee_{n}.h(x) + 0.0

def uses_act(x):
    return act(x)

def through_callee(x):
    return uses_act(x) * 2.0

W = np.ones(2)

def uses_w(x):
    return np.sum(W * x)
"""

CALLEE = """
def h(x):
    return {body}
"""


@pytest.fixture
def modules(tmp_path, request):
    import sys
    n = abs(hash(request.node.name)) % 10 ** 8
    callee = _module(tmp_path, f"callee_{n}", CALLEE.format(body="x * x"))
    caller = _module(tmp_path, f"caller_{n}", CALLER.format(n=n))
    yield caller, callee, tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop(caller.__name__, None)
    sys.modules.pop(callee.__name__, None)


def test_rebinding_a_called_function(modules, tmp_path):
    caller, _, _ = modules
    df = srcad.grad(caller.f)
    assert df(3.0) == 6.0
    other = _module(tmp_path, "other_h", "def h(x):\n    return x * x * x\n")
    caller.h = other.h                           # a notebook cell run again
    assert srcad.grad(caller.f)(3.0) == 27.0     # a new lookup
    assert df(3.0) == 27.0                       # the derivative the user kept
    assert srcad.value_and_grad(caller.f)(3.0) == (27.0, 27.0)
    assert_close(srcad.jvp(caller.f)(3.0, 1.0)[1], 27.0)
    assert_close(srcad.hessian(caller.f)(3.0), 18.0)
    assert_close(srcad.grad(srcad.grad(caller.f))(3.0), 18.0)


def test_rebinding_a_global_numpy_function(modules):
    caller, _, _ = modules
    dg = srcad.grad(caller.g)
    assert_close(dg(0.5), 1 - np.tanh(0.5) ** 2)
    caller.act = np.sin
    assert_close(srcad.grad(caller.g)(0.5), np.cos(0.5))
    assert_close(dg(0.5), np.cos(0.5))
    assert_close(srcad.hvp(caller.g)(0.5, 1.0), -np.sin(0.5))


def test_rebinding_a_global_a_callee_reads(modules):
    """``act`` is read by the callee ``uses_act``: checked when the derivative
    is looked up (and by hessian and hvp, which are built on the gradient)."""
    caller, _, _ = modules
    assert_close(srcad.grad(caller.through_callee)(0.5), 2 * (1 - np.tanh(0.5) ** 2))
    hvp = srcad.hvp(caller.through_callee)
    caller.act = np.sin
    assert_close(srcad.grad(caller.through_callee)(0.5), 2 * np.cos(0.5))
    assert_close(srcad.hessian(caller.through_callee)(0.5), -2 * np.sin(0.5))
    assert_close(srcad.hvp(caller.through_callee)(0.5, 1.0), -2 * np.sin(0.5))
    assert_close(srcad.jvp(caller.through_callee)(0.5, 1.0)[1], 2 * np.cos(0.5))
    assert hvp is not srcad.hvp(caller.through_callee)


def test_reloading_the_callee_module_and_rebinding_its_attribute(modules, tmp_path):
    import importlib
    caller, callee, _ = modules
    dk = srcad.grad(caller.k)
    assert dk(2.0) == 4.0
    callee.h = lambda x: 5.0 * x               # mod.h = other
    assert srcad.grad(caller.k)(2.0) == 5.0 and dk(2.0) == 5.0
    (tmp_path / f"{callee.__name__}.py").write_text(CALLEE.format(body="x * x * x * x"))
    importlib.reload(callee)                    # the file rewritten and reloaded
    assert srcad.grad(caller.k)(2.0) == 32.0 and dk(2.0) == 32.0


def test_reloading_the_module_of_the_transformed_function(modules, tmp_path):
    import importlib
    caller, _, _ = modules
    assert srcad.grad(caller.f)(3.0) == 6.0
    path = tmp_path / f"{caller.__name__}.py"
    path.write_text(path.read_text().replace("return h(x) + 0.0", "return h(x) * 3.0"))
    importlib.reload(caller)
    assert srcad.grad(caller.f)(3.0) == 18.0


def test_rebinding_a_closure_variable():
    def make():
        act = np.tanh

        def f(x):
            return act(x) + 0.0

        def rebind(new):
            nonlocal act
            act = new
        return f, rebind

    f, rebind = make()
    df = srcad.grad(f)
    assert_close(df(0.5), 1 - np.tanh(0.5) ** 2)
    rebind(np.sin)
    assert_close(srcad.grad(f)(0.5), np.cos(0.5))
    assert_close(df(0.5), np.cos(0.5))
    assert_close(srcad.jvp(f)(0.5, 1.0)[1], np.cos(0.5))


def test_rebinding_what_a_bound_method_calls():
    def h(x):
        return x * x

    class M:
        k = 2.0

        def loss(self, x):
            return h(x) * self.k

    m = M()
    d = srcad.grad(m.loss)
    assert d(3.0) == 12.0

    def h(x):                                 # noqa: F811 - rebinding the closure's h
        return x * x * x

    assert d(3.0) == 54.0 and srcad.grad(m.loss)(3.0) == 54.0


def test_replacing_the_code_of_the_function():
    def f(x):
        return x * 2.0

    def other(x):
        return x * x * 7.0

    assert srcad.grad(f)(1.0) == 2.0
    f.__code__ = other.__code__
    assert srcad.grad(f)(1.0) == 14.0
    assert srcad.jvp(f)(1.0, 1.0) == (7.0, 14.0)


def test_data_globals_do_not_invalidate(modules):
    """A global read as a constant is read when the derivative runs: another
    array there is no reason to transform again."""
    caller, _, _ = modules
    df = srcad.grad(caller.uses_w)
    caller.W = np.array([2.0, -3.0])
    assert srcad.grad(caller.uses_w) is df
    assert np.array_equal(df(np.ones(2)), [2.0, -3.0])


def test_the_guard_costs_nothing_where_nothing_is_called():
    def f(x, y):
        return np.sin(x) * y

    source = srcad.grad(f).source
    assert "transform_again" not in source
    assert "transform_again" in srcad.grad(calls_doubled).source


# -- item 16: derivatives of dead functions are collected ------------------------------

def _closure(k):
    c = float(k)

    def f(x):
        return np.sin(x) * c + doubled_square(x)
    return f


def test_derivatives_of_dead_closures_are_collected():
    import gc
    import linecache
    import weakref
    refs = []
    lines = len(linecache.cache)
    for k in range(20):
        f = _closure(k)
        for transform in (srcad.grad, srcad.jvp, srcad.hessian):
            d = transform(f)
            refs.append(weakref.ref(d))
        assert_close(srcad.grad(f)(0.3), k * np.cos(0.3) + 4 * 0.3)
        refs.append(weakref.ref(f))
    del f, d
    gc.collect()
    assert not [r for r in refs if r() is not None]
    assert len(linecache.cache) <= lines


def test_memory_is_bounded_over_many_closures():
    import gc
    import tracemalloc
    for k in range(20):                       # warm up srcad's own caches (rules)
        srcad.grad(_closure(k))(0.3)
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for k in range(150):                  # tracemalloc is slow: 150 make the point
            srcad.grad(_closure(k))(0.3)
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    # before the caches moved onto the functions: ~2.5 MB (17 kB per closure)
    assert retained < 750_000, f"{retained / 1e6:.2f} MB retained by 150 dead closures"


def test_a_wrapper_does_not_share_the_wrapped_functions_cache():
    def sq(x):
        return x * x

    assert srcad.grad(sq)(3.0) == 6.0          # cached on sq
    wrapped = twice(sq)                         # functools.wraps copies sq.__dict__
    assert srcad.grad(wrapped)(3.0) == 12.0
    assert srcad.grad(sq)(3.0) == 6.0


def _cubed_sine(x):
    return np.sin(x) ** 3


def test_a_transformation_leaves_the_collector_on_and_the_users_frozen_objects_frozen():
    """api._collector_paused pauses the collector and moves what the
    transformation keeps to the oldest generation (gc.freeze, gc.unfreeze);
    objects the user froze before (a server about to fork) stay frozen."""
    import gc
    _cubed_sine.__dict__.pop("__srcad_cache__", None)
    assert gc.isenabled()
    kept = [object() for _ in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        d = srcad.grad(_cubed_sine)
        assert gc.isenabled() and gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    _cubed_sine.__dict__.pop("__srcad_cache__", None)
    srcad.grad(_cubed_sine)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    x = 0.4
    assert_close(d(x), numerical_grad(_cubed_sine, (x,), 0), rtol=1e-6, atol=1e-9)
    del kept
