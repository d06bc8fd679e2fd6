"""Rich display in Jupyter and IPython: derivatives show their code, graphs a picture.

A generated function gets ``_repr_html_`` and ``_repr_markdown_`` (its
``.source``, highlighted by Pygments when installed), and IPython's
``<function ...>`` line shows its real signature (``dout=1.0``, the tangents),
set by :mod:`srcad.api`.  A graph gets ``_repr_svg_``: Graphviz's picture when
the ``dot`` program is on PATH, else nothing, and the notebook shows the text.
Nothing here runs unless a front end asks for it.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from typing import Callable, Optional


_MONOSPACE = "font-family: var(--jp-code-font-family, monospace), monospace"


def source_html(source: str) -> str:
    """``source`` as an HTML block, highlighted with inline styles when Pygments
    is installed (inline, so it survives a notebook exported to HTML)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return f'<pre style="{_MONOSPACE}">{html.escape(source)}</pre>'
    # the font is set on the <pre>: a notebook's HTML output styles need not be code's
    return highlight(source, PythonLexer(), HtmlFormatter(noclasses=True, nobackground=True,
                                                          prestyles=_MONOSPACE))


def _title(fn: Callable) -> str:
    import inspect
    return f"{fn.__qualname__}{inspect.signature(fn)}"


def derivative_html(fn: Callable) -> str:
    """The notebook cell output of a derivative: what it is, then its code."""
    source = getattr(fn, "source", None)      # jacobian picks its sweeps at run time
    code = source_html(source) if source else ""
    return f"<div><p><code>{html.escape(_title(fn))}</code></p>{code}</div>"


def derivative_markdown(fn: Callable) -> str:
    source = getattr(fn, "source", None)
    code = f"\n```python\n{source.rstrip()}\n```\n" if source else ""
    return f"`{_title(fn)}`\n{code}"


def attach(fn: Callable) -> Callable:
    """Give a generated function its notebook representations."""
    fn._repr_html_ = lambda: derivative_html(fn)
    fn._repr_markdown_ = lambda: derivative_markdown(fn)
    return fn


def dot_to_svg(dot: str) -> Optional[str]:
    """Graphviz's SVG of ``dot``, or None without the ``dot`` program (or if it fails)."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "-Tsvg"], input=dot.encode(), capture_output=True,
                              timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")
