"""Transformation time: how long ``srcad.grad`` takes to write a gradient.

Three workloads, each a module written to a temporary file (srcad reads real
source):

* loop nests ``for i0 in range(2): for i1 ...`` of depth 4 and 9 around one
  statement: the generator's work must grow linearly with depth (it used to
  double per level);
* straight-line functions of 1,000, 2,000 and 5,000 statements
  ``x = np.sin(x) * 1.0001 + k``: time must grow linearly with length;
* the MLP loss of ``bench_core.py``.

Each figure is the median of ``--repeat`` fresh transformations (a new
function object each time, so no cache is hit), each after a full garbage
collection: the trees of the transformations before it are not its cost
(``timeit`` goes further and turns the collector off).  ``--clock cpu`` measures
the process's CPU time instead of the wall clock: on a machine shared with
other work it still says what srcad costs::

    python3 benchmarks/bench_transform.py [--clock cpu]
"""

import argparse
import gc
import importlib.util
import inspect
import os
import pathlib
import statistics
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import srcad  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_core  # noqa: E402  (its MLP loss)

_counter = [0]


def _load(source):
    """A fresh function ``f`` from ``source``, imported from a real file."""
    _counter[0] += 1
    name = f"srcad_bench_transform_{_counter[0]}"
    path = os.path.join(tempfile.mkdtemp(), name + ".py")
    with open(path, "w") as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def nest(depth):
    lines, indent = ["import numpy as np", "def f(x):"], "    "
    for k in range(depth):
        lines.append(f"{indent}for i{k} in range(2):")
        indent += "    "
    lines += [f"{indent}x = x * 1.01 + 0.1", "    return x"]
    return "\n".join(lines) + "\n"


def straight(n):
    body = [f"    x = np.sin(x) * 1.0001 + {k % 7}.0" for k in range(n)]
    return "\n".join(["import numpy as np", "def f(x):", *body, "    return x"]) + "\n"


# bench_core's MLP loss itself, renamed f (a fresh module per transformation)
MLP = "import numpy as np\n" + textwrap.dedent(inspect.getsource(bench_core.mlp_loss)).replace(
    "def mlp_loss(", "def f(", 1)


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def median_time(source, repeat, clock=time.perf_counter):
    times = []
    for _ in range(repeat):
        f = _load(source)
        gc.collect()            # the garbage of earlier transformations is not this one's cost
        start = clock()
        srcad.grad(f)
        times.append(clock() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args(argv)
    median_time(MLP, 1)                       # imports and rule tables, once
    rows = [("nest depth 4", nest(4)), ("nest depth 9", nest(9)),
            ("straight 1000", straight(1000)), ("straight 2000", straight(2000)),
            ("straight 5000", straight(5000)), ("MLP loss", MLP)]
    found = {}
    for label, source in rows:
        found[label] = median_time(source, args.repeat, CLOCKS[args.clock])
        print(f"{label:16s} {found[label] * 1000:9.1f} ms")
    print(f"depth 9 / depth 4:  {found['nest depth 9'] / found['nest depth 4']:.2f}  (goal <= 3)")
    print(f"2000 / 1000 stmts:  {found['straight 2000'] / found['straight 1000']:.2f}  (goal <= 2.3)")
    print(f"5000 stmts:         {found['straight 5000']:.2f} s  (goal < 4)")
    print(f"MLP loss:           {found['MLP loss'] * 1000:.1f} ms  (goal < 8)")


if __name__ == "__main__":
    main()
