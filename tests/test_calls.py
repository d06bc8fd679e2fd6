"""Calls into user functions: the callee is differentiated too.

Nested functions (a def, or a lambda bound to a name, in the differentiated
function's body) are lifted into callees that take the enclosing variables
they read as keyword arguments.

Every gradient here is compared with central finite differences
(tests/helpers.py), never with values copied from srcad's output.
"""

import numpy as np
import pytest

import srcad
from helpers import assert_grads_match, check_case

RNG = np.random.default_rng(7)


def softplus(z):
    return np.log1p(np.exp(z))


def layer(x, W, b=0.0):
    return np.tanh(x @ W + b)


def two_layers(x, W, V):
    h = layer(x, W, b=0.5)
    return np.sum(softplus(layer(h, V)) * 2.0)


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def calls_in_loop(x):
    s = 0.0
    for i in range(4):
        s = s + softplus(x * i) * np.sin(x)
    return s


scale = lambda v: 3.0 * v      # noqa: E731 - a lambda bound to a name


def via_lambda(x):
    return np.sum(scale(x) ** 2)


def make_closure(k):
    def inner(x):
        return k * np.sin(x)

    def outer(x):
        return np.sum(inner(x) * x)

    return outer


class Model:
    def __init__(self, w):
        self.w = w

    @staticmethod
    def act(z):
        return np.tanh(z)

    def loss(self, x):
        return np.sum(Model.act(x * self.w) ** 2)


def via_staticmethod(x):
    return Model.act(x).sum()


def keyword_call(x, y):
    return np.sum(layer(W=y, x=x))


def nested(x):
    return np.sum(twice(x))


def twice(x):
    return softplus(x) + softplus(2.0 * x)


def same_arg_twice(x):
    return product(x, x)


def product(a, b):
    return np.sum(a * b)


def fib_like(x, n):
    if n <= 1:
        return x
    return fib_like(x, n - 1) + 0.5 * fib_like(x, n - 2)


# -- nested functions (lambda-lifted: srcad/lift.py) ------------------------------------


def with_nested(x, w):
    def layer(h, b=0.5):             # reads f's local w (a closure)
        return np.tanh(h * w + b)
    act = lambda t: t * np.sin(x)    # noqa: E731 - a lambda bound to a name, reads x
    w = w * 2.0                      # after the def: layer sees the new w (late binding)
    return np.sum(layer(layer(x)) + act(x))


def nested_in_nested(x, w):
    def outer(h):
        def inner(t):
            return np.sin(t * w) + h   # reads outer's h and f's w
        return inner(h) * inner(2.0 * h)
    return np.sum(outer(x))


def nested_recursion(x, c):
    def power(t, k):
        if k == 0:
            return c
        return t * power(t, k - 1)
    return power(x, 3) + power(2.0 * x, 2)


def nested_calls_nested(x, s):
    def scale(t):
        return t * s
    def model(t):                    # needs s only to pass it on to scale
        return np.tanh(scale(t)) + scale(t * t)
    return np.sum(model(x))


def nested_mutual_recursion(x, n):
    def even(t, k):
        if k == 0:
            return t
        return odd(t * 1.1, k - 1)   # defined below: looked up when even runs
    def odd(t, k):
        if k == 0:
            return np.sin(t)
        return even(t * x, k - 1)
    return even(x, n)


def nested_loop_called_in_loop(x, w):
    def cumulate(t, n):
        acc = t
        for i in range(n):
            acc = acc * w + np.sin(acc)
        return acc
    total = 0.0
    for k in range(3):
        total = total + cumulate(x, k + 1)
        w = w * 0.9                  # each call sees the current w
    return np.sum(total)


def nested_inactive_call(x, w):
    def poly(t, k=2.0):
        return t * t * k + w
    c = poly(3.0, k=1.0)             # constant argument: active only through w
    return np.sum(poly(x) * c)


def nested_keyword_call(x, w):
    def affine(t, *, scale=1.0, shift=0.0):
        return t * scale * w + shift
    return np.sum(np.sin(affine(x, shift=0.3)) + affine(scale=2.0, t=x))


def make_nested_closure(k):
    def f(x, w):                     # indented source, reads k from its own closure
        def g(t):
            return k * np.sin(t * w)
        return np.sum([g(t) for t in x]) + g(w)
    return f


class NestedInMethod:
    def __init__(self, s):
        self.s = s

    def loss(self, x):
        def g(t):                    # reads self: passed like any local
            return np.tanh(t * self.s)
        return np.sum(g(x) ** 2)


def total(scale, *xs):
    s = 0.0
    for x in xs:
        s = s + scale * np.sin(x)
    return s


def varargs(a, b, c):
    """The example of issue 4: constants inside *xs, a vector in a second call."""
    return total(2.0, a, b * c, 3.0) + np.sum(total(a, c))


def varargs_in_loop(x):
    s = 0.0
    for i in range(3):
        s = s + total(x[i], x, 1.0, x[0] * i)
    return np.sum(s)


def nest(n, *xs):
    if n == 0:
        return sum(xs)
    return nest(n - 1, xs[0] * xs[1], np.sin(xs[1]))


def varargs_recursion(x, y):
    return nest(3, x, y)


def varargs_same_name_twice(x, y):
    return np.sum(total(x, x, y, x))


def moments(*xs):
    a, b = xs[0], xs[1]
    stacked = np.stack(xs)
    return sum(xs) / len(xs), np.sum(stacked ** 2) + a * b


def varargs_tuple_result(x, y):
    m, q = moments(x, y * 2.0, x * y)
    return np.sum(m * q)


def weighted(*xs, w=1.0):
    a, b = xs
    return w * a * b


def varargs_keyword_only(x, y):
    return weighted(x, 2.0, w=y) + weighted(y, x)


def first_two(pair):
    return pair[0] * np.cos(pair[1])


def list_literal_argument(x, y):
    return first_two([x, y]) + first_two([2.0, x])


def halves(x):
    return x * 2.0, (np.sin(x), x * x)


def nested_unpacking(x):
    a, (b, c) = halves(x)
    return np.sum(a * b * c)


CASES = [
    ("two_layers", two_layers, (RNG.standard_normal((4, 3)), RNG.standard_normal((3, 2)),
                                RNG.standard_normal((2, 2))), (0, 1, 2)),
    ("recursion", power, (1.3, 4), (0,)),
    ("recursion_twice", fib_like, (0.7, 5), (0,)),
    ("calls_in_loop", calls_in_loop, (0.4,), (0,)),
    ("lambda", via_lambda, (RNG.standard_normal(3),), (0,)),
    ("closure", make_closure(1.5), (RNG.standard_normal(3),), (0,)),
    ("staticmethod", via_staticmethod, (RNG.standard_normal(3),), (0,)),
    ("keywords_and_defaults", keyword_call, (RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))),
     (0, 1)),
    ("nested_calls", nested, (RNG.standard_normal(3),), (0,)),
    ("same_argument_twice", same_arg_twice, (RNG.standard_normal(3),), (0,)),
    ("nested_def_and_lambda", with_nested, (RNG.standard_normal(3), RNG.standard_normal(3)), (0, 1)),
    ("nested_in_nested", nested_in_nested, (RNG.standard_normal(3), RNG.standard_normal(3)), (0, 1)),
    ("nested_recursion", nested_recursion, (0.7, 1.3), (0, 1)),
    ("nested_calls_nested", nested_calls_nested, (RNG.standard_normal(3), 0.8), (0, 1)),
    ("nested_mutual_recursion", nested_mutual_recursion, (0.6, 5), (0,)),
    ("nested_loop_called_in_loop", nested_loop_called_in_loop, (RNG.standard_normal(2), 0.5), (0, 1)),
    ("nested_inactive_call", nested_inactive_call, (RNG.standard_normal(3), 0.4), (0, 1)),
    ("nested_inactive_call_x", nested_inactive_call, (RNG.standard_normal(3), 0.4), (0,)),
    ("nested_in_a_closure", make_nested_closure(1.5), (RNG.standard_normal(3), 0.7), (0, 1)),
    ("nested_in_a_method", NestedInMethod(0.8).loss, (RNG.standard_normal(3),), (0,)),
    ("nested_keyword_call", nested_keyword_call, (RNG.standard_normal(3), 0.7), (0, 1)),
    ("varargs", varargs, (0.3, -0.8, 1.1), (0, 1, 2)),
    ("varargs_in_loop", varargs_in_loop, (RNG.standard_normal(3),), (0,)),
    ("varargs_recursion", varargs_recursion, (0.7, -0.4), (0, 1)),
    ("varargs_same_name_twice", varargs_same_name_twice, (0.6, RNG.standard_normal(2)), (0, 1)),
    ("varargs_tuple_result", varargs_tuple_result, (RNG.standard_normal(2), RNG.standard_normal(2)),
     (0, 1)),
    ("varargs_keyword_only", varargs_keyword_only, (0.9, -1.3), (0, 1)),
    ("list_literal_argument", list_literal_argument, (0.9, -1.3), (0, 1)),
    ("nested_unpacking", nested_unpacking, (RNG.standard_normal(3),), (0,)),
]


@pytest.mark.parametrize("name, f, args, wrt", CASES, ids=[c[0] for c in CASES])


def test_call_gradients_match_finite_differences(name, f, args, wrt):
    check_case(f, args, wrt)


def test_callee_forward_values_are_kept_not_recomputed():
    d = srcad.grad(two_layers, wrt=(0, 1, 2))
    assert "h, h_saved = forward_layer(x, W, b=0.5)" in d.source
    assert "reverse_layer(h_saved, dh)" in d.source
    assert "def forward_layer(x, W, b=0.0):" in d.source   # the callee's code is shown too
    code = [line for line in d.source.splitlines() if not line.strip().startswith("#")]
    assert sum("np.tanh(" in line for line in code) == 1   # once, in layer's forward function


def test_recursive_function_calls_its_own_pair():
    source = srcad.grad(power).source
    assert "def forward_power(x, n):" in source
    assert "forward_power(x, sub_n)" in source


def test_callee_is_transformed_once_per_activity_pattern():
    d1 = srcad.grad(two_layers, wrt=(0, 1, 2))
    d2 = srcad.grad(keyword_call, wrt=(0, 1))
    assert d1 is not d2
    from srcad import caches
    assert ("x", "W") in caches.table(layer, "split")


def test_bound_method_reads_self_as_constant():
    m = Model(0.7)
    x = RNG.standard_normal(3)
    g = srcad.grad(m.loss)(x)
    assert_grads_match(m.loss, (x,), (0,), (g,))


def test_callee_without_source_or_rule_is_an_error():
    with pytest.raises(srcad.UnknownPrimitiveError) as info:
        srcad.grad(uses_fft)(np.ones(4))
    text = str(info.value)
    assert "fft" in text and "test_calls.py" in text and "^" in text
    assert "srcad.adjoint" in text


def uses_fft(x):
    return np.sum(np.abs(np.fft.fft(x)))


def test_nested_function_calls_pass_the_closure_variables_it_reads():
    source = srcad.grad(with_nested, wrt=(0, 1)).source
    assert "layer_x, layer_x_saved = forward_layer(x, w=w_1)" in source   # the new w
    assert "act_x, act_x_saved = forward_act(x, x=x)" in source
    assert "def forward_layer(h, b=0.5, *, w):" in source
    assert "def forward_act(t, *, x):" in source


def test_inactive_call_of_a_nested_function_runs_the_lifted_function():
    source = srcad.grad(nested_inactive_call, wrt=0).source
    assert "c = poly(3.0, k=1.0, w=w)" in source


def test_nested_functions_are_lifted_once_per_enclosing_function():
    from srcad import caches
    srcad.grad(with_nested, wrt=0)
    first = caches.table(with_nested, "lifted")["cells"][1]["layer"].cell_contents
    srcad.grad(with_nested, wrt=1)
    layer = caches.table(with_nested, "lifted")["cells"][1]["layer"].cell_contents
    assert layer is first
    assert set(caches.table(layer, "split")) >= {("h",), ("h", "w")}


def test_the_enclosing_function_is_unchanged():
    x, w = RNG.standard_normal(3), RNG.standard_normal(3)
    expected = np.sum(np.tanh(np.tanh(x * 2 * w + 0.5) * 2 * w + 0.5) + x * np.sin(x))
    srcad.grad(with_nested, wrt=(0, 1))(x, w)
    assert np.isclose(with_nested(x, w), expected)


def test_varargs_are_passed_as_written_and_their_adjoints_split_by_position():
    source = srcad.grad(varargs, wrt=(0, 1, 2)).source
    assert "def forward_total(scale, *xs):" in source
    assert "forward_total(2.0, a, mul_b, 3.0)" in source   # the call as the user wrote it
    assert "da, (dc,) = reverse_total_2(total_a_2_saved" in source   # fresh names: unpacked
    assert "total_a_2, total_a_2_saved = forward_total_2(a, c)" in source
    assert "da = da + dtotal_a_args[0]" in source            # a constant element gets nothing
    assert "dmul_b = dtotal_a_args[1]" in source
    assert "dtotal_a_args[2]" not in source
