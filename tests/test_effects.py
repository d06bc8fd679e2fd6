"""Functions called for their effect on values that carry derivatives (issue 13):
a plot of the state inside a simulation.  They run once per call, as
written, and receive those arrays read-only: a write into them is an error,
never a wrong gradient.  Gradients are checked against finite differences."""

import numpy as np
import pytest

import srcad
from helpers import assert_close, numerical_grad

SEEN = []


def show(label, state, scale=1.0):
    """A stand-in for plotting: reads the state, keeps a summary of it."""
    SEEN.append((label, float(np.sum(state)) * scale))


def simulate(v, steps, plot=True):
    state = np.sin(v)
    for t in range(steps):
        if plot:
            show("step", state, scale=t)
        state = np.tanh(state * 1.5 + v)
    show("final", state)
    return np.sum(state ** 2)


def test_an_effect_runs_once_per_call_and_the_gradient_matches_finite_differences():
    v = np.random.default_rng(0).standard_normal(4)
    g = srcad.grad(simulate)
    SEEN.clear()
    got = g(v, 3)
    assert [label for label, _ in SEEN] == ["step"] * 3 + ["final"]
    assert SEEN[-1][1] == pytest.approx(float(np.sum(_final(v, 3))))
    assert_close(got, numerical_grad(simulate, (v, 3), 0))


def _final(v, steps):
    state = np.sin(v)
    for _ in range(steps):
        state = np.tanh(state * 1.5 + v)
    return state


def test_forward_mode_runs_the_effect_too():
    v, u = np.random.default_rng(1).standard_normal(4), np.random.default_rng(2).standard_normal(4)
    SEEN.clear()
    value, tangent = srcad.jvp(simulate)(v, 2, True, u)
    assert len(SEEN) == 3
    assert_close(tangent, float(numerical_grad(simulate, (v, 2), 0) @ u))


def scribble(state):
    state[0] = 0.0                      # writes into the value it was given


def writes(v):
    state = np.exp(v)
    scribble(state)
    return np.sum(state)


def test_an_effect_that_writes_into_the_array_is_refused_on_the_call():
    # the write changes what f returns (state[0] is 0, not e**v[0]): srcad does
    # not follow it, and says so on the caller's line, before anything runs
    assert writes(np.ones(3)) == pytest.approx(2 * np.e)
    with pytest.raises(srcad.NonDifferentiableError, match="scribble changes its parameter 'state'") as info:
        srcad.grad(writes)(np.ones(3))
    assert "scribble(state)" in str(info.value)


def log_all(items):
    pass


def hands_a_list(v):
    items = [v * 2.0, v]
    log_all(items)
    return np.sum(items[0])


def test_a_list_with_derivatives_is_refused():
    with pytest.raises(srcad.SrcadError, match="called for its effect"):
        srcad.grad(hands_a_list)(np.ones(3))


def test_library_effects_stay_refused():
    def copies(v):
        buf = np.zeros(3)
        np.copyto(buf, v)
        return np.sum(buf * v)
    with pytest.raises(srcad.SrcadError, match="side effect|writes into its first argument"):
        srcad.grad(copies)(np.ones(3))
