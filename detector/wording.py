"""Counts in sentences: the noun and verb that agree with the number ("1 person", "its only reply").

Shared by the model's reasons and the daily summary, which both quote counts to people.
"""

from __future__ import annotations


def number(value: float) -> str:
    """'1,234': a count as people write it."""
    return f"{value:,.0f}"


def count(n: float, singular: str, plural: str) -> str:
    """'1 person', '23 people': the number with the noun that agrees with it."""
    return f"{number(n)} {singular if round(n) == 1 else plural}"


def share(k: int, n: int, singular: str = "reply", plural: str = "replies") -> str:
    """'3 of 5 replies', 'all 5 replies', 'both replies', 'its only reply': k of the n counted."""
    if n == 1 and k == 1:
        return f"its only {singular}"
    if k == n == 2:
        return f"both {plural}"
    if k == n:
        return f"all {number(n)} {plural}"
    return f"{number(k)} of {number(n)} {plural}"


def verb(k: int, singular: str, plural: str) -> str:
    """The verb agreeing with :func:`share`'s subject: singular only when it counts one."""
    return singular if k == 1 else plural
