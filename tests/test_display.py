"""Notebook display: derivatives show their code, graphs an SVG picture (with Graphviz).

The last test executes a real notebook with nbclient (skipped without Jupyter)
and checks the MIME types of its outputs, as a notebook front end receives them.
"""

import inspect
import os
import pathlib
import shutil
import textwrap

import pytest

import srcad
from srcad import display

ROOT = pathlib.Path(__file__).resolve().parents[1]


def seed(x, y, z):
    p = x + y
    g = p * z
    return g


def test_a_derivative_displays_its_source_as_html_and_markdown():
    d = srcad.grad(seed, wrt=(0, 1))
    markdown = d._repr_markdown_()
    assert markdown.startswith("`srcad.grad(seed, wrt=('x', 'y'))(x, y, z, dg=1.0)`")
    assert "```python\n" + d.source.rstrip() + "\n```" in markdown
    page = d._repr_html_()
    assert "grad_seed" in page and "srcad.grad(seed, wrt=(&#x27;x&#x27;, &#x27;y&#x27;))" in page


def test_html_is_highlighted_with_pygments_and_escaped_without(monkeypatch):
    pytest.importorskip("pygments")
    page = display.source_html("def f(x):\n    return x < 1\n")
    assert "<span style=" in page and "monospace" in page      # a notebook's HTML styles need not be code's
    import builtins
    real = builtins.__import__

    def no_pygments(name, *args, **kwargs):
        if name.startswith("pygments"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pygments)
    plain = display.source_html("return x < 1")
    assert plain.startswith("<pre style=") and plain.endswith(">return x &lt; 1</pre>")
    assert "monospace" in plain


@pytest.mark.parametrize("name", ["value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "hessp"])
def test_every_transform_displays(name):
    d = getattr(srcad, name)(seed)
    assert getattr(d, "source", "").strip() in d._repr_markdown_()
    assert str(inspect.signature(d)) in d._repr_markdown_()


def test_the_repr_shows_the_generated_signature_not_the_users():
    d = srcad.grad(seed)
    assert str(inspect.signature(d)) == "(x, y, z, dg=1.0)"
    pretty = pytest.importorskip("IPython.lib.pretty")
    assert "(x, y, z, dg=1.0)" in pretty.pretty(d)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_a_graph_displays_as_svg_with_graphviz():
    svg = srcad.graph(seed)._repr_svg_()
    assert "<svg" in svg and "</svg>" in svg


def test_a_graph_displays_as_text_without_graphviz(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    g = srcad.graph(seed)
    assert g._repr_svg_() is None                # the notebook falls back to text/plain
    assert str(g).startswith("graph seed(x, y, z)")


NOTEBOOK_CELLS = [
    textwrap.dedent("""\
        import numpy as np
        import srcad

        def loss(x, W):
            return np.sum(np.tanh(x @ W) ** 2)"""),
    "srcad.grad(loss, wrt='W')",
    "srcad.graph(loss)",
]


def test_a_notebook_shows_code_and_pictures(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in NOTEBOOK_CELLS]
    env_path = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = env_path          # the kernel imports this checkout's srcad
    try:
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ["PYTHONPATH"] = env_path.split(os.pathsep, 1)[1]
    derivative = nb.cells[1].outputs[0]["data"]
    assert {"text/plain", "text/html", "text/markdown"} <= set(derivative)
    assert "(x, W, dout=1.0)" in derivative["text/plain"]
    assert "grad_loss" in derivative["text/html"]
    graph = nb.cells[2].outputs[0]["data"]
    assert graph["text/plain"].startswith("graph loss(x, W)")
    assert ("image/svg+xml" in graph) == (shutil.which("dot") is not None)
    nbformat.write(nb, str(tmp_path / "display.ipynb"))


def _notebook_script():
    import importlib.util
    spec = importlib.util.spec_from_file_location("srcad_notebook_example", ROOT / "examples" / "notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_notebook_is_what_its_script_writes():
    nbformat = pytest.importorskip("nbformat")
    script = _notebook_script()
    committed = nbformat.read(str(ROOT / "examples" / "notebook.ipynb"), as_version=4)
    assert [(c.cell_type, c.source) for c in committed.cells] == \
        [(c.cell_type, c.source) for c in script.build().cells]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_the_example_notebook_renders_to_html_with_code_and_pictures():
    """What docs/images/notebook.png photographs: the page nbconvert makes of the
    executed notebook holds the highlighted code and three SVG pictures."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("nbconvert")
    script = _notebook_script()
    page = script.to_html(script.execute(script.build()))
    assert "grad_loss" in page and "monospace" in page and "<span style=" in page
    import base64
    import re
    pictures = [base64.b64decode(data).decode() for data in
                re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)]
    assert len(pictures) == 2                            # the graph and the adjoint graph
    assert "np.tanh(·)" in pictures[0] and "the seed" in pictures[1] and "gradient of W" in pictures[1]
