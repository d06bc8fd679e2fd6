"""The rule tables of optional libraries load once the library is imported
(srcad.rules.registry.load_with); the tests that walk every rule need them
loaded before collection."""

import srcad.rules

try:
    import scipy.special  # noqa: F401
except ImportError:                       # pragma: no cover - SciPy is optional
    pass
srcad.rules.registry.load_pending()
