"""Thread safety: transforming from many threads at once.

Eight threads wait on a barrier, then all ask for the same transformation of
a function nobody has transformed yet.  They must all get the very same
cached object, with no error; the derivatives must then also be callable from
many threads at once (generated code keeps its state in locals).
"""

import importlib.util
import itertools
import threading

import numpy as np
import pytest

import srcad

from helpers import assert_close, numerical_grad

THREADS = 8
_count = itertools.count()

SOURCE = """
import numpy as np


def helper(t, w):
    return np.tanh(t * w)


def f(x, w):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.sin(x * w) * i)
        if s > 1.0:
            s = s * 0.5
    return s + np.sum(x * x) * w


def g(x, w):
    return np.sum(helper(x, w) * x)
"""


@pytest.fixture
def fresh_module(tmp_path):
    """A newly written and imported module: its functions were never transformed."""
    name = f"srcad_thread_module_{next(_count)}"
    path = tmp_path / f"{name}.py"
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_together(job, n=THREADS):
    """Run ``job(i)`` in ``n`` threads released together; (results, errors)."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def worker(i):
        try:
            barrier.wait()
            results[i] = job(i)
        except BaseException as exc:            # noqa: BLE001 - report everything
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results, errors


@pytest.mark.parametrize("round_", range(3))
def test_same_fresh_function_from_eight_threads_gives_one_object(fresh_module, round_):
    results, errors = run_together(lambda i: srcad.grad(fresh_module.f, wrt=(0, 1)))
    assert not errors, errors
    first = results[0]
    assert all(r is first for r in results)
    assert srcad.grad(fresh_module.f, wrt=(0, 1)) is first


@pytest.mark.parametrize("transform", [srcad.grad, srcad.value_and_grad, srcad.vjp],
                         ids=lambda t: t.__name__ if hasattr(t, "__name__") else str(t))
def test_each_transform_is_cached_once_under_contention(fresh_module, transform):
    results, errors = run_together(lambda i: transform(fresh_module.f))
    assert not errors, errors
    assert len({id(r) for r in results}) == 1


def test_mixed_requests_from_threads(fresh_module):
    """Different (mode, wrt, check_finite) keys requested concurrently: one
    object per key, and each equals what a later single-threaded call returns."""
    keys = [("grad", 0, False), ("grad", 1, False), ("grad", (0, 1), False),
            ("vjp", 0, False), ("value_and_grad", "w", False), ("grad", 0, True),
            ("grad", (0, 1), True), ("vjp", 0, True)]
    transforms = {"grad": srcad.grad, "vjp": srcad.vjp, "value_and_grad": srcad.value_and_grad}

    def job(i):
        mode, wrt, check = keys[i % len(keys)]
        return transforms[mode](fresh_module.f, wrt=wrt, check_finite=check)

    results, errors = run_together(job, n=2 * len(keys))
    assert not errors, errors
    for i, r in enumerate(results):
        mode, wrt, check = keys[i % len(keys)]
        assert r is transforms[mode](fresh_module.f, wrt=wrt, check_finite=check)
    assert len({id(r) for r in results}) == len(keys)


def test_function_calling_a_helper_from_threads(fresh_module):
    try:
        srcad.grad(fresh_module.helper)
    except srcad.UnknownPrimitiveError:
        pytest.skip("srcad does not differentiate calls into user functions")
    results, errors = run_together(lambda i: srcad.grad(fresh_module.g, wrt=(0, 1)))
    assert not errors, errors
    assert all(r is results[0] for r in results)


def test_derivative_called_from_threads_at_once(fresh_module):
    d = srcad.grad(fresh_module.f, wrt=(0, 1))
    rng = np.random.default_rng(7)
    inputs = [(rng.standard_normal(4) * 0.3, float(rng.uniform(0.5, 1.5))) for _ in range(THREADS)]
    originals = [(x.copy(), w) for x, w in inputs]

    def job(i):
        out = None
        for _ in range(50):
            out = d(*inputs[i])
        return out

    results, errors = run_together(job)
    assert not errors, errors
    for (x, w), (x0, _), (dx, dw) in zip(inputs, originals, results):
        np.testing.assert_array_equal(x, x0)                 # inputs untouched
        assert_close(dx, numerical_grad(fresh_module.f, (x, w), 0), rtol=1e-5, atol=1e-7)
        assert_close(dw, numerical_grad(fresh_module.f, (x, w), 1), rtol=1e-5, atol=1e-7)
