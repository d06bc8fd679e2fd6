"""Objects: namedtuples, dataclasses and plain objects whose attributes hold
arrays, read inside the differentiated function, and gradients with respect
to them (an object of the argument's own type, as JAX gives for registered
pytrees).  Every expected value comes from central finite differences
(tests/tree_helpers.py), never from srcad.
"""

import collections
import dataclasses

import numpy as np
import pytest

import srcad
from helpers import assert_close, numerical_grad
from tree_helpers import check_grad_tree, check_jvp_tree, flatten

RNG = np.random.default_rng(13)
Layer = collections.namedtuple("Layer", "W b")


@dataclasses.dataclass
class Params:
    W: np.ndarray
    b: float
    name: str = "dense"          # static: kept as is in the gradient
    width: int = 2


@dataclasses.dataclass(frozen=True)
class Frozen:
    W: np.ndarray
    scale: float


class Model:
    """A plain object: arrays, an int and a function as attributes."""

    def __init__(self, W, b):
        self.W, self.b, self.n, self.act = W, b, 3, np.tanh

    def energy(self, x, y):
        return np.sum((self.W @ x - y) ** 2) + self.b ** 2


def affine(p, x):
    return np.sum(np.tanh(p.W @ x + p.b) ** 2)


def params_of(kind):
    W, b = RNG.standard_normal((2, 3)), RNG.standard_normal(2)
    if kind is Params:
        return Params(W, 0.7)
    if kind is Frozen:
        return Frozen(W, 0.7)
    return kind(W, b)


class Slotted:
    """An object without a __dict__."""

    __slots__ = ("W", "b")

    def __init__(self, W, b):
        self.W, self.b = W, b


KINDS = [Layer, Params, Frozen, Model, Slotted]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_gradient_is_an_object_of_the_same_type(kind):
    p, x = params_of(kind), RNG.standard_normal(3)
    f = _with_field(kind)
    g = check_grad_tree(srcad.grad(f, wrt=(0, 1)), f, (p, x), (0, 1))
    assert type(g[0]) is kind


def _with_field(kind):
    if kind is Frozen:
        def f(p, x):
            return np.sum(np.tanh(p.W @ x + p.scale) ** 2)
    else:
        def f(p, x):
            return np.sum(np.tanh(p.W @ x + p.b) ** 2)
    return f


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_jvp_takes_a_tangent_of_the_same_type(kind):
    p, x = params_of(kind), RNG.standard_normal(3)
    f = _with_field(kind)
    check_jvp_tree(srcad.jvp(f), f, (p, x), 0)


def test_static_attributes_are_kept():
    p = Params(RNG.standard_normal((2, 3)), 0.5, name="first", width=7)
    g = srcad.grad(affine)(p, RNG.standard_normal(3))
    assert (g.name, g.width) == ("first", 7)
    m = Model(RNG.standard_normal((2, 3)), 0.3)
    gm = srcad.grad(Model.energy)(m, RNG.standard_normal(3), RNG.standard_normal(2))
    assert gm.n == 3 and gm.act is np.tanh and isinstance(gm, Model)


def test_unread_attribute_gets_zeros():
    def f(p, x):
        return np.sum(p.W @ x)

    p, x = Layer(RNG.standard_normal((2, 3)), RNG.standard_normal(2)), RNG.standard_normal(3)
    g = check_grad_tree(srcad.grad(f), f, (p, x), 0)
    assert_close(g.b, np.zeros(2))


def test_method_differentiated_with_respect_to_self():
    m = Model(RNG.standard_normal((2, 3)), 0.3)
    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    check_grad_tree(srcad.grad(Model.energy, wrt=(0, 1)), Model.energy, (m, x, y), (0, 1))
    check_jvp_tree(srcad.jvp(Model.energy), Model.energy, (m, x, y), 0)


MODEL = Model(RNG.standard_normal((2, 3)), 0.3)


def uses_module_object(x, y):
    return MODEL.energy(x, y) * 2.0


def test_method_of_a_module_level_object():
    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    g = srcad.grad(uses_module_object, wrt=(0, 1))(x, y)
    assert_close(g[0], numerical_grad(uses_module_object, (x, y), 0))
    assert_close(g[1], numerical_grad(uses_module_object, (x, y), 1))
    _, t = srcad.jvp(uses_module_object)(x, y, np.ones(3))
    assert_close(t, numerical_grad(uses_module_object, (x, y), 0) @ np.ones(3))
    # a bound method as the function: differentiated w.r.t. its own parameters
    assert_close(srcad.grad(MODEL.energy)(x, y), numerical_grad(MODEL.energy, (x, y), 0))


def layer(p, x):
    return np.tanh(p.W @ x + p.b)


def deep(params, x):
    for p in params:
        x = layer(p, x)
    return np.sum(x ** 2)


def test_list_of_namedtuples_through_a_callee_in_a_loop():
    params = [Layer(RNG.standard_normal((3, 3)), RNG.standard_normal(3)) for _ in range(3)]
    x = RNG.standard_normal(3)
    g = check_grad_tree(srcad.grad(deep, wrt=(0, 1)), deep, (params, x), (0, 1))
    assert type(g[0]) is list and all(type(e) is Layer for e in g[0])
    check_jvp_tree(srcad.jvp(deep), deep, (params, x), 0)


@dataclasses.dataclass
class Net:
    first: Params
    second: Layer
    scales: list


def nested(net, x):
    h = np.tanh(net.first.W @ x + net.first.b)
    out = net.second.W @ h + net.second.b
    return np.sum(out ** 2) * net.scales[0] + np.sum(h) * net.scales[1]


def test_nested_objects_and_containers_in_attributes():
    net = Net(Params(RNG.standard_normal((2, 3)), 0.2),
              Layer(RNG.standard_normal((2, 2)), RNG.standard_normal(2)), [0.5, 1.5])
    x = RNG.standard_normal(3)
    g = check_grad_tree(srcad.grad(nested), nested, (net, x), 0)
    assert type(g.first) is Params and type(g.second) is Layer and type(g.scales) is list
    check_jvp_tree(srcad.jvp(nested), nested, (net, x), 0)


def test_attribute_read_in_a_loop_accumulates():
    def f(p, x):
        s = 0.0
        for i in range(4):
            s = s + np.sum(p.W @ x) * p.b[i % 2]
            x = np.sin(x)
        return s

    p, x = Layer(RNG.standard_normal((3, 3)), RNG.standard_normal(2)), RNG.standard_normal(3)
    check_grad_tree(srcad.grad(f, wrt=(0, 1)), f, (p, x), (0, 1))
    check_jvp_tree(srcad.jvp(f), f, (p, x), 0)


def cubic(p):
    return np.sum(p.W ** 3 * p.b)


def test_hvp_with_respect_to_a_namedtuple():
    p = Layer(RNG.standard_normal(3), RNG.standard_normal(3))
    v = Layer(RNG.standard_normal(3), RNG.standard_normal(3))
    hv = srcad.hvp(cubic)(p, v)
    assert type(hv) is Layer
    grad = srcad.grad(cubic)
    eps = 1e-6
    plus = Layer(*(a + eps * b for a, b in zip(p, v)))
    minus = Layer(*(a - eps * b for a, b in zip(p, v)))
    expected = (flatten(grad(plus)) - flatten(grad(minus))) / (2 * eps)
    assert_close(flatten(hv), expected, 1e-5, 1e-7)


def test_hvp_with_respect_to_a_dataclass():
    def f(p, x):
        return np.sum(np.sin(p.W @ x) * p.b)

    p, x = Params(RNG.standard_normal((2, 3)), 0.4), RNG.standard_normal(3)
    v = Params(RNG.standard_normal((2, 3)), 0.3)
    hv = srcad.hvp(f)(p, x, v)
    assert type(hv) is Params
    grad = srcad.grad(f)
    eps = 1e-6
    plus = Params(p.W + eps * v.W, p.b + eps * v.b)
    minus = Params(p.W - eps * v.W, p.b - eps * v.b)
    expected = (flatten(grad(plus, x)) - flatten(grad(minus, x))) / (2 * eps)
    assert_close(flatten(hv), expected, 1e-5, 1e-7)


def test_hessian_with_respect_to_x_reads_object_attributes():
    def f(p, x):
        return np.sum(np.tanh(p.W @ x) * p.b)

    p, x = Layer(RNG.standard_normal((2, 3)), RNG.standard_normal(2)), RNG.standard_normal(3)
    H = srcad.hessian(f, wrt=1)(p, x)
    grad = srcad.grad(f, wrt=1)
    expected = np.array([numerical_grad(lambda x: grad(p, x)[k], (x,), 0) for k in range(3)])
    assert_close(H, expected, 1e-5, 1e-7)


def test_hessian_refuses_an_object_argument_clearly():
    with pytest.raises(srcad.SrcadError, match="Hessians need array or float"):
        srcad.hessian(cubic)(Layer(np.ones(2), np.ones(2)))


def test_inputs_are_not_modified_and_gradient_is_a_new_object():
    p = Params(RNG.standard_normal((2, 3)), 0.4)
    W = p.W.copy()
    g = srcad.grad(affine)(p, RNG.standard_normal(3))
    assert g is not p and np.array_equal(p.W, W) and p.b == 0.4


def test_array_attributes_are_still_refused():
    def f(x):
        return np.sum(x.imag)

    with pytest.raises(srcad.SrcadError):
        srcad.grad(f)(np.ones(2))


class Mlp:
    """A model whose methods call each other through self."""

    def __init__(self, W1, W2):
        self.W1, self.W2 = W1, W2

    def layer(self, W, x):
        return np.tanh(x @ W)

    def predict(self, x):
        return self.layer(self.W2, self.layer(self.W1, x))

    def loss(self, x, y):
        return np.mean((self.predict(x) - y) ** 2)


def annotated_loss(model: Mlp, x, y):
    return model.loss(x, y) + 0.1 * np.sum(model.W1 ** 2)


def mlp_args():
    return (Mlp(RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))),
            RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2)))


def test_methods_calling_methods_through_self():
    m, x, y = mlp_args()
    g = check_grad_tree(srcad.grad(Mlp.loss, wrt=(0, 1)), Mlp.loss, (m, x, y), (0, 1))
    assert type(g[0]) is Mlp
    check_jvp_tree(srcad.jvp(Mlp.loss), Mlp.loss, (m, x, y), 0)
    assert_close(srcad.grad(m.loss)(x, y), numerical_grad(m.loss, (x, y), 0))


def test_parameter_annotated_with_its_class():
    m, x, y = mlp_args()
    check_grad_tree(srcad.grad(annotated_loss), annotated_loss, (m, x, y), 0)
    check_jvp_tree(srcad.jvp(annotated_loss), annotated_loss, (m, x, y), 0)


def test_hvp_through_methods():
    m, x, y = mlp_args()
    v = Mlp(RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2)))
    hv = srcad.hvp(Mlp.loss)(m, x, y, v)
    grad, eps = srcad.grad(Mlp.loss), 1e-6
    plus = Mlp(m.W1 + eps * v.W1, m.W2 + eps * v.W2)
    minus = Mlp(m.W1 - eps * v.W1, m.W2 - eps * v.W2)
    assert_close(flatten(hv), (flatten(grad(plus, x, y)) - flatten(grad(minus, x, y))) / (2 * eps),
                 1e-5, 1e-7)


class Base:
    def __init__(self, w):
        self.w = w

    def scale(self, x):
        return self.w * x

    def energy(self, x):
        return np.sum(self.scale(x) ** 2)


class Derived(Base):
    def scale(self, x):
        return 3.0 * self.w * x


class Activated:
    def __init__(self, w):
        self.w, self.act = w, np.tanh

    def energy(self, x):
        return np.sum(self.act(self.w * x))


def test_a_method_a_subclass_overrides_is_refused_not_guessed():
    with pytest.raises(srcad.SrcadError):
        srcad.grad(Base.energy)(Base(np.ones(2)), np.ones(2))


def test_a_function_stored_on_the_instance_is_refused_clearly():
    with pytest.raises(srcad.UnknownPrimitiveError, match="act"):
        srcad.grad(Activated.energy, wrt=1)(Activated(np.ones(2)), np.ones(2))


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_check_grad_walks_object_attributes(kind):
    p, x = params_of(kind), RNG.standard_normal(3)
    errors = srcad.check_grad(_with_field(kind), p, x, wrt=(0, 1))
    assert {"p.W", "x"} <= set(errors) and max(errors.values()) < 1e-6


def test_complex_attribute_is_refused_like_a_complex_argument():
    p = Params(np.ones((2, 3)) * (1 + 1j), 0.5)
    with pytest.raises(srcad.SrcadError, match="complex"):
        srcad.grad(affine)(p, np.ones(3))
