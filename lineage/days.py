"""Date arithmetic at the ends of the calendar.

Python's dates run from 0001-01-01 to 9999-12-31 and `date + timedelta` past either end raises
OverflowError. A notice deadline after 9999-12-31, or a chart margin before year 1, is not an
error in the question but the edge of what a date can say, so these saturate at the ends.
"""

from __future__ import annotations

from datetime import date, timedelta


def add_days(day: date, days: int) -> date:
    """`day` plus `days` (negative: minus), held at date.min and date.max.

    >>> add_days(date(9999, 12, 30), 30), add_days(date(2024, 1, 1), -1)
    (datetime.date(9999, 12, 31), datetime.date(2023, 12, 31))
    """
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min
