"""Long fuzzing run: thousands of random programs against central differences.

Uses the program generator and the checks of ``tests/test_fuzz.py`` (see its
docstring), driven by ``random.Random(seed)`` for seeds ``--seed`` ..
``--seed + --count - 1``, so any program is reproduced by its seed::

    python3 benchmarks/fuzz_long.py                   # 2000 programs
    python3 benchmarks/fuzz_long.py --count 10000 --seed 50000
    python3 benchmarks/fuzz_long.py --seed 1234 --count 1 --show   # one program

Reports the number of programs, how many were compared, skipped (a branch
test too close to its threshold, a value too large, not smooth at the
finite-difference scale), wrong gradients, wrong values, modified inputs, and
errors by type, with the first seeds of each.  Failing programs are written
to ``--save`` (a directory) when given.  Exit status: 1 if any gradient is
wrong (or a value differs, or an input was modified), 2 if there were errors
but no wrong results, 0 otherwise.
"""

import argparse
import collections
import pathlib
import sys
import tempfile
import time
import traceback
import warnings

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import numpy as np  # noqa: E402

import test_fuzz as fuzz  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="number of programs (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--no-helpers", action="store_true",
                        help="generate no calls into helper functions")
    parser.add_argument("--save", type=pathlib.Path, help="write failing programs to this directory")
    parser.add_argument("--show", action="store_true", help="print every program")
    parser.add_argument("--examples", type=int, default=3, help="seeds listed per failure kind")
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore")
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="srcad_fuzz_"))
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    helpers = not args.no_helpers
    if helpers and fuzz.helpers_supported(workdir):
        print("note: srcad does not differentiate calls into user functions; generating none")
        helpers = False

    outcomes = collections.Counter()
    skips = collections.Counter()
    failures = collections.defaultdict(list)        # kind -> [(seed, message)]
    features = collections.Counter()
    start = time.perf_counter()
    for seed in range(args.seed, args.seed + args.count):
        program = fuzz.generate(fuzz.RandomChoices(seed), helpers=helpers)
        features.update(program.features)
        if args.show:
            print(f"--- seed {seed}\n{program.text}")
        try:
            module = fuzz.load(workdir, program.text)
            fuzz.check_program(module, program, seed)
            outcomes["compared, correct"] += 1
            continue
        except fuzz.Skip as why:
            outcomes["skipped"] += 1
            skips[str(why)] += 1
            continue
        except (fuzz.WrongGradient, fuzz.WrongValue, fuzz.InputModified) as exc:
            kind = type(exc).__name__
            message = str(exc)
        except AssertionError as exc:
            kind, message = "AssertionError", str(exc)
        except Exception as exc:                    # noqa: BLE001 - counted by type
            kind = f"error: {type(exc).__name__}"
            message = "".join(traceback.format_exception_only(exc)).strip()
        outcomes[kind] += 1
        failures[kind].append((seed, message))
        if args.save:
            (args.save / f"seed_{seed}.py").write_text(
                f"# seed {seed}: {kind}\n# " + message.replace("\n", "\n# ") + "\n" + program.text)
    elapsed = time.perf_counter() - start

    wrong = sum(len(failures[k]) for k in ("WrongGradient", "WrongValue", "InputModified",
                                            "AssertionError"))
    errors = sum(len(v) for k, v in failures.items() if k.startswith("error"))
    print(f"srcad fuzz: {args.count} programs (seeds {args.seed}..{args.seed + args.count - 1}), "
          f"helper calls {'on' if helpers else 'off'}, {elapsed:.1f} s "
          f"({1000 * elapsed / max(args.count, 1):.0f} ms per program)")
    print(f"  compared, correct gradient: {outcomes['compared, correct']}")
    print(f"  skipped:                    {outcomes['skipped']}")
    for reason, n in skips.most_common():
        print(f"      {n:6d}  {reason}")
    print(f"  wrong gradients:            {len(failures['WrongGradient'])}")
    print(f"  wrong values:               {len(failures['WrongValue'])}")
    print(f"  inputs modified:            {len(failures['InputModified'])}")
    print(f"  errors:                     {errors}")
    for kind, items in sorted((k, v) for k, v in failures.items() if v):
        print(f"  {kind}: {len(items)}")
        for seed, message in items[:args.examples]:
            first = message.splitlines()[0] if message else ""
            print(f"      seed {seed}: {first[:160]}")
    print("  constructs generated (programs using each): "
          + ", ".join(f"{k} {v}" for k, v in sorted(features.items())))
    if wrong:
        return 1
    if errors:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
