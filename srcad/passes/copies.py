"""Copy propagation: ``a = b`` goes, and ``a``'s reads read ``b``.

The adjoint of ``x + y`` is the cotangent itself (``dx = dp``); of a value
used once, it is its use's (``dsub_c = dout``).  Where ``a`` is bound only by
the copy, every read of ``a`` follows it in the same block and ``b`` is not
rebound before the last of them, the copy is a second name for one value.
Where ``b`` is read by the copy only and bound before it in the same block,
``b``'s definition takes the name ``a`` instead (``a, b = np.sin(x), ...``
keeps the name ``a``)::

    >>> from srcad.passes import demo
    >>> demo(propagate_copies, '''
    ... dp = dg * z
    ... dx = dp
    ... dy = dp
    ... return (dx, dy)''')
    dp = dg * z
    return (dp, dp)
    >>> demo(propagate_copies, '''
    ... sin_x = np.sin(x)
    ... a = sin_x
    ... return a * a''')
    a = np.sin(x)
    return a * a

A chain of copies ends with one name::

    >>> demo(propagate_copies, '''
    ... d1 = g * 2.0
    ... d2 = d1
    ... d3 = d2
    ... return d3''')
    d3 = g * 2.0
    return d3

A copy whose source is rebound before a read stays::

    >>> demo(propagate_copies, '''
    ... a = b
    ... b = b + 1
    ... c = a * b''')
    a = b
    b = b + 1
    c = a * b
"""

import gast

from srcad.passes._blocks import Block, load, simple_assignments


def propagate_copies(body):
    """``body`` with its name-to-name copies propagated (in place)."""
    top = Block(body)
    stores, loads = top.counts()
    for stmts, block, i, a, value, dropped in simple_assignments(body, top):
        if not isinstance(value, gast.Name) or a == value.id or stores[a] != 1:
            continue
        b = value.id
        if block.last_use(i, a, {b}, loads) is None:
            continue
        source = _definition(stmts, i, b, stores, loads, dropped)
        if source is not None:                 # b = e; a = b  ->  a = e: keep the user's name
            source.targets[0].id = a
            stores[b] = loads[b] = 0
            dropped.add(i)
            continue
        moved = block.rename(sorted(block.reads[a]), a, lambda: load(b), loads)
        block.reads[b].update(moved)
        block.reads[b][i] -= 1
        loads[b] += sum(moved.values()) - 1
        stores[a] = 0
        dropped.add(i)
    return body


def _definition(stmts, i, b, stores, loads, dropped):
    """The statement ``b = e`` before ``stmts[i]`` (``a = b``) in the same block,
    when ``b`` is bound there only and read by the copy only.  Copies already
    dropped are not definitions: in ``d1 = e; d2 = d1; d3 = d2`` the first
    copy renames ``d1 = e`` to ``d2 = e``, which the second then renames."""
    if stores[b] != 1 or loads[b] != 1:
        return None
    for j in range(i - 1, -1, -1):
        stmt = stmts[j]
        if j not in dropped and isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == b:
            return stmt
    return None
