"""Higher derivatives: jacobian, hessian, hvp, and derivatives of generated code.

``srcad.hessian`` and ``srcad.hvp`` take the tangent (forward mode) of the
gradient code srcad generated (forward over reverse); ``srcad.grad`` of a
gradient differentiates generated code in reverse mode again.  Every result is
compared with central differences of a lower-order derivative that is itself
checked against central differences elsewhere (``tests/test_api.py``).
"""

import math

import numpy as np
import pytest

import srcad
from srcad.errors import SrcadError

from helpers import assert_close, numerical_grad
from test_calls import nested_loop_called_in_loop, with_nested
from test_calls import (varargs, varargs_in_loop, varargs_keyword_only, varargs_recursion,
                        varargs_tuple_result)
from test_forward import accumulate as loop

RNG = np.random.default_rng(11)


def numerical_jacobian(f, args, i, h=1e-6):
    """``d f(*args) / d args[i]``, shaped ``out.shape + in.shape``, by central differences."""
    x = np.asarray(args[i], dtype=np.float64)
    out_shape = np.shape(f(*args))
    J = np.zeros(out_shape + x.shape)
    for index in np.ndindex(x.shape):
        def at(step):
            shifted = list(args)
            y = x.copy()
            y[index] += step
            shifted[i] = y if x.ndim else float(y)
            return np.asarray(f(*shifted), dtype=np.float64)
        J[(Ellipsis,) + index] = (at(h) - at(-h)) / (2 * h)
    return J


def numerical_hessian(f, args, i, j):
    """Central differences of srcad's gradient (itself checked elsewhere)."""
    gradient = srcad.grad(f, wrt=i)
    return numerical_jacobian(lambda *a: gradient(*a), args, j)


# --- functions under test ----------------------------------------------------------------


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def scalar(x):
    return math.sin(x) * x ** 3 + math.exp(0.5 * x)


def network(W, x, b):
    h = np.tanh(W @ x + b)
    return np.mean(h ** 2) + 0.1 * np.sum(W * W)


def reductions(x):
    return np.prod(x) + np.max(x) * np.var(x) + np.std(x) + np.linalg.norm(x)


def pieces(x):
    y = np.concatenate([x[:2] * 2.0, np.sin(x)])
    z = np.stack([x, x ** 2])
    return np.sum(y ** 2) + np.sum(z[1] * z[0]) + np.dot(x, x[::-1])


def vector_loop(x):
    h = x
    for i in range(3):
        h = np.tanh(h * x + 0.1 * i)
    return np.sum(h)


def with_break(x):
    total = 0.0
    for k in range(5):
        total = total + x * x * k
        if total > 4.0:
            break
    return total


def cube(u):
    return u * u * u


def calling(x):
    return np.sum(cube(x) * np.cos(x))


def accumulate_in_a_loop(t, n, w):
    acc = t
    for i in range(n):
        acc = acc * w + np.sin(acc)
    return acc


def calling_a_loop(x, w):
    """The callee's split saves its loop stacks: their tangents are twin stacks."""
    return np.sum(accumulate_in_a_loop(x, 2, w) ** 2)


def loops_in_a_callee(x):
    return np.sum(sine_loop(x) * x)


def sine_loop(X):
    s = 0.0
    for x in X:
        s = s + np.sin(x)
    return s


def linear_algebra(A):
    return np.linalg.det(A) + np.sum(np.linalg.inv(A)) + np.sum(np.linalg.solve(A, np.ones(3)))


A3 = RNG.uniform(-0.5, 0.5, (3, 3)) + 2.0 * np.eye(3)

HESSIAN_CASES = [
    (rosenbrock, (np.array([-1.2, 1.0, 0.5]),), 0),
    (scalar, (0.7,), 0),
    (network, (RNG.normal(size=(2, 3)), RNG.normal(size=3), RNG.normal(size=2)), 0),
    (network, (RNG.normal(size=(2, 3)), RNG.normal(size=3), RNG.normal(size=2)), 1),
    (reductions, (np.array([0.5, 1.3, -0.7, 2.1]),), 0),
    (pieces, (np.array([0.5, 1.3, -0.7]),), 0),
    (loop, (0.7, 5), 0),
    (vector_loop, (np.array([0.3, -0.4]),), 0),
    (with_break, (0.9,), 0),
    (calling, (np.array([0.3, -1.1, 0.8]),), 0),
    (linear_algebra, (A3,), 0),
    (calling_a_loop, (np.array([0.3, -0.5]), 0.5), 0),
    (calling_a_loop, (np.array([0.3, -0.5]), 0.5), 1),
    (with_nested, (RNG.normal(size=3), RNG.normal(size=3)), 0),
    (with_nested, (RNG.normal(size=3), RNG.normal(size=3)), 1),
    (nested_loop_called_in_loop, (np.array([0.3, -0.5]), 0.5), 1),
    (loops_in_a_callee, (np.array([0.3, -1.1, 0.8]),), 0),
    (varargs_in_loop, (np.array([0.3, -1.1, 0.8]),), 0),
    (varargs_tuple_result, (np.array([0.3, -1.1]), np.array([0.5, 0.2])), 1),
]


@pytest.mark.parametrize("f, args, wrt", HESSIAN_CASES,
                         ids=[f"{f.__name__}-{w}" for f, _, w in HESSIAN_CASES])


def test_hessian_matches_finite_differences_of_the_gradient(f, args, wrt):
    H = srcad.hessian(f, wrt=wrt)(*args)
    shape = np.shape(args[wrt])
    assert np.shape(H) == shape + shape
    assert_close(H, numerical_hessian(f, args, wrt, wrt), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f, args, wrt", HESSIAN_CASES[:4] + HESSIAN_CASES[6:8],
                         ids=[f"{f.__name__}-{w}" for f, _, w in HESSIAN_CASES[:4] + HESSIAN_CASES[6:8]])


def test_hvp_is_the_hessian_times_the_vector(f, args, wrt):
    v = RNG.normal(size=np.shape(args[wrt]))
    v = float(v) if not np.shape(v) else v
    Hv = srcad.hvp(f, wrt=wrt)(*args, v)
    H = srcad.hessian(f, wrt=wrt)(*args)
    n = int(np.size(v))
    assert_close(Hv, (np.reshape(H, (n, n)) @ np.ravel(v)).reshape(np.shape(v)), rtol=1e-8, atol=1e-10)


def test_hessian_blocks_for_several_parameters():
    args = (RNG.normal(size=(2, 3)), RNG.normal(size=3), RNG.normal(size=2))
    H = srcad.hessian(network, wrt=(0, 1))(*args)
    assert len(H) == 2 and len(H[0]) == 2
    for i in range(2):
        for j in range(2):
            assert H[i][j].shape == np.shape(args[i]) + np.shape(args[j])
            assert_close(H[i][j], numerical_hessian(network, args, i, j), rtol=1e-5, atol=1e-6)
    assert_close(H[0][1], np.moveaxis(H[1][0], 0, -1).reshape(H[0][1].shape), rtol=1e-8, atol=1e-10)


def test_hvp_for_several_parameters():
    args = (RNG.normal(size=(2, 3)), RNG.normal(size=3), RNG.normal(size=2))
    vW, vx = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    HvW, Hvx = srcad.hvp(network, wrt=(0, 1))(*args, vW, vx)
    H = srcad.hessian(network, wrt=(0, 1))(*args)
    expected_W = np.tensordot(H[0][0], vW, 2) + np.tensordot(H[0][1], vx, 1)
    expected_x = np.tensordot(H[1][0], vW, 2) + np.tensordot(H[1][1], vx, 1)
    assert_close(HvW, expected_W, rtol=1e-8, atol=1e-10)
    assert_close(Hvx, expected_x, rtol=1e-8, atol=1e-10)


def test_hessian_reuses_the_cached_gradient_and_caches_itself():
    h = srcad.hessian(rosenbrock)
    assert h is srcad.hessian(rosenbrock)
    x = np.array([1.0, 1.0, 1.0])
    assert_close(h(x), numerical_hessian(rosenbrock, (x,), 0, 0), rtol=1e-5, atol=1e-5)


def test_the_tangent_of_a_gradient_reads_its_loop_stacks_in_step():
    """The gradient of a loop saves values on stacks; its tangent pushes and
    pops the tangents of those values on twin stacks."""
    gradient = srcad.grad(loop)
    source = srcad.jvp(gradient).source
    assert "s_stack_dot = Stack()" in source
    assert "s_stack_dot.push(s_dot)" in source
    assert "s_dot = s_stack_dot.pop()" in source


# --- jacobian --------------------------------------------------------------------------


def wide(x):             # 2 inputs, 5 outputs: forward mode
    return np.concatenate([np.sin(x) * x[0], x ** 3, [x[1] / x[0]]])


def tall(x):             # 6 inputs, 2 outputs: reverse mode
    return np.array([np.sum(x ** 2), np.prod(x[:3])])


def matrix_valued(A, x):
    return np.tanh(A * x)


@pytest.mark.parametrize("f, args", [(wide, (np.array([0.7, -1.3]),)),
                                     (tall, (RNG.normal(size=6),)),
                                     (matrix_valued, (RNG.normal(size=(2, 3)), RNG.normal(size=3))),
                                     (scalar, (0.7,))],
                         ids=["forward", "reverse", "matrix", "scalar"])


def test_jacobian_matches_finite_differences(f, args):
    J = srcad.jacobian(f)(*args)
    assert_close(J, numerical_jacobian(f, args, 0), rtol=1e-6, atol=1e-8)


def test_jacobian_of_several_parameters_is_a_tuple():
    args = (RNG.normal(size=(2, 3)), RNG.normal(size=3))
    JA, Jx = srcad.jacobian(matrix_valued, wrt=(0, 1))(*args)
    assert JA.shape == (2, 3, 2, 3) and Jx.shape == (2, 3, 3)
    assert_close(Jx, numerical_jacobian(matrix_valued, args, 1), rtol=1e-6, atol=1e-8)


def test_jacobian_of_the_gradient_is_the_hessian():
    x = np.array([-1.2, 1.0, 0.5])
    assert_close(srcad.jacobian(srcad.grad(rosenbrock))(x), srcad.hessian(rosenbrock)(x),
                 rtol=1e-10, atol=1e-10)


def test_jacobian_refuses_a_tuple_output():
    def two(x):
        return x, x * 2.0
    with pytest.raises(SrcadError, match="returns one array"):
        srcad.jacobian(two)(np.ones(2))


# --- derivatives of generated code -------------------------------------------------------


def test_second_and_third_derivatives_by_reverse_over_reverse():
    d1 = srcad.grad(scalar)
    d2 = srcad.grad(d1)
    d3 = srcad.grad(d2)
    x = 0.7
    assert_close(d2(x), numerical_grad(d1, (x,), 0), rtol=1e-6)
    assert_close(d3(x), numerical_grad(d2, (x,), 0), rtol=1e-6)
    assert_close(d2(x), srcad.hessian(scalar)(x), rtol=1e-10)


def test_fourth_derivative_of_a_polynomial_is_exact():
    def p(x):
        return 3.0 * x ** 4 - x ** 3 + 2.0 * x
    d4 = srcad.grad(srcad.grad(srcad.grad(srcad.grad(p))))
    assert_close(d4(1.7), 72.0, rtol=1e-12)


def test_reverse_over_reverse_of_vector_code():
    def f(x):
        return np.sum(np.sin(x) * x)

    x, v = np.array([0.3, -0.8, 1.1]), np.array([1.0, -2.0, 0.5])
    with pytest.raises(srcad.NonScalarOutputError):
        srcad.grad(srcad.grad(f))(x)          # a vector gradient has no gradient
    assert_close(srcad.vjp(srcad.grad(f))(x, 1.0, v), srcad.hvp(f)(x, v), rtol=1e-10)
    assert_close(srcad.hvp(f)(x, v), (2 * np.cos(x) - x * np.sin(x)) * v, rtol=1e-10)


def test_forward_over_forward_and_reverse_over_forward():
    def f(x):
        return np.exp(np.sin(x))
    tangent = srcad.jvp(f)                        # (x, x_dot) -> (f(x), f'(x) x_dot)
    x = 0.4
    second = np.exp(np.sin(x)) * (np.cos(x) ** 2 - np.sin(x))
    (value, first), (first_again, d2) = srcad.jvp(tangent, wrt=0)(x, 1.0, 1.0)
    assert_close(first, first_again, rtol=1e-12)
    assert_close(d2, second, rtol=1e-10)
    assert_close(srcad.vjp(tangent, wrt=0)(x, 1.0, (0.0, 1.0)), second, rtol=1e-10)


def test_reverse_over_reverse_refuses_loop_stacks():
    """Reverse mode over a gradient with loop stacks is not supported: it must
    say so, not return a wrong number (hessian and hvp handle these; grad of
    the gradient of a scalar runs forward over reverse, tests/test_grad_of_gradient.py)."""
    with pytest.raises(SrcadError, match="loop stacks of a generated gradient") as info:
        srcad.vjp(srcad.grad(loop))(0.7, 5, 1.0, 1.0)
    assert "srcad.hessian" in str(info.value)
    expected = numerical_hessian(loop, (0.7, 5), 0, 0)
    assert_close(srcad.hessian(loop)(0.7, 5), expected, rtol=1e-5)
    assert_close(srcad.grad(srcad.grad(loop))(0.7, 5), expected, rtol=1e-5)


def test_hessian_through_a_helper_without_rules_transforms_its_source():
    """cholesky's gradient calls runtime.cholesky_adjoint, which has no rules:
    its Python source is differentiated like a user function."""
    def f(A):
        return np.sum(np.linalg.cholesky(A) ** 2)
    S = A3 @ A3.T
    assert_close(srcad.hessian(f)(S), numerical_hessian(f, (S,), 0, 0), rtol=1e-5, atol=1e-6)


def sine_sum(x):
    return np.sum(np.sin(x) * x)


sine_sum_gradient = srcad.grad(sine_sum)


def gradient_penalty(x):
    """A function of a gradient: srcad transforms the generated gradient code it calls."""
    return np.sum(sine_sum_gradient(x) ** 2)


def test_derivatives_of_a_function_that_calls_a_generated_gradient():
    x = np.array([0.3, -0.8, 1.1])
    assert_close(srcad.grad(gradient_penalty)(x), numerical_grad(gradient_penalty, (x,), 0), rtol=1e-6)
    v = np.array([1.0, 0.5, -2.0])
    _, tangent = srcad.jvp(gradient_penalty)(x, v)
    assert_close(tangent, numerical_grad(gradient_penalty, (x,), 0) @ v, rtol=1e-6)
    assert_close(srcad.hessian(gradient_penalty)(x), numerical_hessian(gradient_penalty, (x,), 0, 0),
                 rtol=1e-5, atol=1e-6)


class Model:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return np.sum(np.tanh(self.w * x) ** 2)


def test_methods_count_their_arguments_after_self():
    model, x = Model(np.array([0.5, 2.0])), np.array([0.1, 0.2])
    assert_close(srcad.jacobian(model.loss)(x), srcad.grad(model.loss)(x), rtol=1e-12)
    H = srcad.hessian(model.loss)(x)
    assert_close(H, numerical_jacobian(lambda y: srcad.grad(model.loss)(y), (x,), 0), rtol=1e-5, atol=1e-7)
    assert_close(srcad.hvp(model.loss)(x, np.ones(2)), H @ np.ones(2), rtol=1e-12)


def test_hvp_and_hessian_show_the_tangent_of_the_gradient_code():
    source = srcad.hvp(rosenbrock).source
    assert source.startswith("def jvp_grad_rosenbrock(x, dout, x_dot):")
    assert "x_sub_dot = x_dot[1:]" in source
    assert srcad.hessian(rosenbrock).source == source


@pytest.mark.parametrize("transform", [srcad.hvp, srcad.hessian, srcad.jacobian],
                         ids=["hvp", "hessian", "jacobian"])


def test_the_wrappers_are_not_transformed_again_and_say_what_to_compose(transform):
    with pytest.raises(srcad.SourceUnavailableError, match="wrapper around generated functions") as info:
        srcad.grad(transform(sine_sum))(np.ones(2))
    assert "srcad.jvp(srcad.grad(f))" in str(info.value)


def sine_cubed(u):
    return u * u * np.sin(u)


def calls_twice(x):
    return sine_cubed(x) * x + sine_cubed(2.0 * x)


def test_third_derivative_through_calls_by_reverse_over_reverse():
    """Each order differentiates the split forward/reverse functions of the
    previous one; their saved values are tuples whose adjoints add elementwise."""
    d2 = srcad.grad(srcad.grad(calls_twice))
    d3 = srcad.grad(d2)
    assert_close(d3(0.7), numerical_grad(d2, (0.7,), 0), rtol=1e-6)
    assert_close(d2(0.7), srcad.hessian(calls_twice)(0.7), rtol=1e-10)


def nested_lambda(x):
    g = lambda t: np.sin(t * x)      # noqa: E731 - lifted into a callee that takes x
    return g(x) * x


def test_reverse_over_reverse_through_a_nested_function():
    d1 = srcad.grad(nested_lambda)
    d2 = srcad.grad(d1)
    assert_close(d1(0.7), numerical_grad(nested_lambda, (0.7,), 0), rtol=1e-6)
    assert_close(d2(0.7), numerical_grad(d1, (0.7,), 0), rtol=1e-6)
    assert_close(d2(0.7), srcad.hessian(nested_lambda)(0.7), rtol=1e-10)


@pytest.mark.parametrize("f, args", [(varargs, (0.3, -0.8, 1.1)), (varargs_recursion, (0.7, -0.4)),
                                     (varargs_keyword_only, (0.9, -1.3))],
                         ids=["varargs", "varargs_recursion", "varargs_keyword_only"])


def test_hessian_through_a_varargs_callee(f, args):
    """Forward over reverse: the split functions keep ``*xs`` and are transformed again."""
    wrt = tuple(range(len(args)))
    H = srcad.hessian(f, wrt=wrt)(*args)
    for i in wrt:
        for j in wrt:
            assert_close(H[i][j], numerical_hessian(f, args, i, j), rtol=1e-5, atol=1e-6)


def test_reverse_over_reverse_through_a_varargs_callee():
    """``weighted(*xs, w=1.0)`` has no loop, so grad of grad goes through it."""
    args = (0.9, -1.3)
    second = srcad.grad(srcad.grad(varargs_keyword_only, wrt=0), wrt=(0, 1))(*args)
    assert_close(second, [numerical_hessian(varargs_keyword_only, args, 0, j) for j in (0, 1)],
                 rtol=1e-5, atol=1e-6)
