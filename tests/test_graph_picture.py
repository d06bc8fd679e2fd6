"""What srcad.graph draws: callees as clusters, and the adjoint graph (sweep="reverse").

The adjoint graph is a picture of the code ``srcad.grad`` generates, so besides
pinning what it draws, the tests check that its statements are that code's
reverse sweep, in order, and that this code's gradient agrees with central
finite differences: the picture shows a computation that is right.
"""

import re
import shutil
import subprocess

import numpy as np
import pytest

import srcad
from srcad.errors import SrcadError
from helpers import numerical_grad


def seed(x, y, z):
    p = x + y
    g = p * z
    return g


def square(x):
    return x * x


def cube(x):
    return x * x * x


def power_loop(x, n):
    s = x
    for i in range(n):
        s = s * x
    return s


def clipped(x):
    if x > 0:
        y = x * x
    else:
        y = -x
    return y


def helper(a, b):
    return np.sin(a) * b


def caller(x, y):
    u = helper(x, y)
    return helper(u, x) + 1.0


def countdown(x, n):
    if n > 0:
        return countdown(x * x, n - 1)
    return x


class Model:
    def energy(self, x):
        return np.sum(x ** 2)


MODEL = Model()


def uses_method(x):
    return MODEL.energy(x) * 2.0


def edges(dot):
    """``(source, target, label)`` of every edge of a DOT text."""
    return re.findall(r'^\s*("?[^"\s]+"?|"[^"]+") -> ("?[^"\s]+"?|"[^"]+") \[label="([^"]*)"', dot, re.M)


def box_of(dot, text):
    """The DOT id of the box whose label starts with ``text``."""
    found = [line.split()[0] for line in dot.splitlines() if f'label="{text}' in line]
    assert len(found) == 1, (text, dot)
    return found[0]


def reverse_sweep(source):
    """The statements of a generated gradient's reverse sweep, without comments,
    block headers and the restores of forward values (``s = s_stack.pop()``)."""
    body = source.split("# reverse sweep\n", 1)[1].split("\ndef ", 1)[0]   # not the callees' code
    lines = [line.strip() for line in body.splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "return"))
            and not line.endswith(":") and "_stack.pop()" not in line]


def test_the_gradient_the_pictures_show_agrees_with_finite_differences():
    cases = [(seed, (1.0, 3.0, -3.0), (0, 1, 2)), (square, (1.7,), 0), (cube, (0.6,), 0),
             (power_loop, (1.3, 3), 0), (clipped, (0.8,), 0), (clipped, (-0.8,), 0),
             (caller, (0.4, -1.1), (0, 1)), (calls_with_constants, (0.7,), 0), (uses_method, (0.3,), 0)]
    for f, args, wrt in cases:
        got = srcad.grad(f, wrt=wrt)(*args)
        got = got if isinstance(got, tuple) else (got,)
        positions = wrt if isinstance(wrt, tuple) else (wrt,)
        for i, g in zip(positions, got):
            assert np.isclose(g, numerical_grad(f, args, i), rtol=1e-6, atol=1e-8), (f.__name__, i)


# --------------------------------------------------------------------------
# the adjoint graph
# --------------------------------------------------------------------------

def test_the_seed_examples_adjoint_graph():
    g = srcad.graph(seed, sweep="reverse")
    line = seed.__code__.co_firstlineno
    assert str(g) == "\n".join([
        "adjoint graph of seed(x, y, z) wrt x, y, z: the reverse sweep, seeded with dg (the gradient of g)",
        f"   dp = dg * z    # line {line + 2}: g = p * z; reads dg",
        f"   dz = dg * p    # line {line + 2}: g = p * z; reads dg",
        "   return dp, dp, dz",
        "(+ = accumulates: adds another contribution to an adjoint, where the forward value fans out)"])
    dot = g.to_dot()
    dp, dz = box_of(dot, "dp = dg * z"), box_of(dot, "dz = dg * p")
    # p = x + y passes dp on unchanged: the copies dx = dp, dy = dp are folded away
    assert sorted(edges(dot)) == sorted([
        ('"dg"', dp, "dg"), ('"dg"', dz, "dg"),
        (dp, '"gradient x"', "dp"), (dp, '"gradient y"', "dp"), (dz, '"gradient z"', "dz")])
    assert f"reverses line {line + 2}: g = p * z" in dot
    assert "palegreen" not in dot                      # nothing fans out: no accumulation
    assert [s.text for s in g.steps()] == reverse_sweep(srcad.grad(seed, wrt=(0, 1, 2)).source)


def test_fan_out_is_an_accumulation_that_reads_the_first_contribution():
    g = srcad.graph(square, sweep="reverse")
    line = square.__code__.co_firstlineno + 1
    assert str(g).splitlines()[1:4] == [
        f"   dx = dout * x    # line {line}: return x * x; reads dout",
        f" + dx = dx + dx    # line {line}: return x * x; reads dx",
        "   return dx"]
    dot = g.to_dot()
    # the second contribution dout * x equals the first, so it is read from it
    first, second = box_of(dot, "dx = dout * x"), box_of(dot, "dx = dx + dx")
    assert sorted(edges(dot)) == sorted([('"dout"', first, "dout"),
                                         (first, second, "dx"), (second, '"gradient x"', "dx")])
    assert "palegreen" in next(line for line in dot.splitlines() if line.startswith(f"  {second} "))
    assert "palegreen" not in next(line for line in dot.splitlines() if line.startswith(f"  {first} "))


def test_three_uses_accumulate_twice_along_one_chain():
    g = srcad.graph(cube, sweep="reverse")
    accumulations = [s for s in g.steps() if s.accumulates]
    assert [s.accumulates for s in accumulations] == [["dx"], ["dx"]]
    dot = g.to_dot()
    dx_edges = [(a, b) for a, b, label in edges(dot) if label == "dx" and "gradient" not in b]
    assert len(dx_edges) == 2 and dx_edges[0][1] == dx_edges[1][0]   # first -> second -> third
    assert [s.text for s in g.steps()] == reverse_sweep(srcad.grad(cube).source)


def test_a_loop_is_a_cluster_with_the_adjoint_carried_to_the_next_iteration():
    g = srcad.graph(power_loop, wrt="x", sweep="reverse")
    first = power_loop.__code__.co_firstlineno
    assert str(g).splitlines()[1:7] == [
        "   dx = zeros_like(x)    # starts at zero",
        f"   for i in reversed(range(n)):    # line {first + 2}: for i in range(n):",
        f"       dmul_s = ds    # line {first + 3}: s = s * x; reads ds",
        f"       ds = unbroadcast(dmul_s * x, s)    # line {first + 3}: s = s * x; reads dmul_s",
        f" +     dx = dx + unbroadcast(dmul_s * s, x)    # line {first + 3}: s = s * x; reads dmul_s, dx",
        f" + dx = dx + ds    # line {first + 1}: s = x; reads ds, dx"]
    dot = g.to_dot()
    assert ('label="for i in reversed(range(n))\\lreverses line '
            f'{first + 2}: for i in range(n):\\l"; style=rounded') in dot
    head, new_ds = box_of(dot, "dmul_s = ds"), box_of(dot, "ds = unbroadcast")
    acc, after = box_of(dot, "dx = dx + unbroadcast"), box_of(dot, "dx = dx + ds")
    zeros = box_of(dot, "dx = zeros_like(x)")
    found = set(edges(dot))
    assert {('"ds"', head, "ds"), (head, new_ds, "dmul_s"), (head, acc, "dmul_s"),
            (zeros, acc, "dx"), (new_ds, after, "ds"), (acc, after, "dx"),
            (zeros, after, "dx")} <= found                 # zero trips: the zeros reach the end
    carried = [line for line in dot.splitlines() if "next iteration" in line]
    assert sorted(line.split()[:3] for line in carried) == sorted([[acc, "->", acc], [new_ds, "->", head]])
    assert all("style=dashed" in line for line in carried)
    assert [s.text for s in g.steps()] == reverse_sweep(srcad.grad(power_loop).source)


def test_a_branch_is_two_dashed_clusters_whose_adjoints_meet_after_it():
    g = srcad.graph(clipped, sweep="reverse")
    dot = g.to_dot()
    assert 'label="if gt_x' in dot and 'label="else' in dot and dot.count("style=dashed;") == 2
    final = [a for a, b, _ in edges(dot) if b == '"gradient x"']
    assert len(final) == 2                              # one dx from each side
    assert [s.text for s in g.steps()] == reverse_sweep(srcad.grad(clipped).source)


def test_a_callee_in_the_adjoint_graph_is_its_reverse_sweep_in_a_cluster():
    g = srcad.graph(caller, sweep="reverse")
    calls = [s for s in g.steps() if s.callee is not None]
    assert [s.text for s in calls] == ["du, dx = reverse_helper(helper_u_saved, dout)",
                                       "du_args = reverse_helper(u_saved, du)"]
    assert [s.accumulates for s in g.steps() if s.accumulates] == [["dx"]]   # x is used twice
    at = helper.__code__.co_firstlineno + 1
    assert f"""\
   du, dx = reverse_helper(helper_u_saved, dout)    # line {caller.__code__.co_firstlineno + 2}: \
return helper(u, x) + 1.0; reads dout
       in the reverse sweep of helper, seeded with dout:
           dsin_a = unbroadcast(dout * b, sin_a)    # line {at}: return np.sin(a) * b; reads dout
           db = unbroadcast(dout * sin_a, b)    # line {at}: return np.sin(a) * b; reads dout
           da = dsin_a * np.cos(a)    # line {at}: return np.sin(a) * b; reads dsin_a
           return da, db
""" in str(g)
    # the callee's steps are the statements of the reverse function grad lists
    source = srcad.grad(caller, wrt=(0, 1)).source
    reverse = source[source.index("def reverse_helper("):]
    listed = [line.strip() for line in reverse.splitlines()[1:] if line.startswith("    ")
              and not line.strip().startswith(("#", "return")) and "= saved" not in line]
    for call in calls:
        assert [s.text for s in call.callee.items] == listed
    dot = g.to_dot()
    first = calls[0]
    inner = {s.text.split(" =")[0]: s.id for s in first.callee.items}
    seed = first.callee.seed_id
    found = set(edges(dot))
    assert ('"dout"', seed, "dout") in found        # the adjoint passed (dhelper_u = dout folded away)
    assert (seed, inner["dsin_a"], "dout") in found and (inner["dsin_a"], inner["da"], "dsin_a") in found
    assert (inner["da"], first.id, "da") in found and (inner["db"], first.id, "db") in found
    assert 'label="reverse sweep of helper\\lcalled at line' in dot
    assert all(s.callee is None for s in srcad.graph(caller, sweep="reverse", expand=False).steps())


def test_a_recursive_reverse_call_stays_one_node_and_restores_are_not_drawn():
    g = srcad.graph(countdown, wrt="x", sweep="reverse")
    texts = [s.text for s in g.steps(callees=True)]
    assert texts == reverse_sweep(srcad.grad(countdown).source)
    assert any(t.startswith("dmul_x = reverse_countdown(") for t in texts)
    assert all(s.callee is None for s in g.steps()) and "pop()" not in str(g)


def test_a_methods_reverse_sweep_is_expanded():
    g = srcad.graph(uses_method, sweep="reverse")
    call = next(s for s in g.steps() if s.callee is not None)
    assert call.callee.func is Model.energy and call.callee.passed == "denergy_x"
    assert "in the reverse sweep of Model.energy, seeded with dout = denergy_x:" in str(g)


def test_the_adjoint_graph_of_a_tuple_output_is_its_vjps_reverse_sweep():
    def pair(x):
        return x * 2.0, x * x
    g = srcad.graph(pair, sweep="reverse")
    assert "seeded with dout" in str(g) and g.steps()


def test_an_unknown_sweep_or_expand_is_refused_with_a_hint():
    with pytest.raises(SrcadError, match="sweep='forward' or sweep='reverse'") as info:
        srcad.graph(seed, sweep="backward")
    assert "hint:" in str(info.value)
    for bad in ("yes", -1, 1.5):
        with pytest.raises(SrcadError, match="expand is True, False or a number of levels"):
            srcad.graph(seed, expand=bad)


def test_expand_counts_levels():
    def outer(x):
        return caller(x, x) * 2.0
    assert "in caller(" in str(srcad.graph(outer, expand=1))
    assert "in helper(" not in str(srcad.graph(outer, expand=1))
    assert "in helper(" in str(srcad.graph(outer, expand=2))


# --------------------------------------------------------------------------
# callees drawn expanded
# --------------------------------------------------------------------------

def test_a_callee_is_drawn_inside_a_cluster_fed_by_the_callers_arguments():
    g = srcad.graph(caller)
    text = str(g)
    at = helper.__code__.co_firstlineno + 1
    assert f"""\
 * u = helper(x, y)    # line {caller.__code__.co_firstlineno + 1}: u = helper(x, y)
       in helper(a=x, b=y):
 *         sin_a = np.sin(a)    # line {at}: return np.sin(a) * b
 *         out = mul(sin_a, b)    # line {at}: return np.sin(a) * b
           return out
""" in text
    assert "in helper(a=u, b=x):" in text
    dot = g.to_dot()
    clusters = re.findall(r'label="helper\(a, b\)\\lcalled at line (\d+): ([^"]*)\\l"', dot)
    first = caller.__code__.co_firstlineno
    assert clusters == [(str(first + 1), "u = helper(x, y)"), (str(first + 2), "return helper(u, x) + 1.0")]
    found = edges(dot)
    assert ('"x"', '"call1:a"', "a") in found and ('"y"', '"call1:b"', "b") in found
    assert ('"call1:out"', '"u"', "return") in found
    second = re.search(r'"(call\d+):a"', dot[dot.index("called at line " + str(first + 2)):]).group(1)
    assert ('"u"', f'"{second}:a"', "a") in found and ('"x"', f'"{second}:b"', "b") in found
    assert (f'"{second}:out"', '"helper_u"', "return") in found
    assert 'label="helper(·' not in dot                      # no box for the call


def scaled(a, b=3.0, c=1.0):
    return a * b * c


def calls_with_constants(x):
    return scaled(x, 2.0)


def test_a_callees_constant_and_default_parameters_say_so():
    dot = srcad.graph(calls_with_constants).to_dot()
    assert '"call1:b" [shape=ellipse, label="b = 2.0"];' in dot
    assert '"call1:c" [shape=ellipse, label="c (default)"];' in dot
    assert "in scaled(a=x, b=2.0):" in str(srcad.graph(calls_with_constants))


def test_expand_false_keeps_a_call_as_one_box():
    g = srcad.graph(caller, expand=False)
    assert "in helper(" not in str(g)
    dot = g.to_dot()
    assert "cluster" not in dot and 'label="helper(·, ·)\\nline' in dot


def test_a_recursive_callee_is_expanded_once_and_stops_at_its_own_call():
    text = str(srcad.graph(countdown, wrt="x"))
    assert text.count("in countdown(") == 0             # the function is already being drawn
    dot = srcad.graph(countdown, wrt="x").to_dot()
    assert 'label="countdown(·, ·)\\nline' in dot


def test_a_method_callee_is_expanded_with_self_bound():
    g = srcad.graph(uses_method)
    assert "in Model.energy(self=MODEL, x=x):" in str(g)
    assert '"x" -> "call1:x" [label="x", style=dashed];' in g.to_dot()


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------

def test_the_command_line_draws_the_reverse_sweep(tmp_path):
    import sys
    path = tmp_path / "model.py"
    path.write_text("def square(x):\n    return x * x\n")
    run = lambda *a: subprocess.run([sys.executable, "-m", "srcad", "graph", f"{path}:square", *a],  # noqa: E731
                                    capture_output=True, text=True, check=True)
    text = run("--sweep", "reverse").stdout
    assert text.startswith("adjoint graph of square(x) wrt x") and " + dx = dx + dx" in text
    assert run("--sweep", "reverse", "--format", "dot").stdout.startswith('digraph "reverse square"')
    if shutil.which("dot"):
        out = tmp_path / "r.svg"
        run("--sweep", "reverse", "--format", "svg", "-o", str(out))
        assert "<svg" in out.read_text()


def test_the_adjoint_graph_displays_as_svg_or_as_text(monkeypatch, tmp_path):
    g = srcad.graph(square, sweep="reverse")
    if shutil.which("dot"):
        svg = g._repr_svg_()
        assert "<svg" in svg and "dx = dx + dx" in svg
    monkeypatch.setenv("PATH", str(tmp_path))          # no Graphviz: the notebook shows the text
    assert g._repr_svg_() is None
    pretty = pytest.importorskip("IPython.lib.pretty")
    assert pretty.pretty(g) == str(g)
