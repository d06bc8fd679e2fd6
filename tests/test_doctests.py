"""The examples in srcad's docstrings run as tests, so they cannot drift
from what srcad does."""

import doctest
import importlib
import pkgutil

import pytest

import srcad

MODULES = sorted(info.name for info in pkgutil.walk_packages(srcad.__path__, "srcad.")
                 if info.name != "srcad.__main__")


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name):
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:              # rules for what this SciPy lacks (scipy_array_api)
        pytest.skip(f"{module_name} does not import here: {e}")
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
