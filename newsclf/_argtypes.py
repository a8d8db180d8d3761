"""Argument parsing of the command lines (``newsclf`` and ``newsclf-train``):
a parser whose usage errors are one line, and argument types, each refusing
a bad value with that error, saying what was expected and what was given."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage error is one line on stderr (exit
    2): the message, and where to read more -- argparse's own prints the
    whole usage block first."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:") and " -" in message:
            # A text pasted with its bullet ("-عاجل") reads as an option.
            message += "; a text or path that begins with '-' goes after '--' (explain -- -text)"
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def integer(low: int, high: int | None = None, *, what: str = "an integer") -> Callable[[str], int]:
    """A parser of whole numbers ``>= low`` (and ``<= high``)."""
    bound = f">= {low}" if high is None else f"in [{low}, {high}]"

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            n = low - 1
        if n < low or (high is not None and n > high):
            raise argparse.ArgumentTypeError(f"expected {what} {bound}, got {value!r}")
        return n

    return parse


def _float(value: str) -> float:
    """``value`` as a float; NaN, which every bound refuses, when it is not a number."""
    try:
        return float(value)
    except ValueError:
        return math.nan


def fraction(*, upper_open: bool = False, what: str = "a number") -> Callable[[str], float]:
    """A parser of numbers in [0, 1] (or [0, 1) with ``upper_open``)."""
    bound = "[0, 1)" if upper_open else "[0, 1]"

    def parse(value: str) -> float:
        x = _float(value)
        if not (0.0 <= x < 1.0 if upper_open else 0.0 <= x <= 1.0):  # also refuses nan
            raise argparse.ArgumentTypeError(f"expected {what} in {bound}, got {value!r}")
        return x

    return parse


def positive(*, what: str = "a number") -> Callable[[str], float]:
    """A parser of finite numbers > 0."""

    def parse(value: str) -> float:
        x = _float(value)
        if not 0.0 < x < math.inf:  # also refuses nan
            raise argparse.ArgumentTypeError(f"expected {what} > 0, got {value!r}")
        return x

    return parse


def jobs(value: str) -> int:
    """``--jobs``: a positive number of processes, or -1 for every CPU (as ``n_jobs``)."""
    from newsclf._parallel import available_cpus

    try:
        n = int(value)
    except ValueError:
        n = 0
    if n == -1:
        return available_cpus()
    if n < 1:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, or -1 for every CPU, got {value!r}"
        )
    return n
