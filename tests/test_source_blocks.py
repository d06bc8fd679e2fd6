"""How srcad finds a function's lines in its file (parse._source_lines): a def
at column 0 ends before the next line of code at column 0, a guess that a
string or brackets reaching column 0 inside the def proves wrong, and then the
lines ``inspect`` tokenizes are read instead.  Either way the tree is the one
of ``inspect.getsourcelines``."""

import importlib.util
import inspect

import gast
import numpy as np
import pytest

import srcad
from srcad import parse

MODULE = '''\
import numpy as np
def docstring_at_col_0(x):
    """Doc
at column 0
    """
    return np.sin(x)
def one_line(x): return x * 2.0
# a comment at column 0
def comment_inside(x):
    y = x * 3.0
# a comment at column 0 inside the def
    return y
def brackets(x):
    y = (x +
1.0)
    return y
def string(x):
    s = """
text
"""
    return x * x
'''

GRADIENTS = {"docstring_at_col_0": np.cos, "one_line": lambda x: 2.0,
             "comment_inside": lambda x: 3.0, "brackets": lambda x: 1.0, "string": lambda x: 2 * x}


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    path = tmp_path_factory.mktemp("blocks") / "srcad_blocks_module.py"
    path.write_text(MODULE)
    spec = importlib.util.spec_from_file_location("srcad_blocks_module", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tree(func):
    return gast.dump(parse._read_tree(func, lambda tree: tree)[0], include_attributes=True)


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_tree_is_inspects(module, name, monkeypatch):
    func = getattr(module, name)
    guessed = _tree(func)
    monkeypatch.setattr(parse, "_top_level_block", lambda lines, start: None)
    assert guessed == _tree(func)


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_gradient(module, name):
    assert srcad.grad(getattr(module, name))(1.5) == pytest.approx(GRADIENTS[name](1.5))


def test_guess_cut_short_is_not_used(module):
    # the guess ends inside the string; the tree comes from inspect's lines
    lines, first, guessed = parse._source_lines(module.string)
    assert guessed and len(lines) < len(inspect.getsourcelines(module.string.__code__)[0])
    assert [type(s).__name__ for s in parse.read_function(module.string).body] == ["Assign", "Return"]
