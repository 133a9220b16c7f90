"""What a [[checks]] entry expects of its query's result: `== 0`, `> 100`, `between 1 and 50`, `>= baseline`.

    expect   := OP operand | "between" number "and" number
    OP       := == | != | > | >= | < | <=
    operand  := number | 'text' | "text" | true | false | baseline

A number compares as a number (exactly: 0.1 is the decimal 0.1), text as text,
true/false as a boolean; `baseline` is the value phase 0 recorded for the
check. A value that cannot be compared with the operand (text with a number,
NULL) does not satisfy the expectation, and says why.
"""

from __future__ import annotations

import datetime as dt
import decimal
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
BASELINE = "baseline"
BETWEEN = re.compile(r"^between\s+(?P<low>\S+)\s+and\s+(?P<high>\S+)$", re.IGNORECASE)
COMPARE = re.compile(r"^(?P<op>==|!=|>=|<=|>|<)\s*(?P<operand>[^=<>!].*)$")
GRAMMAR = "== x, != x, > x, >= x, < x, <= x (x a number, a 'quoted string', true, false or baseline), or between a and b"


class Baseline:
    """The `baseline` operand: the value phase 0 recorded for the check."""

    def __repr__(self) -> str:
        return BASELINE


BASELINE_OPERAND = Baseline()


def _operand(text: str) -> Any:
    """A literal of the grammar as a Python value (Decimal, str, bool) or the baseline marker."""
    text = text.strip()
    if text.lower() == BASELINE:
        return BASELINE_OPERAND
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        return Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(f"{text!r} is not a number, a 'quoted string', true, false or baseline") from None


def comparable(value: Any) -> Any:
    """A query's value as the grammar compares it: numbers as Decimal, booleans and text as they are, others as text."""
    if value is None or isinstance(value, bool | str | Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def plain(value: Any) -> Any:
    """A query's value as JSON keeps it (evidence, figures, the baseline): exact numbers stay exact."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def shown(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(plain(value))


@dataclass(frozen=True)
class Expectation:
    text: str
    op: str  # one of OPERATORS, or "between"
    operands: tuple[Any, ...]

    @property
    def uses_baseline(self) -> bool:
        return any(o is BASELINE_OPERAND for o in self.operands)

    def holds(self, value: Any, baseline: Any = None) -> tuple[bool, str]:
        """(does the value satisfy it, why not when it does not)."""
        got = comparable(value)
        if got is None:
            return False, "the query returned NULL"
        bounds = [comparable(baseline) if o is BASELINE_OPERAND else o for o in self.operands]
        if any(b is None for b in bounds):
            return False, "the baseline holds NULL"
        try:
            if self.op == "between":
                return bounds[0] <= got <= bounds[1], ""
            return OPERATORS[self.op](got, bounds[0]), ""
        except TypeError:
            return False, f"{shown(value)} cannot be compared with {self.text!r} ({type(got).__name__} and {type(bounds[0]).__name__})"


def parse(text: str) -> Expectation:
    """The expectation written in deploy.toml; ValueError (naming the grammar) when it is not one."""
    stripped = " ".join(text.split())
    between = BETWEEN.match(stripped)
    if between:
        try:
            low, high = _operand(between.group("low")), _operand(between.group("high"))
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None
        if not all(isinstance(v, Decimal) for v in (low, high)):
            raise ValueError(f"{text!r}: between takes two numbers")
        if low > high:
            raise ValueError(f"{text!r}: the lower bound is above the upper one")
        return Expectation(stripped, "between", (low, high))
    compare = COMPARE.match(stripped)
    if not compare:
        raise ValueError(f"{text!r} is not an expectation; write {GRAMMAR}")
    try:
        operand = _operand(compare.group("operand"))
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    return Expectation(stripped, compare.group("op"), (operand,))
