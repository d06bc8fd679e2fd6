"""Behaviour that differs between the Python and NumPy versions srcad supports.

.ci/run runs the suite on every Python from 3.10 to 3.13 and with the oldest
declared gast and NumPy; these tests pin what broke there.
"""

import warnings

import numpy as np

import srcad

from helpers import assert_close, numerical_grad


def squash(x):
    return np.tanh(x) * 2.0


def unpacks(x):
    a, b = np.sin(x), np.cos(x)
    h = squash(a)
    return np.sum(h * b)


def test_tuple_targets_print_without_parentheses_on_every_python():
    """Python 3.10's ast.unparse wraps ``a, b = ...`` in parentheses; srcad
    prints the 3.11 form everywhere, so the generated code reads the same."""
    source = srcad.grad(unpacks).source
    assert "    h, h_saved = forward_squash(a)" in source and "(h, h_saved)" not in source
    x = np.array([0.3, -1.1, 2.0])
    assert_close(srcad.grad(unpacks)(x), numerical_grad(unpacks, (x,), 0))


def reshape_by_newshape(x):
    return np.sum(np.reshape(x, newshape=(3, 2)) ** 2 @ np.array([1.0, 2.0]))


def reshape_by_shape(x):
    return np.sum(np.reshape(x, (3, 2)) ** 2 @ np.array([1.0, 2.0]))


def test_reshape_by_either_keyword_name():
    """``newshape=`` is NumPy's name before 2.1 (and deprecated after): it binds."""
    x = np.linspace(-1.0, 1.5, 6)
    # d/dx_k of sum_ij w_j x_ij^2 = 2 w_j x_ij: w alternates 1, 2 along the rows
    exact = 2.0 * np.tile([1.0, 2.0], 3) * x
    assert_close(srcad.grad(reshape_by_shape)(x), exact)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            reshape_by_newshape(x)
    except TypeError:                       # a NumPy without newshape=
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert_close(srcad.grad(reshape_by_newshape)(x), exact)
        _, tangent = srcad.jvp(reshape_by_newshape)(x, np.ones(6))
        assert_close(tangent, exact.sum())
        assert_close(srcad.hessian(reshape_by_newshape)(x), np.diag(2.0 * np.tile([1.0, 2.0], 3)))


def test_the_prompt_hint_names_the_prompts_that_work():
    namespace = {}
    exec("def f(x):\n    return x * 2.0\n", namespace)       # no source, like python3's prompt
    try:
        srcad.grad(namespace["f"])
    except srcad.SourceUnavailableError as error:
        assert "Python 3.13's REPL, IPython and Jupyter" in error.hint
    else:
        raise AssertionError("a function without source was transformed")
