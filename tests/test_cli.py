"""The command line, run as a user runs it: ``python -m srcad ...`` in a subprocess.

Gradients printed by ``srcad check`` are compared by check_grad itself with
central finite differences; a deliberately wrong rule must make it fail.
"""

import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

MODEL = textwrap.dedent("""\
    import numpy as np
    import srcad


    def layer(x, W):
        return np.tanh(x @ W)


    def loss(x, W, b):
        h = layer(x, W) + b
        return np.sum(h ** 2)


    def seed(x, y, z):
        p = x + y
        g = p * z
        return g


    def unknown(x):
        return np.sum(np.fft.fft(x).real)


    def mystery(x):
        return np.sum(x * x)


    @srcad.adjoint(mystery)
    def mystery_rule(g, ans, x):
        return g * 3.0 * x              # wrong on purpose: the derivative is 2 x


    def uses_mystery(x):
        return mystery(x) + 1.0


    def sized(x, n):
        return np.sum(x[:n] ** 3)
    """)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "model.py"
    path.write_text(MODEL)
    return path


def run(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "srcad", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def test_grad_prints_the_generated_source_with_its_callees(model):
    done = run("grad", f"{model}:loss", "--wrt", "W,b")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("def grad_loss(x, W, b, dout=1.0):")
    returned = [line for line in out.splitlines() if line.startswith("    return (")][0]
    assert "dW" in returned and "db" in returned
    assert "def forward_layer(x, W):" in out and "def reverse_layer(saved, dout):" in out
    assert "\x1b[" not in out                       # piped: no colours
    compile(out, "<cli>", "exec")                   # the printout is valid Python


def _main_return(out):
    """The return line of the first function printed (the transformed one)."""
    first = out.split("\n\n")[0]
    return [line.strip() for line in first.splitlines() if line.startswith("    return ")][-1]


def test_grad_accepts_one_name_an_index_and_a_trailing_comma(model):
    for wrt, flag in (("W", "--wrt"), ("1", "--wrt"), ("W,", "--wrt"), ("1,", "--argnums")):
        returned = _main_return(run("grad", f"{model}:loss", flag, wrt).stdout)
        assert "dW" in returned and "db" not in returned
        assert returned.endswith(",)") == wrt.endswith(","), returned


@pytest.mark.parametrize("mode, header", [
    ("value_and_grad", "def value_and_grad_seed(x, y, z, dg=1.0):"),
    ("vjp", "def vjp_seed(x, y, z, dg):"),
    ("jvp", "def jvp_seed(x, y, z, x_dot):"),
    ("hessian", "def jvp_grad_seed(x, y, z, dg, x_dot):"),
    ("hvp", "def jvp_grad_seed(x, y, z, dg, x_dot):"),
])
def test_every_mode_prints_its_code(model, mode, header):
    done = run("grad", f"{model}:seed", "--mode", mode)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(header), done.stdout


def test_colour_on_request_plain_otherwise(model):
    pytest.importorskip("pygments")
    coloured = run("grad", f"{model}:seed", "--color", "always").stdout
    assert "\x1b[" in coloured
    assert "\x1b[" not in run("grad", f"{model}:seed", "--color", "never").stdout


def test_library_errors_are_printed_with_file_line_and_caret_and_exit_1(model):
    done = run("grad", f"{model}:unknown")
    assert done.returncode == 1
    assert done.stdout == ""
    err = done.stderr
    assert "srcad has no derivative rule for numpy.fft.fft" in err
    assert f'File "{model}", line 21' in err
    assert "return np.sum(np.fft.fft(x).real)" in err and "^" in err and "hint:" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("target, message", [
    ("{model}:nope", "has no function 'nope'; its functions are: layer, loss"),
    ("missing.py:f", "no such file: missing.py"),
    ("{model}", "expected FILE.py:FUNCTION"),
])
def test_bad_targets_are_explained(model, target, message):
    done = run("grad", target.format(model=model))
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_an_error_in_the_users_module_shows_its_traceback(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\n\nraise ValueError('bad config')\n\ndef f(x):\n    return x\n")
    done = run("grad", f"{path}:f")
    assert done.returncode == 1
    assert "ValueError: bad config" in done.stderr and "broken.py\", line 3" in done.stderr


def test_check_with_keyword_spec_agrees_with_finite_differences(model):
    done = run("check", f"{model}:loss", "--args", "x=randn(2, 3), W=randn(3, 4), b=randn(4)")
    assert done.returncode == 0, done.stderr
    assert "check_grad loss(x=array(2, 3), W=array(3, 4), b=array(4,))" in done.stdout
    for name in ("x", "W", "b"):
        assert f"  {name}: " in done.stdout


def test_check_with_python_literals_and_only_float_arguments_by_default(model):
    done = run("check", f"{model}:sized", "--args", "np.linspace(0.5, 1.5, 5), 3")
    assert done.returncode == 0, done.stderr
    assert "  x: " in done.stdout and "  n: " not in done.stdout


def test_check_reports_a_wrong_rule_and_exits_1(model):
    done = run("check", f"{model}:uses_mystery", "--args", "np.array([1.0, -2.0, 0.5])")
    assert done.returncode == 1
    assert "GradientCheckError" in done.stderr and "disagrees with central finite differences" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args, message", [
    ("x=", "is not a Python argument list"),
    ("undefined_name(3)", "cannot evaluate 'undefined_name(3)'"),
    ("1.0, 2.0", "do not fit"),
])
def test_check_explains_bad_args(model, args, message):
    done = run("check", f"{model}:mystery", "--args", args)
    assert done.returncode == 1 and message in done.stderr, done.stderr


def test_graph_text_and_dot(model, tmp_path):
    text = run("graph", f"{model}:loss")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("graph loss(x, W, b)")
    out = tmp_path / "g.dot"
    done = run("graph", f"{model}:loss", "--format", "dot", "-o", out)
    assert done.returncode == 0 and done.stdout == ""
    assert out.read_text().startswith('digraph "loss"')


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("fmt, magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_graph_pictures_with_graphviz(model, tmp_path, fmt, magic):
    out = tmp_path / f"g.{fmt}"
    done = run("graph", f"{model}:loss", "--format", fmt, "-o", out)
    assert done.returncode == 0, done.stderr
    assert magic in out.read_bytes()[:400]


def test_graph_pictures_without_graphviz_say_what_to_install(model, tmp_path):
    env = dict(os.environ, PATH=str(tmp_path), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "srcad", "graph", f"{model}:loss", "--format", "svg",
                           "-o", str(tmp_path / "g.svg")], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert "needs Graphviz's `dot` program" in done.stderr and "--format dot" in done.stderr


@pytest.mark.parametrize("command", [[], ["grad"], ["graph"], ["check"]])
def test_help(command):
    done = run(*command, "--help")
    assert done.returncode == 0
    assert "usage: srcad" in done.stdout
    if command == ["grad"]:
        assert "--mode" in done.stdout and "hessian" in done.stdout and "--wrt" in done.stdout
    if command == ["check"]:
        assert "randn" in done.stdout


def test_the_console_script_points_at_main():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'srcad = "srcad.__main__:main"' in text
    import srcad.__main__ as entry
    assert callable(entry.main)


GRAPHS = textwrap.dedent("""\
    import numpy as np


    def scores(Z, W):
        m = np.max(Z, axis=1, keepdims=True)
        z = Z - m
        return np.sum((z @ W) ** 2)


    def rnn(h, W, T):
        for t in range(T):
            h = np.tanh(W @ h)
        if T > 2:
            h = h * 2.0
        return np.sum(h)
    """)


def test_the_graph_shows_arguments_in_order_with_constants_and_keywords(tmp_path):
    path = tmp_path / "graphs.py"
    path.write_text(GRAPHS)
    text = run("graph", f"{path}:scores").stdout
    assert "m = np.max(Z, axis=1, keepdims=True)" in text
    assert "z = sub(Z, m)" in text and "matmul(z, W)" in text and "pow_z = pow(matmul_z, 2)" in text
    dot = run("graph", f"{path}:scores", "--format", "dot").stdout
    assert 'label="sub(·, ·)' in dot and '"Z" -> op' in dot
    sub = next(line.split()[0] for line in dot.splitlines() if 'label="sub(' in line)
    assert f'"Z" -> {sub} [label="0"];' in dot and f'"m" -> {sub} [label="1"];' in dot
    assert 'label="np.max(·, axis=1, keepdims=True)' in dot
    assert 'label="pow(·, 2)' in dot


def test_the_graph_draws_loops_and_branches_as_labelled_clusters(tmp_path):
    path = tmp_path / "graphs.py"
    path.write_text(GRAPHS)
    dot = run("graph", f"{path}:rnn", "--wrt", "W", "--format", "dot").stdout
    assert 'label="for t in range(T)"' in dot and 'label="if T > 2"' in dot
    assert '"W" [shape=ellipse, label="W", style=filled, fillcolor=lightblue' in dot
    assert '"T" [shape=ellipse, label="T"];' in dot                   # not a wrt input
    assert 'fillcolor=salmon' in dot and '-> "return";' in dot        # the output


def test_the_readmes_command_line_section_prints_what_it_shows(tmp_path):
    """README's model.py, its three commands, and the three listings after them."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## The command line"):]
    section = section[:section.index("\n## ", 1)]
    model = re.search(r"<!-- not run -->\n```python\n(.*?)```", section, re.S).group(1)
    commands = re.search(r"```bash\n(.*?)```", section, re.S).group(1).splitlines()
    listings = re.findall(r"```text\n(.*?)```", section, re.S)
    assert len(commands) == len(listings) == 3
    (tmp_path / "model.py").write_text(model)
    for command, listing in zip(commands, listings):
        args = shlex.split(command, comments=True)
        assert args[0] == "srcad", command
        done = run(*args[1:], cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.rstrip() == listing.rstrip(), f"README shows for `{command}`:\n{listing}"
