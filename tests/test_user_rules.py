"""User-defined rules: registered with @srcad.adjoint, inlined like built-ins."""

import numpy as np
import pytest

import srcad
from helpers import assert_grads_match


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@srcad.adjoint(logsumexp)
def logsumexp_rule(g, ans, x):
    return g * np.exp(x - ans)


def model(w, X):
    return logsumexp(X @ w)


def bad_shape(x):
    return np.sum(x)


@srcad.adjoint(bad_shape)
def bad_shape_rule(g, ans, x):
    return g                          # should be spread to x's shape


def wrong_values(x):
    return np.sin(x)


@srcad.adjoint(wrong_values)
def wrong_values_rule(g, ans, x):
    return g * np.sin(x)              # should be cos


def test_registered_rule_is_inlined_and_correct():
    d = srcad.grad(model)
    assert "dout * np.exp(matmul_X - out)" in d.source      # the rule's body, inlined
    assert "forward_logsumexp" not in d.source        # a rule, not a transformed callee
    rng = np.random.default_rng(0)
    w, X = rng.standard_normal(3), rng.standard_normal((5, 3))
    assert_grads_match(model, (w, X), (0,), (d(w, X),))


def test_check_rule_passes_on_a_correct_rule():
    errors = srcad.check_rule(logsumexp, np.array([0.3, -1.2, 2.0]))
    assert errors["x"] < 1e-6


def test_check_rule_reports_wrong_values():
    with pytest.raises(srcad.GradientCheckError) as info:
        srcad.check_rule(wrong_values, np.array([0.3, 1.0]))
    assert "wrong_values_rule" in str(info.value) and "x" in str(info.value)


def test_check_rule_reports_a_wrong_shape():
    with pytest.raises(srcad.GradientCheckError) as info:
        srcad.check_rule(bad_shape, np.array([0.3, 1.0, 2.0]))
    assert "shape" in str(info.value)


def uses_bad_shape(x):
    return bad_shape(x) * 2.0


def test_generated_code_refuses_a_wrongly_shaped_gradient_from_a_user_rule():
    with pytest.raises(srcad.RuleError) as info:
        srcad.grad(uses_bad_shape)(np.ones(3))
    assert "bad_shape_rule" in str(info.value) and "(3,)" in str(info.value)


def test_nondifferentiable_marks_a_constant():
    def f(x):
        return np.sum(marked(x) * x)

    srcad.nondifferentiable(marked)
    x = np.array([0.2, 1.7])
    np.testing.assert_allclose(srcad.grad(f)(x), marked(x))   # d/dx (c * x) = c


def marked(x):
    return np.round(x * 3.0)
