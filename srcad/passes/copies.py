"""Copy propagation: ``a = b`` goes, and ``a``'s reads read ``b``.

The adjoint of ``x + y`` is the cotangent itself (``dx = dp``); of a value
used once, it is its use's (``dsub_c = dout``).  Where ``a`` is bound only by
the copy, every read of ``a`` follows it in the same block and ``b`` is not
rebound before the last of them, the copy is a second name for one value::

    >>> from srcad.passes import demo
    >>> demo(propagate_copies, '''
    ... dp = dg * z
    ... dx = dp
    ... dy = dp
    ... return (dx, dy)''')
    dp = dg * z
    return (dp, dp)

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

from srcad.passes._blocks import Block, blocks, counts, load, simple


def propagate_copies(body):
    """``body`` with its name-to-name copies propagated (in place)."""
    stores, loads = counts(body)
    for stmts in blocks(body):
        block = Block(stmts)
        dropped = set()
        for i, stmt in enumerate(stmts):
            pair = simple(stmt)
            if pair is None or not isinstance(pair[1], gast.Name) or pair[0] == pair[1].id:
                continue
            a, b = pair[0], pair[1].id
            if stores[a] != 1:
                continue
            last = block.last_use(i, a, {b}, loads)
            if last is None:
                continue
            moved = block.rename(sorted(block.reads[a]), a, lambda: load(b), loads)
            block.reads[b].update(moved)
            block.reads[b][i] -= 1
            loads[b] += sum(moved.values()) - 1
            stores[a] = 0
            dropped.add(i)
        stmts[:] = [s for i, s in enumerate(stmts) if i not in dropped]
    return body
