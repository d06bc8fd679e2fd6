"""Forward mode: every forward rule, and srcad.jvp on whole functions.

Each forward rule runs on every case of ``rule_cases.CASES`` (the table the
reverse rules are tested on): with random tangents ``u`` of the
differentiable arguments, the sum of the rule's contributions ``J u`` must
match central differences along ``u``, each contribution must have the
result's shape, and ``<v, J u>`` must equal ``<J^T v, u>`` from the reverse
rule for a random cotangent ``v``.  Then the JVPs of whole functions
(straight-line code, broadcasting, branches, loops, calls, lists, in-place
updates) are compared with central differences, and the generated code is
checked to read like hand-written tangent code.
"""

import ast
import copy
import inspect
import math
import textwrap
import zlib

import numpy as np
import pytest

import srcad
from srcad.errors import UnknownPrimitiveError
from srcad.rules import ADJOINTS, TANGENTS, lookup, lookup_tangent
from srcad.rules.template import template

from helpers import assert_close
from rule_cases import CASES, name_of
from test_calls import (nested_unpacking, varargs, varargs_in_loop, varargs_keyword_only,
                        varargs_recursion, varargs_same_name_twice, varargs_tuple_result)

EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-8


# --- every forward rule, called directly ------------------------------------------

VALUES = type({}.values())        # the result of d.values(): a sequence here


def _random_like(x, rng):
    if isinstance(x, dict):             # a copy of the same type (a DictAdjoints keeps its primal)
        out = copy.copy(x)
        out.update({k: _random_like(v, rng) for k, v in x.items()})
        return out
    if isinstance(x, (tuple, list, VALUES)):
        return tuple(_random_like(e, rng) for e in x)
    if isinstance(x, float):
        return float(rng.standard_normal())
    return rng.standard_normal(np.shape(x))


def _zero_like(x):
    if isinstance(x, dict):
        return {k: _zero_like(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return tuple(_zero_like(e) for e in x)
    if isinstance(x, (float, np.ndarray)) and np.asarray(x).dtype.kind == "f":
        return 0.0 if isinstance(x, float) else np.zeros(np.shape(x))
    return None


def _shift(x, u, h):
    if isinstance(x, dict):             # a copy of the same type (a DictAdjoints keeps its primal)
        out = copy.copy(x)
        out.update({k: _shift(v, u[k], h) for k, v in x.items()})
        return out
    if isinstance(x, (tuple, list)):
        items = [_shift(a, b, h) for a, b in zip(x, u)]
        return type(x)(*items) if hasattr(type(x), "_fields") else type(x)(items)   # namedtuple
    return x + h * u if isinstance(x, float) else np.asarray(x + h * u)


def _pairing(a, b):
    if isinstance(a, dict):
        return sum(_pairing(a[k], b[k]) for k in set(a) | set(b))
    if isinstance(a, (tuple, list, VALUES)):
        return sum(_pairing(x, y) for x, y in zip(a, b, strict=True))
    return float(np.sum(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)))


def _negated(a):
    if isinstance(a, dict):
        return {k: _negated(v) for k, v in a.items()}
    if isinstance(a, (tuple, list, VALUES)):
        return tuple(_negated(x) for x in a)
    return -np.asarray(a, dtype=np.float64)


def _add(a, b):
    if isinstance(a, dict):
        return {k: _add(a[k], b[k]) for k in set(a) | set(b)}
    if isinstance(a, (tuple, list, VALUES)):
        return tuple(_add(x, y) for x, y in zip(a, b, strict=True))
    return a + b


def _tangents(rule, case, u):
    """The rule's tangent arguments: ``u`` for the differentiable arguments,
    zeros for other numeric ones, None for the rest."""
    tmpl = template(rule)
    primal = inspect.Signature(tmpl.primal)
    binding = primal.bind(*case.rule_args(), **case.kwargs)
    binding.apply_defaults()
    bound = binding.arguments
    out = []
    for param in tmpl.primal[:len(tmpl.leading) - 1]:
        position = next((i for i, p in enumerate(tmpl.primal) if p is param), None)
        if position in case.diff and position < len(case.args):
            out.append(u[position])
        else:
            out.append(_zero_like(bound.get(param.name)))
    return out


def _contributions(rule, case, u, ans):
    tangents = _tangents(rule, case, u)
    result = rule(*tangents, ans, *copy.deepcopy(case.rule_args()), **case.kwargs)
    outs = result if len(tangents) > 1 else (result,)
    return [outs[i] for i in case.diff]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


def test_forward_rule_matches_finite_differences_and_the_reverse_rule(case):
    rule = lookup_tangent(case.primitive)
    assert rule is not None, f"no forward rule for {name_of(case.primitive)}"
    seed = zlib.crc32(case.id.encode())
    rng = np.random.default_rng(seed)
    u = {i: _random_like(case.args[i], rng) for i in case.diff}
    ans = case.call()
    terms = _contributions(rule, case, u, ans)
    for term in terms:
        if isinstance(ans, dict):
            assert {k: np.shape(term[k]) for k in ans} == {k: np.shape(a) for k, a in ans.items()}
        elif isinstance(ans, (tuple, list, VALUES)):
            assert [np.shape(t) for t in term] == [np.shape(a) for a in ans]
        else:
            assert np.shape(term) == np.shape(ans), "a contribution must have the result's shape"
    jvp = terms[0]
    for term in terms[1:]:
        jvp = _add(jvp, term)

    h = EPS

    def along(step):
        args = list(case.args)
        for i in case.diff:
            args[i] = _shift(args[i], u[i], step)
        return case.call(tuple(args))

    numeric = _add(along(h), _negated(along(-h)))
    v = _random_like(ans, rng)
    scale = max(1.0, abs(_pairing(v, jvp)))
    assert abs(_pairing(v, jvp) - _pairing(v, numeric) / (2 * h)) <= 1e-5 * scale, \
        f"J u = {jvp}\nfinite differences: {numeric}"

    reverse = lookup(case.primitive)
    grads = reverse(v, ans, *copy.deepcopy(case.rule_args()), **case.kwargs)
    grads = grads if _returns_tuple(reverse) else (grads,)
    transposed = sum(_pairing(grads[i], u[i]) for i in case.diff)
    assert abs(transposed - _pairing(v, jvp)) <= 1e-9 * max(1.0, abs(transposed)), \
        "<v, J u> and <J^T v, u> disagree: the forward and reverse rules are not transposes"


def _returns_tuple(rule):
    body = ast.parse(textwrap.dedent(inspect.getsource(rule))).body[0].body
    return isinstance(body[-1].value, ast.Tuple)


def _shipped(table):
    return {k: r for k, r in table.items() if getattr(r, "__module__", "").startswith("srcad.rules.")}


def test_every_reverse_rule_has_a_forward_rule_and_back():
    reverse, forward = set(_shipped(ADJOINTS)), set(_shipped(TANGENTS))
    only_reverse = sorted(name_of(ADJOINTS[k].srcad_primitives[0]) for k in reverse - forward)
    only_forward = sorted(name_of(TANGENTS[k].srcad_primitives[0]) for k in forward - reverse)
    assert not only_reverse, f"reverse rules without a forward rule: {only_reverse}"
    assert not only_forward, f"forward rules without a reverse rule: {only_forward}"


@pytest.mark.parametrize("rule", sorted(set(_shipped(TANGENTS).values()), key=lambda r: r.__qualname__),
                         ids=lambda r: f"{r.__module__.rsplit('.', 1)[-1]}.{r.__qualname__}")


def test_forward_rule_terms_read_only_their_own_tangent(rule):
    """The generator instantiates the terms of active arguments only, and the
    statements before the return once: those must not read a tangent."""
    tmpl = template(rule)
    tangents = set(tmpl.leading[:-1])
    for stmt in tmpl.prelude:
        read = {n.id for n in ast.walk(_to_ast(stmt)) if isinstance(n, ast.Name)}
        assert not read & tangents, f"{rule.__qualname__}: {ast.unparse(_to_ast(stmt))}"
    for k, output in enumerate(tmpl.outputs):
        read = {n.id for n in ast.walk(_to_ast(output)) if isinstance(n, ast.Name)}
        assert read & tangents <= {tmpl.leading[k]}, \
            f"{rule.__qualname__}: term {k} reads {sorted(read & tangents)}"


def _to_ast(node):
    import gast
    return gast.gast_to_ast(node)


def test_forward_rules_need_their_tangents_named_after_the_parameters():
    with pytest.raises(srcad.RuleError, match="x_dot"):
        @srcad.tangent(math.gamma)
        def bad(t, ans, x):
            return t


# --- srcad.jvp on whole functions ------------------------------------------------------

RNG = np.random.default_rng(7)


def seed(x, y, z):
    p = x + y
    g = p * z
    return g


def mlp(x, W, b):
    h = np.tanh(x @ W + b)
    h += 1.0
    return np.sum(h ** 2)


def broadcast(x, y):
    return x[:, None] * y + x[:, None] - y ** 2


def branchy(x, t):
    if t > 0:
        y = np.sin(x) * t
    else:
        y = 2.0
    return y * x


def accumulate(x, n):
    s = 0.0
    for i in range(n):
        if s > 1.0:
            s = s * x
        else:
            s = s + np.sin(x)
    return s


def doubling(x):
    while x < 10.0:
        x = x * 2.0
    return x


def early_exit(xs):
    total = 0.0
    for x in xs:
        if x > 1.5:
            break
        total = total + x * x
    return total


def square(u):
    return u * u


def calls(x):
    return np.sum(square(x) * x) + square(x[0])


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def recursive(x):
    return power(x, 3)


def rows(x):
    parts = []
    for i in range(3):
        parts.append(x * i)
    return np.sum(np.array(parts) ** 2)


def updates(x):
    y = np.zeros(3)
    y[0] = x[1] * 2.0
    y[1:] = x[:2] ** 2
    return y


def pair(x, y):
    return x * y, x + 1.0


JVP_CASES = [
    (seed, (1.0, 3.0, -3.0), (0, 1, 2)),
    (mlp, (RNG.normal(size=3), RNG.normal(size=(3, 4)), RNG.normal(size=4)), (0, 1, 2)),
    (mlp, (RNG.normal(size=3), RNG.normal(size=(3, 4)), RNG.normal(size=4)), (1,)),
    (broadcast, (RNG.normal(size=3), RNG.normal(size=2)), (0, 1)),
    (broadcast, (RNG.normal(size=3), RNG.normal(size=2)), (1,)),
    (branchy, (0.7, 2.0), (0, 1)),
    (branchy, (0.7, -2.0), (0, 1)),
    (accumulate, (0.7, 5), (0,)),
    (doubling, (1.5,), (0,)),
    (early_exit, (np.array([0.5, 1.0, 2.0, 0.3]),), (0,)),
    (calls, (np.array([0.5, -1.0, 2.0]),), (0,)),
    (recursive, (1.3,), (0,)),
    (rows, (np.array([0.5, -1.0]),), (0,)),
    (updates, (np.array([0.5, -1.0, 2.0]),), (0,)),
    (varargs, (0.3, -0.8, 1.1), (0, 1, 2)),
    (varargs, (0.3, -0.8, 1.1), (1,)),
    (varargs_in_loop, (RNG.normal(size=3),), (0,)),
    (varargs_recursion, (0.7, -0.4), (0, 1)),
    (varargs_same_name_twice, (0.6, RNG.normal(size=2)), (0, 1)),
    (varargs_tuple_result, (RNG.normal(size=2), RNG.normal(size=2)), (0, 1)),
    (varargs_keyword_only, (0.9, -1.3), (0, 1)),
    (nested_unpacking, (RNG.normal(size=3),), (0,)),
]


def _directional(f, args, wrt, tangents, h=1e-6):
    def at(step):
        shifted = list(args)
        for i, t in zip(wrt, tangents):
            shifted[i] = args[i] + step * t
        return np.asarray(f(*shifted), dtype=np.float64)
    return (at(h) - at(-h)) / (2 * h)


@pytest.mark.parametrize("f, args, wrt", JVP_CASES,
                         ids=[f"{f.__name__}-wrt{''.join(map(str, w))}" for f, _, w in JVP_CASES])


def test_jvp_matches_finite_differences(f, args, wrt):
    rng = np.random.default_rng(len(f.__name__))
    tangents = [_random_like(args[i], rng) for i in wrt]
    value, tangent = srcad.jvp(f, wrt=wrt)(*args, *tangents)
    assert_close(value, f(*args))
    assert_close(tangent, _directional(f, args, wrt, tangents), rtol=1e-5, atol=1e-7)


def test_jvp_of_a_tuple_output_is_a_tuple_of_tangents():
    value, tangent = srcad.jvp(pair, wrt=0)(2.0, 3.0, 1.0)
    assert value == (6.0, 3.0)
    assert tangent == (3.0, 1.0)


def test_output_that_does_not_depend_on_wrt_has_a_dense_zero_tangent():
    def f(x, y):
        return y * 2.0
    value, tangent = srcad.jvp(f, wrt=0)(np.ones(3), np.arange(3.0), np.ones(3))
    assert_close(tangent, np.zeros(3))
    assert "zeros_like(out)" in srcad.jvp(f, wrt=0).source


def test_jvp_forms_and_cache():
    d = srcad.jvp(seed, wrt=("x", "z"))
    assert d is srcad.jvp(seed, wrt=("x", "z"))
    assert d(1.0, 3.0, -3.0, 1.0, 0.0) == (-12.0, -3.0)

    @srcad.jvp
    def cube(x):
        return x ** 3
    assert cube(2.0, 1.0) == (8.0, 12.0)

    @srcad.jvp(wrt="y")
    def prod(x, y):
        return x * y
    assert prod(2.0, 3.0, 1.0) == (6.0, 2.0)
    assert d.__wrapped__ is seed and d.srcad_mode == "jvp"


def test_tangents_follow_every_parameter_even_those_with_defaults():
    def f(x, scale=2.0):
        return x * scale
    assert srcad.jvp(f)(3.0, 2.0, 1.0) == (6.0, 2.0)


def test_a_primitive_without_forward_rule_is_named():
    @srcad.adjoint(math.lgamma)
    def lgamma_adjoint(g, ans, x):
        return g * 0.0                     # not used: only the missing forward rule matters

    def f(x):
        return math.lgamma(x) * 2.0

    try:
        with pytest.raises(UnknownPrimitiveError, match="no forward derivative rule") as info:
            srcad.jvp(f)(1.5, 1.0)
        assert "srcad.tangent(math.lgamma)" in str(info.value)
    finally:
        del ADJOINTS[math.lgamma]


def test_a_user_function_without_rules_is_transformed():
    def twice(x):
        return 2.0 * x

    @srcad.adjoint(twice)
    def twice_adjoint(g, ans, x):
        return 2.0 * g

    def f(x):
        return twice(x) * x
    try:
        assert srcad.jvp(f)(3.0, 1.0) == (18.0, 12.0)
    finally:
        del ADJOINTS[twice]


def test_a_user_forward_rule_is_used():
    def cube_root(x):
        return np.cbrt(x)

    @srcad.tangent(cube_root)
    def cube_root_tangent(x_dot, ans, x):
        return x_dot / (3.0 * ans * ans)

    def f(x):
        return cube_root(x) + x
    value, tangent = srcad.jvp(f)(8.0, 1.0)
    assert_close(tangent, 1.0 + 1.0 / 12.0)


# --- the generated code reads like hand-written tangent code --------------------------


def test_seed_example_source():
    assert srcad.jvp(seed, wrt=(0, 1, 2)).source == textwrap.dedent("""\
        def jvp_seed(x, y, z, x_dot, y_dot, z_dot):
            p = x + y
            p_dot = x_dot + y_dot
            g = p * z
            g_dot = p_dot * z + p * z_dot
            return (g, g_dot)
        """)


def test_constant_inputs_contribute_no_terms():
    source = srcad.jvp(seed, wrt=2).source
    assert "p_dot" not in source and "x_dot" not in source
    assert "g_dot = p * z_dot" in source


def test_broadcast_helpers_vanish_where_shapes_agree():
    source = srcad.jvp(mlp, wrt=(0, 1, 2)).source
    assert "broadcast_like" not in source
    assert "add_b_dot = matmul_x_dot + b_dot" in source
    assert "h_dot = add_b_dot * (1.0 - h * h)" in source


def test_subtracted_terms_read_as_subtraction():
    def f(x, y):
        return x / y - y
    source = srcad.jvp(f, wrt=(0, 1)).source
    assert "x_dot / y - y_dot * div_x / y" in source
    assert " + -" not in source


def test_loops_and_branches_are_emitted_as_written_without_stacks():
    source = srcad.jvp(accumulate).source
    assert "Stack" not in source and "push" not in source
    assert "s_dot = 0.0" in source or "s_dot = zeros_like(s)" in source
    assert "for i in range(n):" in source and "if gt_s:" in source
    assert "mul_s_dot = s_dot * x + s * x_dot" in source


def test_a_call_uses_the_callees_tangent_function():
    source = srcad.jvp(calls).source
    assert "square_x, square_x_dot = jvp_square(x, x_dot)" in source
    assert "def jvp_square(u, u_dot):" in source


def test_a_nested_function_gets_a_tangent_function_taking_its_closure_variables():
    from test_calls import nested_recursion, with_nested
    source = srcad.jvp(with_nested, wrt=(0, 1)).source
    assert "layer_x, layer_x_dot = jvp_layer(x, 0.5, x_dot, w_1_dot, w=w_1)" in source
    assert "def jvp_act(t, t_dot, x_dot, *, x):" in source
    rng = np.random.default_rng(3)
    for f, args in ((with_nested, (rng.standard_normal(3), rng.standard_normal(3))),
                    (nested_recursion, (0.7, 1.3))):
        for wrt in ((0,), (1,)):
            tangents = [_random_like(args[i], rng) for i in wrt]
            value, tangent = srcad.jvp(f, wrt=wrt)(*args, *tangents)
            assert_close(value, f(*args))
            assert_close(tangent, _directional(f, args, wrt, tangents), rtol=1e-5, atol=1e-7)


def test_a_varargs_callee_takes_one_tuple_and_its_tangents():
    source = srcad.jvp(varargs, wrt=(0, 1, 2)).source
    assert "jvp_total(2.0, (a, mul_b, 3.0), (a_dot, mul_b_dot, 0.0))" in source
    assert "def jvp_total(scale, xs, xs_dot):" in source
