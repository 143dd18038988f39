"""How the app writes a number, in one place: the sentences (summary.py), the charts'
labels (figures/) and the settings' warnings all write numbers through it, so that a
number reads the same wherever it is shown. Imports nothing but the standard library:
figures may use it and still only draw (tests/test_layering.py).
"""

from __future__ import annotations

import math

MINUS = "\u2212"  # the minus sign, not a hyphen: a browser broke a line after it ("1e-" | "17")
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def number(value: float, digits: int = 2) -> str:
    """A number as a student reads it: 0.14, 3.2, 1e−17 (scientific below 0.01 or above
    1e4); a minus sign, not a hyphen, for negative numbers and exponents alike (a browser
    broke a line after a hyphen: "1e-" | "17")."""
    if not math.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    if 100 <= abs(value) < 1e4:  # 1600, not 1.6e+03
        text = f"{value:.0f}"
    elif 0.01 <= abs(value) < 100:
        text = f"{value:.{digits}g}"
    else:
        mantissa, exponent = f"{value:.{max(digits - 1, 0)}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", MINUS)


def fixed(value: float, decimals: int = 2, signed: bool = False) -> str:
    """A number to `decimals` places, its sign a minus sign as `number` prints it: "−0.09"
    (and "+0.09" when `signed`)."""
    return f"{value:{'+' if signed else ''}.{decimals}f}".replace("-", MINUS)


MAX_DECIMALS = 5  # a number written in decimals beside another takes at most this many places


def decimal_places(value: float, digits: int = 2) -> int | None:
    """How many decimals write `value` in plain decimals as `number` would write it to
    `digits` significant digits (0.039: 3; 1.005 to 3 digits: 0, as "1"; 1.8e−4: 5), for
    numbers written side by side to the same places; None where `number` writes it in
    scientific notation and decimals would take more than MAX_DECIMALS places (3e−5),
    or it is large (2e4) or not a number."""
    if not math.isfinite(value) or abs(value) >= 1e4:
        return None
    if value == 0:
        return 0
    text = number(value, digits).replace(MINUS, "-")
    if "e" in text:  # small: the mantissa's places, shifted by its exponent ("1.8e−4": 1 + 4)
        mantissa, exponent = text.split("e")
        places = len(mantissa.partition(".")[2]) - int(exponent)
        return places if places <= MAX_DECIMALS else None
    return len(text.partition(".")[2])


def percent(share: float) -> str:
    """A share as a whole per cent: "0%" and "100%" only for exactly none and all, "<1%"
    and ">99%" within a per cent of them (a ridge labelled "100%" at 99.8% read as a dead layer beside
    the one that was), "–" for no number."""
    if not math.isfinite(share):
        return "–"
    if share == 0 or share == 1:
        return f"{share:.0%}"
    if share < 0.01 or share > 0.99:  # (0.54% read "1%" beside a headline's "all <1%")
        return "<1%" if share < 0.01 else ">99%"
    return f"{math.floor(100 * share + 0.5)}%"  # halves up: 0.905 read "90%" above a table of 0.905


def outward(value: float, decimals: int, up: bool = True) -> float:
    """`value` rounded up (or down) to `decimals` places, never toward it: a bound stays
    true as printed (variances up to 1.0623 read "up to 1.06"; a change of ×1.105 "no
    more than ×1.1"). (The 1e-9: 1.1 * 100 is 110.00000000000001.)"""
    scale = 10**decimals
    return (math.ceil(value * scale - 1e-9) if up else math.floor(value * scale + 1e-9)) / scale


def plain(value: float) -> str:
    """A setting's bound: 1,000,000, 0.5, 1e−6 (not 1e+06 or 1e-06)."""
    text = f"{value:,.10g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}".replace("-", MINUS)


def power(base: str, exponent: int) -> str:
    """A power as a student reads it, "0.25¹⁹" (not "0.25^19"), in plain text (a metric's
    value cannot hold HTML's <sup>)."""
    return f"{base}{str(exponent).translate(_SUPERSCRIPT)}"
