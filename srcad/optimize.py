"""Stage 5, optimize: the clean-up passes, by their old names.

The passes live in :mod:`srcad.passes`, one per module, with their order in
:data:`srcad.passes.PASSES`; this module keeps the names other code imported
from here.
"""

from srcad.passes import PASSES, TERM_PASSES, clean  # noqa: F401
from srcad.passes.dead_code import eliminate_dead_code, live_in  # noqa: F401
from srcad.passes.may_raise import mark_may_raise  # noqa: F401
from srcad.passes.unbroadcast import class_of, drop_unbroadcast  # noqa: F401

_class_of = class_of
