"""The rule tables of optional libraries load once the library is imported
(srcad.rules.registry.load_with); the tests that walk every rule need them
loaded before collection.  An array copy that fails to be written raises
(users get the generic code instead)."""

import srcad.rules
import srcad.passes.arrays

srcad.passes.arrays.STRICT = True          # a copy srcad fails to write is a test failure

try:
    import scipy.special  # noqa: F401
except ImportError:                       # pragma: no cover - SciPy is optional
    pass
srcad.rules.registry.load_pending()
