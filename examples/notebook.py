"""Build examples/notebook.ipynb, run it, and take the screenshot in docs/images.

The notebook is what a person would type to see srcad in Jupyter: a loss, its
gradient (displayed as highlighted code), its graph and its adjoint graph
(displayed as pictures when Graphviz is installed).  This script writes it,
executes it with nbclient (as tests/test_display.py does), renders it to HTML
with nbconvert and photographs the page in headless Chromium:

    python examples/notebook.py                 # writes examples/notebook.ipynb
    python examples/notebook.py --screenshot    # also docs/images/notebook.png

It needs the notebook extra (``pip install -e ".[notebook]"``), and for the
screenshot nbconvert, Graphviz's ``dot`` and ``chromium`` on PATH.
"""

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"
SCREENSHOT = ROOT / "docs" / "images" / "notebook.png"

CELLS = [
    ("markdown", "# srcad in a notebook\n\nA derivative displays as the code srcad wrote; "
                 "a graph as a picture (with Graphviz), and the adjoint graph shows backpropagation."),
    ("code", "import numpy as np\nimport srcad\n\n"
             "def loss(x, W):\n    return np.sum(np.tanh(x @ W) ** 2)"),
    ("code", "srcad.grad(loss, wrt='W')"),
    ("code", "srcad.graph(loss, wrt='W')"),
    ("code", "srcad.graph(loss, wrt='W', sweep='reverse')"),
]


def build():
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                for kind, src in CELLS]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"                       # stable, so the file changes only with CELLS
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def execute(nb):
    """Run every cell in a fresh kernel that imports this checkout's srcad."""
    import nbclient
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + old if old else "")
    try:
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(ROOT)}}).execute()
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    return nb


def to_html(nb):
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return body


def screenshot(html, out, width=1000, height=2350):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium is not on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        page = pathlib.Path(tmp) / "notebook.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                        f"--user-data-dir={tmp}/profile", f"--screenshot={out}",
                        f"--window-size={width},{height}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", action="store_true", help=f"also write {SCREENSHOT.relative_to(ROOT)}")
    ns = parser.parse_args()
    import nbformat
    nbformat.write(build(), str(NOTEBOOK))        # the notebook as a person opens it: not run
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}")
    if ns.screenshot:
        html = to_html(execute(build()))
        screenshot(html, SCREENSHOT)
        print(f"wrote {SCREENSHOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
