"""Long fuzzing run: thousands of adversarial programs against finite differences.

Uses the program generator and the checks of ``tests/test_fuzz.py`` (see its
docstring and ``tests/fuzz_families.py``), driven by ``random.Random(seed)``
for seeds ``--seed`` .. ``--seed + --count - 1``; the seed also picks the
construct family the program focuses on (``test_fuzz.family_for``), so any
program is reproduced by its seed::

    python3 benchmarks/fuzz_long.py --count 5000
    python3 benchmarks/fuzz_long.py --count 500 --family swap
    python3 benchmarks/fuzz_long.py --seed 1234 --count 1 --show   # one program

Every program is checked with ``grad``, ``value_and_grad`` and ``jvp``, and
every ``--hessian-every``-th one with ``hvp`` (and ``hessian`` for small
inputs), against central differences, for the
structure of the results, for modified inputs, and again after rebinding a
callee when its family rebinds one.  Reports the four counts -- wrong
(gradient or value), internal errors (a non-SrcadError exception where f ran
fine), modified inputs, refused (a SrcadError) -- then wrong structures, and
per failure class (family, outcome, call, message) a few seeds.  Exit status
1 if anything was wrong, modified or an internal error, else 0.

A refusal counts as *refused as documented* only when README says srcad
refuses what the program does there: the generator recorded the line it
emitted for such a construct (``fuzz_families.Families.document``), the
SrcadError points at that line, and its message is the one README documents
for that construct (``fuzz_families.DOCUMENTED_REFUSALS``).  Every other
refusal -- of a construct README claims, on another line, or with another
message -- counts as *refused*.  *Refused as expected* is the input_view_write
case where f itself writes into its input (README: an error).
"""

import argparse
import collections
import pathlib
import re
import sys
import tempfile
import time
import warnings

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import numpy as np  # noqa: E402

import fuzz_families  # noqa: E402
import test_fuzz as fuzz  # noqa: E402


def failure_class(program, exc, outcome=None):
    """(family, outcome, call, message with numbers and names blanked)."""
    message = exc.message
    if exc.outcome in ("wrong", "wrong structure"):
        message = re.sub(r"(srcad|differences|is|value|returns|gives|=) .*", r"\1 ...", message)
    message = re.sub(r"'[^']*'", "'_'", message)
    message = re.sub(r"\d+(\.\d+)?", "N", message)[:100]
    return (program.family, outcome or exc.outcome, exc.check, message)


def refused_as_documented(program, exc):
    """Is the refusal ``exc`` (a test_fuzz.Refused) one README documents, of
    the construct the program makes on the line it points at?"""
    error = exc.__context__                        # the SrcadError srcad raised
    if not isinstance(error, fuzz.srcad.SrcadError):
        return False
    return fuzz_families.documented(program.documented, error.message, error.source_line)


def run_one(workdir, seed, helpers, family, hessian_every=1):
    """(outcome, program, exception or message) of the program of ``seed``;
    hvp/hessian are checked on every ``hessian_every``-th seed (they cost most
    of the time: each is a transformation of generated code)."""
    generator = fuzz.Generator(fuzz.RandomChoices(seed), helpers=helpers,
                               focus=family or fuzz.family_for(seed))
    program = generator.program()
    program.documented = generator.__dict__.get("documented", [])
    checks = fuzz.CHECKS if seed % hessian_every == 0 else fuzz.CHECKS - {"hessian"}
    try:
        module = fuzz.load(workdir, program.text)
        return fuzz.check_program(module, program, seed, checks), program, None
    except fuzz.Skip as why:
        return "skipped", program, str(why)
    except fuzz.Failure as exc:
        if exc.outcome == "refused" and refused_as_documented(program, exc):
            return "refused as documented", program, exc
        return exc.outcome, program, exc
    except AssertionError as exc:                   # the generator's own checks
        return "generator bug", program, str(exc)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="number of programs (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--family", choices=fuzz.FAMILIES, help="only this construct family")
    parser.add_argument("--no-helpers", action="store_true",
                        help="generate no calls into helper functions")
    parser.add_argument("--save", type=pathlib.Path, help="write failing programs to this directory")
    parser.add_argument("--show", action="store_true", help="print every program and its outcome")
    parser.add_argument("--examples", type=int, default=3, help="seeds listed per failure class")
    parser.add_argument("--hessian-every", type=int, default=2, metavar="K",
                        help="check hvp/hessian on every K-th program only (default 2)")
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore")
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="srcad_fuzz_"))
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    helpers = not args.no_helpers

    outcomes = collections.Counter()
    skips = collections.Counter()
    classes = collections.defaultdict(list)        # failure class -> [(seed, message)]
    per_family = collections.defaultdict(collections.Counter)
    features = collections.Counter()
    start = time.perf_counter()
    for seed in range(args.seed, args.seed + args.count):
        with np.errstate(all="ignore"):
            outcome, program, detail = run_one(workdir, seed, helpers, args.family,
                                               args.hessian_every)
        outcomes[outcome] += 1
        per_family[program.family][outcome] += 1
        features.update(program.features)
        if args.show:
            print(f"--- seed {seed} (family {program.family}): {outcome}"
                  + (f": {detail}" if detail else "") + f"\n{program.text}")
            if program.rebind:
                print(f"# then the checker runs:\n# {program.rebind}")
        if outcome == "skipped":
            skips[detail] += 1
            continue
        if isinstance(detail, fuzz.Failure):
            classes[failure_class(program, detail, outcome)].append((seed, str(detail)))
        elif outcome == "generator bug":
            classes[(program.family, outcome, "", detail[:100])].append((seed, detail))
        else:
            continue
        if args.save:
            (args.save / f"seed_{seed}.py").write_text(
                f"# seed {seed}: {outcome}\n# " + str(detail).replace("\n", "\n# ") + "\n"
                + program.text + (f"\n# then: {program.rebind}\n" if program.rebind else ""))
    elapsed = time.perf_counter() - start

    n = args.count
    print(f"srcad fuzz: {n} programs (seeds {args.seed}..{args.seed + n - 1}), "
          f"family {args.family or 'by seed'}, helper calls {'on' if helpers else 'off'}, "
          f"hvp/hessian on every {args.hessian_every}. program, "
          f"{elapsed:.1f} s ({1000 * elapsed / max(n, 1):.0f} ms per program)")
    print(f"  compared, correct:          {outcomes['correct']}")
    print(f"  refused as expected:        {outcomes['refused as expected']}"
          "   (f writes into its input)")
    print(f"  refused as documented:      {outcomes['refused as documented']}"
          f"   ({100 * outcomes['refused as documented'] / max(n, 1):.1f} %: README's refusals, "
          "on the line of the construct, with its message)")
    print(f"  skipped:                    {outcomes['skipped']}")
    for reason, k in skips.most_common():
        print(f"      {k:6d}  {reason}")
    for outcome in fuzz.OUTCOMES:
        print(f"  {outcome + ':':28s}{outcomes[outcome]:5d}  ({100 * outcomes[outcome] / max(n, 1):.1f} %)")
    print("      (refused: every other SrcadError, of constructs README claims)")
    if outcomes["generator bug"]:
        print(f"  generator bugs:             {outcomes['generator bug']}")
    print("  per family (correct / wrong / internal error / modified / refused / structure"
          " / refused as documented / refused as expected):")
    for family in fuzz.FAMILIES:
        c = per_family.get(family)
        if c:
            print(f"      {family:20s} " + " / ".join(
                str(c[k]) for k in ("correct",) + fuzz.OUTCOMES
                + ("refused as documented", "refused as expected")))
    print("  failure classes (family, outcome, call, message):")
    for key, items in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        seeds = ", ".join(str(s) for s, _ in items[:args.examples])
        print(f"    {len(items):5d}  {' | '.join(key)}")
        print(f"           seeds {seeds}: {items[0][1].splitlines()[0][:200]}")
    print("  constructs generated (programs using each): "
          + ", ".join(f"{k} {v}" for k, v in sorted(features.items())))
    bad = sum(outcomes[k] for k in ("wrong", "internal error", "modified", "wrong structure"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
