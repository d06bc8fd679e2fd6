"""A library function without a derivative rule is refused at the user's call.

srcad reads only the user's source: a Python function of NumPy, SciPy, the
standard library or an installed package is a primitive.  Without a rule it is
an ``UnknownPrimitiveError`` located on the user's line (file, line, caret)
that names the function and says how to register a rule -- never an error that
points into the library's own source ("cannot differentiate a with statement"
inside ``scipy/special/_logsumexp.py`` before this was fixed).
"""

import statistics
import sys
import textwrap

import numpy as np
import pytest

import srcad
from srcad import parse


def _line_of(func, text):
    """The line number of the line of ``func``'s source that contains ``text``."""
    import inspect
    lines, first = inspect.getsourcelines(func)
    return first + next(i for i, line in enumerate(lines) if text in line)


def uses_stdlib(x):
    y = x * 2.0
    return statistics.fmean([y, x])


def uses_numpy_python_function(p, x):
    return np.sum(np.polyval(p, x))


def callee_uses_library(x):
    return 3.0 * uses_stdlib(x)


CASES = [(uses_stdlib, (1.5,), 0, "statistics.fmean([y, x])", "statistics.fmean"),
         (uses_numpy_python_function, (np.array([1.0, 2.0]), 0.5), 0, "np.polyval(p, x)",
          "numpy.polyval"),
         (callee_uses_library, (1.5,), 0, "statistics.fmean([y, x])", "statistics.fmean")]


def _check_located(error, func_with_line, text, name):
    assert error.filename == __file__
    assert error.lineno == _line_of(func_with_line, text)
    rendered = str(error)
    assert text in rendered and "^" in rendered
    assert name in rendered and "installed library" in rendered
    assert "srcad.adjoint" in error.hint or "srcad.tangent" in error.hint
    assert "site-packages" not in rendered and "/lib/python" not in rendered


@pytest.mark.parametrize("mode", ["grad", "jvp"])
@pytest.mark.parametrize("f, args, wrt, text, name", CASES, ids=[c[0].__name__ for c in CASES])
def test_library_function_without_rule_is_refused_at_the_users_line(f, args, wrt, text, name, mode):
    with pytest.raises(srcad.UnknownPrimitiveError) as info:
        getattr(srcad, mode)(f, wrt=wrt)
    where = uses_stdlib if f is callee_uses_library else f
    _check_located(info.value, where, text, name)
    if mode == "jvp":
        assert "srcad.tangent" in info.value.hint


def test_a_library_function_is_not_transformed_directly():
    with pytest.raises(srcad.SourceUnavailableError, match="installed library"):
        srcad.grad(statistics.fmean)


def test_an_installed_package_counts_as_library(tmp_path, monkeypatch):
    """Any file under a site-packages directory is library code, whatever its module."""
    (tmp_path / "fakepkg_srcad_test.py").write_text(textwrap.dedent("""
        def double(x):
            return 2.0 * x
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import fakepkg_srcad_test
    try:
        def f(x):
            return fakepkg_srcad_test.double(x) + 1.0

        assert srcad.grad(f)(1.0) == 2.0        # a user module: differentiated through
        monkeypatch.setattr(parse, "_library_directories", lambda: (str(tmp_path) + "/",))

        def g(x):
            return fakepkg_srcad_test.double(x) + 1.0

        with pytest.raises(srcad.UnknownPrimitiveError, match="fakepkg_srcad_test.double") as info:
            srcad.grad(g)
        assert info.value.lineno == _line_of(g, "fakepkg_srcad_test.double(x) + 1.0")
    finally:
        sys.modules.pop("fakepkg_srcad_test", None)


def test_srcad_and_user_code_are_not_library_code():
    from srcad import runtime
    assert not parse.is_library_function(runtime.unbroadcast)
    assert not parse.is_library_function(uses_stdlib)
    assert parse.is_library_function(statistics.fmean)
    assert parse.is_library_function(np.polyval)


LIBRARY_CALLS = ["np.tri", "np.indices", "np.broadcast_shapes", "np.asmatrix", "np.require",
                 "scipy.linalg.expm", "scipy.linalg.block_diag", "scipy.linalg.eigh", "scipy.linalg.det",
                 "scipy.linalg.circulant", "scipy.linalg.expm_frechet", "scipy.special.comb",
                 "scipy.stats.kurtosis", "scipy.stats.zscore", "scipy.signal.fftconvolve",
                 "scipy.signal.savgol_filter", "statistics.median", "statistics.pstdev"]


def test_no_refusal_points_into_library_source(tmp_path, monkeypatch):
    """Before the fix, about one refusal in six over NumPy's and SciPy's Python
    functions pointed into their source files; these were among them."""
    pytest.importorskip("scipy")
    lines = ["import statistics", "import numpy as np", "import scipy.linalg, scipy.special, "
             "scipy.stats, scipy.signal", ""]
    for k, name in enumerate(LIBRARY_CALLS):
        lines += [f"def f{k}(x):", f"    return np.sum({name}(x))", ""]
    (tmp_path / "library_calls_srcad_test.py").write_text("\n".join(lines))
    monkeypatch.syspath_prepend(str(tmp_path))
    import library_calls_srcad_test as module
    try:
        for k, name in enumerate(LIBRARY_CALLS):
            for mode in ("grad", "jvp"):
                with pytest.raises(srcad.SrcadError) as info:
                    d = getattr(srcad, mode)(getattr(module, f"f{k}"))
                    x = np.full((3, 3), 0.5)
                    d(x) if mode == "grad" else d(x, np.ones((3, 3)))
                assert info.value.filename == module.__file__, (name, mode, str(info.value))
                assert info.value.lineno == 6 + 3 * k, (name, mode)
    finally:
        sys.modules.pop("library_calls_srcad_test", None)
