"""Stage 4, reverse: the computational graph -> the adjoint function.

Worked example.  For ``def f(x, y, z): p = x + y; g = p * z; return g`` the
graph has two active nodes, ``p = add(x, y)`` and ``g = mul(p, z)``.  The
generated function runs the *forward sweep* (the normalized body), then the
*reverse sweep*: the nodes in reverse order, each inlining its derivative rule
with the cotangent of its output::

    def grad_f(x, y, z, dg=1.0):
        # forward sweep
        p = x + y
        g = p * z
        check_scalar(g)
        # reverse sweep
        # g = p * z
        dp = dg * z           # multiply rule, output 0: unbroadcast(g * y, x)
        dz = dg * p           # multiply rule, output 1: unbroadcast(g * x, y)
        # p = x + y
        dx = dp
        dy = dp
        return dx, dy, dz

(The clean-up passes of :mod:`srcad.passes` then propagate the copies: the
emitted function returns ``(dp, dp, dz)``.)

The adjoint of a value is named after it (``dp`` for ``p``).  Its first
contribution is an assignment; later ones (fan-out: the value was used more
than once) accumulate with ``dx = dx + ...``, which never modifies an array in
place, so no adjoint can alias another or an input.  Only active nodes and
active arguments produce code, so nothing inactive is computed.  The
``unbroadcast`` calls vanished above because shape classes prove ``p``,
``z``... are scalars once ``check_scalar`` has passed.

The package, one part per seam (the :class:`ReverseGenerator` is their sum):

* :mod:`~srcad.reverse.core`: names, the whole function, gradients;
* :mod:`~srcad.reverse.flow`: item lists, branches, loops;
* :mod:`~srcad.reverse.splits`: calls of user functions (split pairs);
* :mod:`~srcad.reverse.saves`: saves and restores of overwritten values;
* :mod:`~srcad.reverse.statements`: one primitive's rule, contributions;
* :mod:`~srcad.reverse.support`: markers, helper names, shared functions.
"""

from srcad.builders import assign, call, name, store
from srcad.reverse.core import ReverseGenerator
from srcad.reverse.support import MODES, Comment, References, Restore, Save, guard_statements, rule_argument

__all__ = ["ReverseGenerator", "MODES", "Comment", "References", "Save", "Restore", "guard_statements",
           "rule_argument", "assign", "call", "name", "store"]
