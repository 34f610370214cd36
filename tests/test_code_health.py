"""No function in leadthe/ is more complex than MAX_COMPLEXITY (McCabe's cyclomatic complexity, as radon
measures it), and the check is not vacuous."""
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class

MAX_COMPLEXITY = 15
PACKAGE = Path(__file__).resolve().parent.parent / "leadthe"
# Declaration tables (long literal lists of rules or rows, whose branches are data rather than logic) may
# stand above the limit; each entry names the function as "path:name" and says why. None today.
ALLOWED: dict[str, str] = {}


def _functions(blocks):
    """Every function and method (radon's blocks hold both, and the classes) with their nested functions."""
    for block in blocks:
        if not isinstance(block, Class):
            yield block
            yield from _functions(block.closures)


def too_complex(code: str, where: str, limit: int = MAX_COMPLEXITY) -> list[str]:
    return [f"{where}:{f.lineno} {f.fullname} ({f.complexity})" for f in _functions(cc_visit(code))
            if f.complexity > limit and f"{where}:{f.fullname}" not in ALLOWED]


def test_no_function_above_the_complexity_limit():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += too_complex(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))
    assert found == [], f"functions above complexity {MAX_COMPLEXITY} (split them into helpers):\n" + "\n".join(found)


def test_the_check_catches_a_complex_function_method_and_closure():
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(MAX_COMPLEXITY))
    code = (f"def flat(x):\n{branches}"
            f"class K:\n    def method(self, x):\n" + branches.replace("\n    ", "\n        ").replace("    if", "        if", 1)
            + f"def outer():\n    def inner(x):\n" + branches.replace("\n    ", "\n        ").replace("    if", "        if", 1)
            + "    return inner\n")
    found = too_complex(code, "sample.py")
    assert sorted(line.split(" ")[1] for line in found) == ["K.method", "flat", "inner"], found
    assert too_complex(code, "sample.py", limit=MAX_COMPLEXITY + 1) == []
