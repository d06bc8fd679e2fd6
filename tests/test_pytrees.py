"""Containers as people write them: iterating dicts (``for k in d``,
``sorted(d.items())``, ``enumerate(d.items())``), building them (``dict(pairs)``,
``dict(d, b=x)``, ``{**d, 'b': x}``, comprehensions), ``list(t)``/``tuple(l)``,
and nested parameters (a list of ``(W, b)`` tuples) whose gradient has exactly
the argument's structure.  Expected values: central finite differences
(tests/tree_helpers.py), in grad and jvp; hvp for a dict of parameters.
"""

import typing

import numpy as np
import pytest

import srcad
from helpers import assert_close
from tree_helpers import check_grad_tree, check_jvp_tree, flatten

RNG = np.random.default_rng(17)


def params():
    return {"a": RNG.standard_normal(3), "b": RNG.standard_normal((2, 3)), "c": 0.7}


def square_by_key(d):
    s = 0.0
    for k in d:
        s = s + np.sum(np.sin(d[k]) ** 2)
    return s


def annotated(d: dict, x):
    s = 0.0
    for k in d:
        s = s + np.sum(x * d["a"]) * len(k)
    return s


def keys_then_items(d, x):
    total = 0.0
    for k in d:
        total = total + len(k) * np.sum(x)
    for k, v in d.items():
        total = total + np.sum(v * x[0])
    return total


def built_here(x):
    d = {"p": x, "q": 2.0 * x}
    out = 0.0
    for k in d:
        out = out + np.sum(d[k] ** 3) * (1.0 if k == "p" else 0.5)
    return out


def sorted_items(d):
    weight, s = 1.0, 0.0
    for k, v in sorted(d.items()):
        s = s + weight * np.sum(np.tanh(v))
        weight = weight * 2.0
    return s


def sorted_keys(d):
    weight, s = 1.0, 0.0
    for k in sorted(d):
        s = s + weight * np.sum(d[k] ** 2)
        weight = weight + 1.0
    return s


def enumerated_items(d):
    s = 0.0
    for i, (k, v) in enumerate(d.items()):
        s = s + (i + 1.0) * np.sum(np.cos(v))
    return s


def enumerated_sorted(d):
    s = 0.0
    for i, (k, v) in enumerate(sorted(d.items())):
        s = s + (i + 1.0) * np.sum(v ** 2)
    return s


def zipped_views(d):
    s = 0.0
    for k, v in zip(d.keys(), d.values()):
        s = s + len(k) * np.sum(v ** 3)
    return s


DICT_LOOPS = [square_by_key, sorted_items, sorted_keys, enumerated_items, enumerated_sorted, zipped_views]


@pytest.mark.parametrize("f", DICT_LOOPS, ids=lambda f: f.__name__)
def test_dict_loops(f):
    d = params()
    g = check_grad_tree(srcad.grad(f), f, (d,), 0)
    assert list(g) == list(d)
    check_jvp_tree(srcad.jvp(f), f, (d,), 0)


def test_sorted_order_is_the_keys_order():
    d = {"z": RNG.standard_normal(2), "a": RNG.standard_normal(2), "m": RNG.standard_normal(2)}
    check_grad_tree(srcad.grad(sorted_items), sorted_items, (d,), 0)
    check_grad_tree(srcad.grad(sorted_keys), sorted_keys, (d,), 0)


def string_key_elsewhere(d, x):
    s = np.sum(d["a"] * x)
    for k in d:
        s = s + len(k) * np.sum(x ** 2)
    return s


@pytest.mark.parametrize("f", [annotated, keys_then_items, string_key_elsewhere], ids=lambda f: f.__name__)
def test_for_k_in_d_decided_from_the_rest_of_the_function(f):
    d, x = params(), RNG.standard_normal(3)
    check_grad_tree(srcad.grad(f, wrt=(0, 1)), f, (d, x), (0, 1))
    check_jvp_tree(srcad.jvp(f), f, (d, x), 0)


def test_for_k_in_a_dict_built_in_the_function():
    x = RNG.standard_normal(3)
    check_grad_tree(srcad.grad(built_here), built_here, (x,), 0)
    check_jvp_tree(srcad.jvp(built_here), built_here, (x,), 0)


def test_for_x_in_a_list_is_still_a_sequence_loop():
    def f(xs):
        s = 0.0
        for x in xs:
            s = s + np.sum(x ** 2)
        return s

    xs = [RNG.standard_normal(2), RNG.standard_normal(3)]
    g = check_grad_tree(srcad.grad(f), f, (xs,), 0)
    assert type(g) is list


def test_mapping_annotation():
    def f(d: typing.Mapping[str, np.ndarray]):
        s = 0.0
        for k in d:
            s = s + np.sum(d[k])
        return s

    check_grad_tree(srcad.grad(f), f, (params(),), 0)


def from_pairs(x, y):
    pairs = [("a", x), ("b", y * x), ("a", 3.0 * y)]     # the later "a" wins
    d = dict(pairs)
    return np.sum(d["a"] * d["b"])


def from_zip(x, y):
    d = dict(zip(["u", "v"], [np.sin(x), y]))
    return np.sum(d["u"] ** 2 * d["v"])


def from_items(d, x):
    e = dict(d.items())
    return np.sum(e["a"] * x) + np.sum(e["b"])


def copy_and_set(d, x):
    e = dict(d, b=x, z=2.0 * x)
    return np.sum(e["a"] * e["b"]) + np.sum(e["z"]) * e["c"]


def splat_and_set(d, x):
    e = {**d, "b": x}
    return np.sum(e["a"] * e["b"] ** 2) + e["c"]


def comprehension(d, x):
    e = {k: v * x[0] for k, v in d.items() if k != "c"}
    return np.sum(e["a"] ** 2) + np.sum(e["b"])


def comprehension_over_zip(x):
    e = {k: v for k, v in zip(["p", "q"], [x, x ** 2])}
    return np.sum(e["p"] * e["q"])


def test_dict_of_pairs():
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    check_grad_tree(srcad.grad(from_pairs, wrt=(0, 1)), from_pairs, (x, y), (0, 1))
    check_jvp_tree(srcad.jvp(from_pairs), from_pairs, (x, y), 0)
    check_grad_tree(srcad.grad(from_zip, wrt=(0, 1)), from_zip, (x, y), (0, 1))
    check_jvp_tree(srcad.jvp(from_zip, wrt=1), from_zip, (x, y), 1)


@pytest.mark.parametrize("f", [from_items, copy_and_set, splat_and_set, comprehension],
                         ids=lambda f: f.__name__)
def test_dicts_copied_and_updated(f):
    d = {"a": RNG.standard_normal(3), "b": RNG.standard_normal(3), "c": 0.4}
    x = RNG.standard_normal(3)
    g = check_grad_tree(srcad.grad(f, wrt=(0, 1)), f, (d, x), (0, 1))
    assert list(g[0]) == list(d)
    check_jvp_tree(srcad.jvp(f), f, (d, x), 0)
    check_jvp_tree(srcad.jvp(f, wrt=1), f, (d, x), 1)


def test_dict_comprehension_over_zip():
    x = RNG.standard_normal(3)
    check_grad_tree(srcad.grad(comprehension_over_zip), comprehension_over_zip, (x,), 0)
    check_jvp_tree(srcad.jvp(comprehension_over_zip), comprehension_over_zip, (x,), 0)


def test_list_and_tuple_conversions():
    def f(t, l):
        a = list(t)
        b = tuple(l)
        a.append(b[0] * 2.0)
        return np.sum(a[0] * a[2]) + np.sum(b[1] ** 2)

    t = (RNG.standard_normal(2), RNG.standard_normal(2))
    l = [RNG.standard_normal(2), RNG.standard_normal(2)]
    g = check_grad_tree(srcad.grad(f, wrt=(0, 1)), f, (t, l), (0, 1))
    assert type(g[0]) is tuple and type(g[1]) is list
    check_jvp_tree(srcad.jvp(f), f, (t, l), 0)


def mlp(params, x):
    for W, b in params:
        x = np.tanh(x @ W + b)
    return np.sum(x ** 2)


def test_list_of_weight_bias_tuples():
    params = [(RNG.standard_normal((3, 4)), RNG.standard_normal(4)),
              (RNG.standard_normal((4, 2)), RNG.standard_normal(2))]
    x = RNG.standard_normal((5, 3))
    g = check_grad_tree(srcad.grad(mlp), mlp, (params, x), 0)
    assert type(g) is list and all(type(p) is tuple for p in g)
    check_jvp_tree(srcad.jvp(mlp), mlp, (params, x), 0)


def nested(tree):
    first, rest = tree["layers"][0], tree["layers"][1:]
    s = np.sum(first[0] * first[1])
    for W, (b, c) in rest:
        s = s + np.sum(W * b) * c
    return s + np.sum(tree["scale"])


def test_nested_dict_list_tuple_structure():
    tree = {"layers": [(RNG.standard_normal(2), RNG.standard_normal(2)),
                       (RNG.standard_normal(2), (RNG.standard_normal(2), 0.5)),
                       (RNG.standard_normal(2), (RNG.standard_normal(2), 1.5))],
            "scale": RNG.standard_normal(3)}
    g = check_grad_tree(srcad.grad(nested), nested, (tree,), 0)
    assert type(g["layers"]) is list and type(g["layers"][1][1]) is tuple
    check_jvp_tree(srcad.jvp(nested), nested, (tree,), 0)


def test_hvp_over_a_dict_loop():
    def f(d):
        s = 0.0
        for k in sorted(d):
            s = s + np.sum(d[k] ** 3)
        return s

    d = {"a": RNG.standard_normal(3), "b": RNG.standard_normal(2)}
    v = {"a": RNG.standard_normal(3), "b": RNG.standard_normal(2)}
    hv = srcad.hvp(f)(d, v)
    grad, eps = srcad.grad(f), 1e-6
    plus = {k: d[k] + eps * v[k] for k in d}
    minus = {k: d[k] - eps * v[k] for k in d}
    assert_close(flatten(hv), (flatten(grad(plus)) - flatten(grad(minus))) / (2 * eps), 1e-5, 1e-7)


def test_hvp_through_dict_copy():
    d = {"a": RNG.standard_normal(3), "b": RNG.standard_normal(3), "c": 0.4}
    x = RNG.standard_normal(3)
    v = RNG.standard_normal(3)
    hv = srcad.hvp(splat_and_set, wrt=1)(d, x, v)
    grad, eps = srcad.grad(splat_and_set, wrt=1), 1e-6
    assert_close(hv, (grad(d, x + eps * v) - grad(d, x - eps * v)) / (2 * eps), 1e-5, 1e-7)


def comprehension_over_pairs(x):
    pairs = [("a", x), ("b", 2.0 * x), ("a", np.sin(x))]      # the later "a" wins
    d = {k: v * 2.0 for k, v in pairs if k != "c"}
    return np.sum(d["a"] * d["b"])


def test_dict_comprehension_over_pairs_that_hold_differentiated_values():
    x = RNG.standard_normal(3)
    check_grad_tree(srcad.grad(comprehension_over_pairs), comprehension_over_pairs, (x,), 0)
    check_jvp_tree(srcad.jvp(comprehension_over_pairs), comprehension_over_pairs, (x,), 0)
    v, grad, eps = RNG.standard_normal(3), srcad.grad(comprehension_over_pairs), 1e-6
    assert_close(srcad.hvp(comprehension_over_pairs)(x, v),
                 (grad(x + eps * v) - grad(x - eps * v)) / (2 * eps), 1e-5, 1e-7)


def test_computed_keys_from_a_differentiated_list_are_refused_clearly():
    def f(x):
        pairs = [("a", x), ("b", 2.0 * x)]
        d = {}
        for k, v in pairs:
            d[k] = v
        return np.sum(d["a"])

    with pytest.raises(srcad.NonDifferentiableError, match="key or index") as info:
        srcad.grad(f)(np.ones(2))
    assert "dict(pairs)" in info.value.hint


def test_a_copied_list_is_a_new_container_but_array_rows_stay_views():
    def appends_to_the_original(x):
        L = [x, 2.0 * x]
        M = list(L)
        L.append(3.0 * x)
        return np.sum(M[0]) + np.sum(L[2] ** 2)

    x = RNG.standard_normal(2)
    check_grad_tree(srcad.grad(appends_to_the_original), appends_to_the_original, (x,), 0)

    def writes_the_array_under_its_rows(x):
        a = x * 2.0
        rows = list(a)
        a[0] = 5.0
        return rows[0] * np.sum(a)

    with pytest.raises(srcad.NonDifferentiableError, match="share memory"):
        srcad.grad(writes_the_array_under_its_rows)(np.ones(3))


def test_list_of_dict_values():
    def f(d):
        vals = list(d.values())
        return np.sum(vals[0] * vals[1]) + np.sum(tuple(d.values())[2])

    d = {"a": RNG.standard_normal(2), "b": RNG.standard_normal(2), "c": RNG.standard_normal(3)}
    check_grad_tree(srcad.grad(f), f, (d,), 0)
    check_jvp_tree(srcad.jvp(f), f, (d,), 0)
