"""Every ```python block of README.md and docs/*.md runs, and shows what it prints.

The blocks of one file run in order in one namespace, as a reader pasting
them one after the other would.  Each block is written to a real file first,
so srcad can read the source of the functions it defines.  A block preceded by
``<!-- output -->`` is a listing of what the code before it printed: it must
appear, as shown, in that output.  A block written as a ``>>>`` session runs as
a doctest.  A block preceded by ``<!-- raises -->`` must raise a
``srcad.SrcadError`` (a page showing an error message).  A block preceded by
``<!-- not run -->`` is shown, not run.
"""

import contextlib
import doctest
import io
import pathlib
import re

import pytest

import srcad

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"(?P<marker><!--\s*(?P<what>output|not run|raises)\s*-->\s*\n)?"
                   r"^(?P<indent>[ \t]*)```python[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.S | re.M)


def blocks(page):
    """``(line number, kind, text)`` of each ```python block: kind is ``code``,
    ``output``, ``doctest``, ``raises`` or ``not run``."""
    text = page.read_text()
    for m in FENCE.finditer(text):
        body = m["body"]
        lineno = text.count("\n", 0, m.start("body")) + 1
        if m["what"]:
            kind = m["what"]
        elif body.lstrip().startswith(">>>"):
            kind = "doctest"
        else:
            kind = "code"
        yield lineno, kind, body


def _normalize(text):
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


@pytest.mark.parametrize("page", [p for p in PAGES if list(blocks(p))],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_python_block_runs_and_shows_its_output(page, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace = {"__name__": "__docs__"}
    printed = ""
    for lineno, kind, body in blocks(page):
        where = f"{page.name}:{lineno}"
        if kind == "not run":
            continue
        if kind == "output":
            assert _normalize(body) in _normalize(printed), \
                f"{where}: this listing is not what the code before it prints:\n{printed}"
            continue
        if body.startswith((" ", "\t")):
            pytest.fail(f"{where}: the block is indented; pasted at a prompt it fails")
        path = tmp_path / f"{page.stem}_{lineno}.py"
        if kind == "doctest":
            path.write_text(body)
            test = doctest.DocTestParser().get_doctest(body, namespace, where, str(path), lineno)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
            out = io.StringIO()
            runner.run(test, out=out.write)
            assert runner.failures == 0, f"{where}:\n{out.getvalue()}"
            continue
        path.write_text(body)
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            if kind == "raises":
                with pytest.raises(srcad.SrcadError):
                    exec(compile(body, str(path), "exec"), namespace)    # noqa: S102
            else:
                exec(compile(body, str(path), "exec"), namespace)    # noqa: S102 - the docs' own code
        printed = stdout.getvalue()


def test_the_markers_are_found():
    """The pattern sees README's blocks of every kind (a test that cannot fail is a defect)."""
    kinds = [kind for _, kind, _ in blocks(ROOT / "README.md")]
    assert {"code", "output", "doctest"} <= set(kinds)


def test_the_api_reference_names_every_public_name():
    text = (ROOT / "docs" / "api.md").read_text()
    missing = [name for name in srcad.__all__ if f"`{name}" not in text and f"`srcad.{name}" not in text]
    assert not missing, f"docs/api.md does not describe {missing}"


def test_the_translation_table_covers_jax_and_autograd():
    text = (ROOT / "docs" / "coming-from-jax-autograd.md").read_text()
    for name in ("jax.grad", "value_and_grad", "jacfwd", "jax.hessian", "jax.vjp", "jax.jvp",
                 "custom_vjp", "stop_gradient", "has_aux", "argnum=", "elementwise_grad",
                 "make_vjp", "@primitive", "defvjp"):
        assert name in text, name
