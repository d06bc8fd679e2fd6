"""Dead last adjoints: in a reversed loop's last iteration, skip the
adjoints nothing reads.

A loop-carried variable (an MLP's ``inputs = np.tanh(...)`` over the
layers) gets an adjoint in every reversed iteration for the iteration before
it; in the last one (the first layer) that adjoint belongs to the value the
loop started from, and when nothing after the loop reads it (the data, not a
``wrt``) computing it is pure waste: for an MLP it is the largest matrix
product of the gradient.  Its assignments after their last reader in the
body run under ``if i != first:``.  The reverse generator marks the loops
this may touch (``srcad_last``: the loop variable, its first value, the
carried names)::

    >>> from srcad.passes import demo
    >>> import gast
    >>> def run(body):
    ...     body[0].srcad_last = ("i", gast.Constant(value=0, kind=None), {"dinputs"})
    ...     return skip_dead_last_adjoints(body)
    >>> demo(run, '''
    ... for i in reversed(range(n)):
    ...     dW = dW + inputs.T @ dinputs
    ...     dinputs = dinputs @ W.T
    ... return dW''')
    for i in reversed(range(n)):
        dW = dW + inputs.T @ dinputs
        if i != 0:
            dinputs = dinputs @ W.T
    return dW
"""

import gast

from srcad.builders import name
from srcad.trees import clone
from srcad.trees import loaded, stored


def skip_dead_last_adjoints(body):
    """``body`` (a whole function body, after dead-code elimination) with the
    marked loops at its top level guarded, where their adjoint is assigned
    there by plain statements."""
    for pos, stmt in enumerate(body):
        info = getattr(stmt, "srcad_last", None)
        if not isinstance(stmt, gast.For) or info is None:
            continue
        target, first, carried = info
        live = loaded([s for s in body[pos + 1:] if isinstance(s, gast.AST)])
        for d in sorted(carried - live):
            _guard_after_last_read(stmt.body, d, target, first)
    return body


def _guard_after_last_read(body, d, target, first):
    """Wrap the plain assignments of ``d`` after its last other reader in ``if``."""
    def assigns(s):
        return isinstance(s, gast.Assign) and len(s.targets) == 1 and \
            isinstance(s.targets[0], gast.Name) and s.targets[0].id == d
    last = -1
    for j, s in enumerate(body):
        if not isinstance(s, gast.AST):
            continue
        if not assigns(s) and d in loaded([s]):
            last = j
    later = [j for j in range(last + 1, len(body)) if isinstance(body[j], gast.AST)
             and d in stored([body[j]])]
    if not later or any(not assigns(body[j]) for j in later):
        return
    test = gast.Compare(left=name(target), ops=[gast.NotEq()], comparators=[first])
    for j in later:
        body[j] = gast.If(test=clone(test), body=[body[j]], orelse=[])
