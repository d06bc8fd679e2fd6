"""Forward mode on every function the reverse-mode tests differentiate.

The case tables of ``test_control_flow``, ``test_containers``, ``test_calls``
and ``test_inplace`` (branches, loops, jumps, returns, lists, comprehensions,
calls, recursion, in-place updates) run through ``srcad.jvp`` against central
differences along a random direction, and through ``srcad.hvp`` (the tangent
of the generated gradient) against central differences of the gradient.
"""

import numpy as np
import pytest

import srcad

from helpers import assert_close

import test_calls
import test_containers
import test_control_flow
import test_inplace

CASES = [(f"{module.__name__[5:]}-{case_id}", f, args, wrt)
         for module in (test_control_flow, test_containers, test_calls, test_inplace)
         for case_id, f, args, wrt in module.CASES]


def _copy(a):
    return a.copy() if isinstance(a, np.ndarray) else a


def _direction(args, wrt, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i in wrt:
        v = rng.standard_normal(np.shape(args[i]))
        out.append(float(v) if not np.shape(args[i]) else v)
    return out


def _along(f, args, wrt, vs, h):
    def at(step):
        shifted = [_copy(a) for a in args]
        for i, v in zip(wrt, vs):
            shifted[i] = args[i] + step * v
        return f(*shifted)
    return at(h), at(-h)


@pytest.mark.parametrize("name, f, args, wrt", CASES, ids=[c[0] for c in CASES])
def test_jvp_matches_finite_differences(name, f, args, wrt):
    vs = _direction(args, wrt, len(name))
    before = [_copy(a) for a in args]
    value, tangent = srcad.jvp(f, wrt=wrt)(*[_copy(a) for a in args], *vs)
    assert_close(value, f(*[_copy(a) for a in args]), rtol=1e-12, atol=0)
    h = 1e-6
    up, down = _along(f, args, wrt, vs, h)
    assert_close(tangent, (np.asarray(up) - np.asarray(down)) / (2 * h), rtol=1e-5, atol=1e-6)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, f, args, wrt", CASES, ids=[c[0] for c in CASES])
def test_hvp_matches_finite_differences_of_the_gradient(name, f, args, wrt):
    vs = _direction(args, wrt, len(name) + 1)
    hv = srcad.hvp(f, wrt=wrt)(*[_copy(a) for a in args], *vs)
    gradient = srcad.grad(f, wrt=wrt)
    h = 1e-5
    up, down = _along(gradient, args, wrt, vs, h)
    for k in range(len(wrt)):
        assert_close(hv[k], (np.asarray(up[k]) - np.asarray(down[k])) / (2 * h), rtol=1e-4, atol=1e-6)
