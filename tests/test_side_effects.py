"""Side effects that do not touch the differentiated values: printing,
appending to a log list, logging, calling a recorder when a flag is set.
They run exactly once per call of the derivative (in its forward sweep) and
do not block differentiation; an effect whose data could come back into the
result is still refused.  Gradients are compared with central differences.
"""

import logging

import numpy as np
import pytest

import srcad
from helpers import assert_close, numerical_grad

RNG = np.random.default_rng(29)
HISTORY = []


class Recorder:
    def __init__(self):
        self.values = []

    def record(self, name, value):
        self.values.append((name, float(value)))


RECORDER = Recorder()
LOGGER = logging.getLogger("srcad-test")


def loss_with_effects(w, x, verbose=False):
    h = np.tanh(x @ w)
    loss = np.mean(h ** 2)
    print("loss", loss)
    HISTORY.append(loss)
    if verbose:
        RECORDER.record("loss", loss)
        LOGGER.info("loss %s", loss)
        logging.debug("loss %s", loss)
    return loss


@pytest.mark.parametrize("verbose", [False, True])
def test_effects_run_once_per_call_and_gradient_is_right(verbose, capsys):
    w, x = RNG.standard_normal(3), RNG.standard_normal((4, 3))
    HISTORY.clear()
    RECORDER.values.clear()
    g = srcad.grad(loss_with_effects)(w, x, verbose)
    assert len(HISTORY) == 1 and len(RECORDER.values) == (1 if verbose else 0)
    assert capsys.readouterr().out.count("loss") == 1
    assert_close(HISTORY[0], np.mean(np.tanh(x @ w) ** 2))
    HISTORY.clear()
    assert_close(g, numerical_grad(lambda w: loss_with_effects(w, x, verbose), (w,), 0))
    HISTORY.clear()
    v = RNG.standard_normal(3)
    _, t = srcad.jvp(loss_with_effects)(w, x, verbose, v)
    assert len(HISTORY) == 1
    assert_close(t, g @ v)
    HISTORY.clear()
    value, _ = srcad.value_and_grad(loss_with_effects)(w, x, verbose)
    assert len(HISTORY) == 1 and HISTORY[0] == value


def test_a_local_log_list_is_fine():
    def f(x):
        log = []
        for i in range(3):
            x = np.sin(x)
            log.append(np.sum(x))
        print(len(log))
        return np.sum(x ** 2)

    x = RNG.standard_normal(3)
    assert_close(srcad.grad(f)(x), numerical_grad(f, (x,), 0))


def test_plotting_when_a_flag_is_set():
    plt = pytest.importorskip("matplotlib.pyplot")
    import matplotlib
    matplotlib.use("Agg")

    def f(x, plot):
        y = np.cumsum(x ** 2)
        if plot:
            plt.plot(y)
        return np.sum(y)

    x = RNG.standard_normal(4)
    assert_close(srcad.grad(f)(x, True), numerical_grad(f, (x, False), 0))
    plt.close("all")


BUFFER = []


def reads_its_log_back(x):
    BUFFER.append(x * 2.0)
    return np.sum(BUFFER[-1] ** 2)


def copies_into_a_buffer(x):
    buf = np.zeros(2)
    np.copyto(buf, x)
    return np.sum(buf)


@pytest.mark.parametrize("f", [reads_its_log_back, copies_into_a_buffer], ids=lambda f: f.__name__)
def test_effects_whose_data_comes_back_are_refused(f):
    with pytest.raises(srcad.NonDifferentiableError, match="side effect|writes into its first argument"):
        srcad.grad(f)(np.ones(2))


def reports_progress(x, n):
    h = x
    for i in range(n):
        h = np.tanh(h)
        print(f"step {i}: {np.sum(h):.3f}")
    h = h * 2.0
    HISTORY.append(f"done {float(np.sum(h))!r:>12}")
    return np.sum(h ** 2)


def test_f_strings_in_effect_statements(capsys):
    x = RNG.standard_normal(3)
    HISTORY.clear()
    g = srcad.grad(reports_progress)(x, 3)
    out = capsys.readouterr().out
    assert out.count("step") == 3 and len(HISTORY) == 1
    h = x
    for i in range(3):
        h = np.tanh(h)
        assert f"step {i}: {np.sum(h):.3f}" in out          # the values of that iteration
    assert HISTORY[0] == f"done {float(np.sum(2.0 * h))!r:>12}"
    HISTORY.clear()
    assert_close(g, numerical_grad(lambda x: reports_progress(x, 3), (x,), 0))
    HISTORY.clear()
    _, t = srcad.jvp(reports_progress)(x, 3, np.ones(3))
    assert_close(t, g @ np.ones(3))


def test_an_f_string_computing_a_value_is_still_refused():
    def f(x):
        label = f"{x}"
        return x * 2.0

    with pytest.raises(srcad.UnsupportedSyntaxError, match="f-string"):
        srcad.grad(f)(1.0)
