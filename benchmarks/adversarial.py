"""Normalization and classification time on adversarial input: linear, not worse.

    uv run python benchmarks/adversarial.py

For each shape of text that once made a regex backtrack (a long run of word
characters before "@", dotted runs, digit runs, "www." runs, glued words,
one huge token), times ``newsclf.normalize`` and ``Classifier.predict`` at
25k, 50k, 100k and 200k characters (best of 3) and writes
``benchmarks/ADVERSARIAL.md``: the time per character should stay flat as
the length doubles.  A budget (2 µs per character for normalize, i.e. 0.4 s
for 200k) flags any shape that breaks it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import newsclf

ROOT = Path(__file__).resolve().parent.parent
SIZES = (25_000, 50_000, 100_000, 200_000)
BUDGET_S_PER_CHAR = 2e-6

SHAPES: dict[str, Callable[[int], str]] = {
    "latin run + @": lambda n: "a" * n + "@",
    "arabic run + @": lambda n: "ب" * n + "@",
    "@ + run": lambda n: "a@" + "b" * n,
    "dotted run + @": lambda n: "a." * (n // 2) + "@",
    "www. + dotted run": lambda n: "www." + "a." * (n // 2),
    "digit run + letter": lambda n: "1" * n + "x",
    "digits and spaces": lambda n: "1 " * (n // 2),
    "@ run": lambda n: "@" * n,
    "glued teh marbuta": lambda n: "ةب" * (n // 2),
    "alef-al run": lambda n: "بااال" * (n // 5),
    "one huge token": lambda n: "جيش" * (n // 3),
}


def best(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    import argparse

    # No options: this makes --help (or a typo) say so instead of running it.
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    clf = newsclf.load()
    lines = [
        "# Adversarial input: time per character as the length doubles",
        "",
        f"Date: {dt.date.today().isoformat()}.  Reproduce: "
        "`uv run python benchmarks/adversarial.py`.  Best of 3; µs per character for "
        "`newsclf.normalize` / `clf.predict([text])` at each length.  Budget: "
        f"{BUDGET_S_PER_CHAR * 1e6:.0f} µs per character for normalize.",
        "",
        "| shape | " + " | ".join(f"{n // 1000}k" for n in SIZES) + " | within budget |",
        "|---|" + "---:|" * len(SIZES) + "---|",
    ]
    worst = 0.0
    for name, make in SHAPES.items():
        cells, ok = [], True
        for n in SIZES:
            text = make(n)
            norm = best(lambda t=text: newsclf.normalize(t))
            pred = best(lambda t=text: clf.predict([t]))
            ok &= norm <= BUDGET_S_PER_CHAR * len(text)
            worst = max(worst, norm / len(text))
            cells.append(f"{norm / len(text) * 1e6:.2f} / {pred / len(text) * 1e6:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {'yes' if ok else '**no**'} |")
        print(lines[-1], flush=True)
    lines += ["", f"Worst normalize time per character: {worst * 1e6:.2f} µs.", ""]
    (ROOT / "benchmarks" / "ADVERSARIAL.md").write_text("\n".join(lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
