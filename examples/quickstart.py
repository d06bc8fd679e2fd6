"""srcad in one minute: differentiate a function, read the gradient code, check it.

Run:  python examples/quickstart.py
"""

import pathlib
import sys

try:
    import srcad
except ImportError:                      # running from a checkout without installing
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    import srcad


def f(x, y, z):
    p = x + y
    g = p * z
    return g


# srcad reads f's source and writes its gradient as plain Python.
df = srcad.grad(f, wrt=(0, 1, 2))

print("The generated gradient of f, as srcad wrote it:\n")
print(df.source)

# It is an ordinary function with f's parameters; it returns one gradient per wrt.
dx, dy, dz = df(1.0, 3.0, -3.0)
print(f"At x=1, y=3, z=-3:  f = {f(1.0, 3.0, -3.0)}")
print(f"  dg/dx = {dx}   (expected z = -3)")
print(f"  dg/dy = {dy}   (expected z = -3)")
print(f"  dg/dz = {dz}   (expected x + y = 4)")
assert (dx, dy, dz) == (-3.0, -3.0, 4.0)

# check_grad compares srcad with central finite differences and raises
# srcad.GradientCheckError with a readable report if they disagree.
errors = srcad.check_grad(f, 1.0, 3.0, -3.0, wrt=(0, 1, 2))
print("\ncheck_grad against finite differences, largest error per parameter:")
for name, err in errors.items():
    print(f"  {name}: {err:.1e}")
