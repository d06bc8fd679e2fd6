"""Dicts: literals, reads, entries set in place, iteration, dict arguments.

The gradient w.r.t. a dict argument is a dict with every key (like JAX's
pytrees).  Every gradient is compared with central finite differences taken
entry by entry (tests/helpers.py), never with values copied from srcad.
"""

import numpy as np
import pytest

import srcad
from helpers import assert_close, assert_tree_close, numerical_grad, numerical_grad_tree

RNG = np.random.default_rng(11)


def check_tree(f, args, wrt, transform=srcad.grad):
    """srcad's gradients match finite differences entry by entry, and the
    arguments (dicts included) are unchanged afterwards."""
    before = [_snapshot(a) for a in args]
    grads = transform(f, wrt=tuple(wrt))(*args)
    for i, g in zip(wrt, grads):
        assert_tree_close(g, numerical_grad_tree(f, args, i))
    for a, b in zip(args, before):
        assert _same(a, b), "srcad changed an argument"
    return grads


def _same(a, b):
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    if isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)


def _snapshot(x):
    if isinstance(x, dict):
        return {k: _snapshot(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_snapshot(v) for v in x]
    return np.copy(x)


# -- dict arguments -----------------------------------------------------------------------

def mlp_loss(params, x, y):
    h = np.tanh(x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2) + params["decay"] * np.sum(params["W1"] ** 2)


def mlp_args():
    params = {"W1": RNG.normal(size=(4, 5)), "b1": RNG.normal(size=5),
              "W2": RNG.normal(size=(5, 2)), "b2": 0.1, "decay": 0.01, "unused": np.ones(3)}
    return params, RNG.normal(size=(6, 4)), RNG.normal(size=(6, 2))


def test_gradient_of_a_dict_argument_is_a_dict_with_every_key():
    params, x, y = mlp_args()
    (grads,) = check_tree(mlp_loss, (params, x, y), (0,))
    assert set(grads) == set(params)
    assert np.all(grads["unused"] == 0) and grads["unused"].shape == (3,)


def test_value_and_grad_and_vjp_of_a_dict_argument():
    params, x, y = mlp_args()
    value, grads = srcad.value_and_grad(mlp_loss)(params, x, y)
    assert_close(value, mlp_loss(params, x, y))
    assert_tree_close(grads, numerical_grad_tree(mlp_loss, (params, x, y), 0))
    scaled = srcad.vjp(mlp_loss)(params, x, y, 2.0)
    assert_tree_close(scaled, {k: 2.0 * v for k, v in grads.items()})


def nested_params(p, x):
    first = p["layers"][0]
    second = p["layers"][1]
    h = np.sin(x * first["w"]) + first["b"]
    return np.sum(h * second["w"]) * p["scale"]


def test_nested_dicts_and_lists_of_dicts():
    p = {"layers": [{"w": RNG.normal(size=3), "b": 0.5}, {"w": RNG.normal(size=3), "b": 1.0}],
         "scale": 1.5}
    check_tree(nested_params, (p, RNG.normal(size=3)), (0, 1))


def read_with_get(p, x):
    return p.get("a") * x + p.get("missing", x) ** 2 + p.get("b", 10.0) * x


def test_get_with_and_without_a_default():
    check_tree(read_with_get, ({"a": 1.5, "b": 0.7}, 0.3), (0, 1))


def unused_dict(p, x):
    return x ** 2


def test_an_unused_dict_argument_gets_a_zero_dict():
    grads = srcad.grad(unused_dict, wrt=(0, 1))({"a": np.ones(2), "b": 1.0}, 3.0)
    assert_tree_close(grads[0], {"a": np.zeros(2), "b": 0.0})
    assert_close(grads[1], 6.0)


# -- literals -----------------------------------------------------------------------------

def literal(x, y):
    d = {"a": x * 2.0, "b": np.sin(y), "a": x * 3.0}     # noqa: F601 - the later "a" wins
    return d["a"] * d["b"] + d.get("c", 1.5) * y


def keyword_dict(x, y):
    d = dict(a=x, b=x * y)
    return d["a"] * d["b"] + len(d)


def computed_single_key(x, k):
    d = {k: np.cos(x)}
    return np.sum(d[k] * x)


@pytest.mark.parametrize("f, args, wrt", [
    (literal, (0.3, 0.7), (0, 1)),
    (keyword_dict, (1.3, -0.4), (0, 1)),
    (computed_single_key, (RNG.normal(size=4), "key"), (0,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_dict_literals(f, args, wrt):
    check_tree(f, args, wrt)


def test_a_key_written_twice_gives_the_first_value_no_gradient():
    dx, dy = srcad.grad(literal, wrt=(0, 1))(0.3, 0.7)
    assert_close(dx, 3.0 * np.sin(0.7))           # d/dx of 3x * sin(y): the 2x entry is overwritten
    source = srcad.grad(literal, wrt=(0, 1)).source
    assert "dmul_x =" not in source


# -- entries set in place -------------------------------------------------------------------

def set_entries(x):
    d = {}
    d["a"] = x * 2.0
    d["b"] = d["a"] ** 2
    d["a"] = np.sin(x)
    return d["a"] + d["b"]


def cache_in_loop(x, W):
    cache = {}
    h = x
    for t in range(3):
        h = np.tanh(W @ h)
        cache[t] = h
    return np.sum(cache[0] + cache[1] * cache[2])


def overwrite_in_loop(x):
    d = {"acc": 0.0}
    for i in range(4):
        d["acc"] = d["acc"] * x + i
    return d["acc"]


def copy_then_set(p, x):
    q = p.copy()
    q["w"] = q["w"] * x
    return np.sum(q["w"]) + q["c"] * np.sum(p["w"])


@pytest.mark.parametrize("f, args, wrt", [
    (set_entries, (0.4,), (0,)),
    (cache_in_loop, (RNG.normal(size=3), RNG.normal(size=(3, 3))), (0, 1)),
    (overwrite_in_loop, (0.8,), (0,)),
    (copy_then_set, ({"w": RNG.normal(size=3), "c": 2.0}, 1.7), (0, 1)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_setting_entries(f, args, wrt):
    check_tree(f, args, wrt)


def test_a_new_key_is_removed_again_by_the_reverse_sweep():
    source = srcad.grad(set_entries).source
    assert "saved_entry(d, 'a')" in source and "restore_entry(d, 'a'" in source


def set_argument_entry(p, x):
    p["w"] = x
    return p["w"] * 2.0


def test_setting_an_entry_of_a_dict_argument_is_refused():
    with pytest.raises(srcad.SrcadError, match="caller's data") as info:
        srcad.grad(set_argument_entry, wrt=1)
    assert info.value.lineno == set_argument_entry.__code__.co_firstlineno + 1


# -- iteration and methods --------------------------------------------------------------------

def over_items(p):
    s = 0.0
    for k, v in p.items():
        s = s + np.sum(v ** 2)
    return s


def over_values_and_keys(p, x):
    s = 0.0
    for v in p.values():
        s = s + np.sum(np.sin(v * x))
    for k in p.keys():
        s = s + np.sum(p[k]) * 0.5
    return s


def over_local_items(x):
    d = {"a": x, "b": x ** 2}
    s = 0.0
    for name, value in d.items():
        if name == "a":
            s = s + 3.0 * value
        else:
            s = s + value * value
    return s


def summed_values(p):
    return np.sum(sum(p.values()) ** 2)


@pytest.mark.parametrize("f, args, wrt", [
    (over_items, ({"a": RNG.normal(size=2), "b": 2.0},), (0,)),
    (over_values_and_keys, ({"a": RNG.normal(size=2), "b": 0.3}, 1.1), (0, 1)),
    (over_local_items, (0.9,), (0,)),
    (summed_values, ({"a": 1.0, "b": RNG.normal(size=2)},), (0,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_iteration_and_methods(f, args, wrt):
    check_tree(f, args, wrt)


# -- calls ---------------------------------------------------------------------------------------

def make_state(x, w):
    return {"h": np.tanh(x * w), "w": w}


def use_state(state, x):
    return np.sum(state["h"] * x) + np.sum(state["w"] ** 2)


def through_calls(x, w):
    state = make_state(x, w)
    return use_state(state, x) + use_state(make_state(w, x), 1.0)


def test_dicts_returned_from_and_passed_to_callees():
    check_tree(through_calls, (RNG.normal(size=3), 0.7), (0, 1))


# -- forward mode -------------------------------------------------------------------------------

def test_jvp_with_a_dict_argument():
    params, x, y = mlp_args()
    tangent = {k: RNG.normal(size=np.shape(v)) if np.ndim(v) else 0.3 for k, v in params.items()}
    value, out_dot = srcad.jvp(mlp_loss)(params, x, y, tangent)
    grads = numerical_grad_tree(mlp_loss, (params, x, y), 0)
    expected = sum(np.sum(grads[k] * tangent[k]) for k in params)
    assert_close(value, mlp_loss(params, x, y))
    assert_close(out_dot, expected, rtol=1e-5)


@pytest.mark.parametrize("f, args", [
    (set_entries, (0.4,)),
    (overwrite_in_loop, (0.8,)),
    (literal, (0.3, 0.7)),
    (over_local_items, (0.9,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_jvp_through_local_dicts(f, args):
    value, out_dot = srcad.jvp(f)(*args, 1.0)
    assert_close(value, f(*args))
    assert_close(out_dot, numerical_grad(f, args, 0))


# -- the rest of the API ----------------------------------------------------------------------------

def test_check_grad_checks_every_entry_of_a_dict_argument():
    params, x, y = mlp_args()
    errors = srcad.check_grad(mlp_loss, params, x, y, wrt=(0, 1))
    assert set(errors) == {f"params[{k!r}]" for k in params} | {"x"}


def wrong_rule_user(p):
    return halve_wrong(p["a"]) * 2.0


def halve_wrong(v):
    return v / 2.0


def halve_wrong_rule(g, ans, v):
    return g                            # wrong on purpose: the gradient is g / 2


def test_check_grad_reports_a_wrong_entry():
    srcad.adjoint(halve_wrong)(halve_wrong_rule)
    try:
        with pytest.raises(srcad.GradientCheckError, match=r"p\['a'\]"):
            srcad.check_grad(wrong_rule_user, {"a": 1.0, "b": 2.0})
    finally:
        from srcad.rules.registry import ADJOINTS, key
        ADJOINTS.pop(key(halve_wrong), None)


@pytest.mark.parametrize("transform", [srcad.jacobian, srcad.hessian])
def test_jacobian_and_hessian_refuse_dict_arguments_clearly(transform):
    params, x, y = mlp_args()
    with pytest.raises(srcad.SrcadError, match="'params' is a dict"):
        transform(mlp_loss)(params, x, y)


def iterate_keys_directly(p):
    s = 0.0
    for key in p:
        s = s + p[key]
    return s


def test_iterating_a_dict_directly_iterates_its_keys():
    # `p[key]` in the loop shows p is a dict (tests/test_pytrees.py has more)
    check_tree(iterate_keys_directly, ({"a": 1.0, "b": 2.5},), (0,))
