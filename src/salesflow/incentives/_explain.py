"""Plain-language explanations of statement lines, in English and Chinese.

An explanation is rendered from a `Line`'s fields only, so the reference and the batch
engine explain equal lines identically, and a stored statement explains itself again
later. Amounts are formatted with `Money.format` for the locale.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Final, Literal

from salesflow.errors import InvalidValueError
from salesflow.money import EXACT, Money

from ._plan import PLAN_CAP_ID
from ._tables import RATE_PLACES

if TYPE_CHECKING:
    from collections.abc import Callable

    from salesflow.money import RoundingMode

    from ._statement import Line

__all__ = ["Locale", "explain"]

Locale = Literal["en", "zh"]
Locale.__doc__ = """The language of an explanation: ``"en"`` English, ``"zh"`` Chinese."""

_MONEY_LOCALE: Final = {"en": "en", "zh": "zh_CN"}
# Chinese text takes full-width punctuation; escaped so no look-alike hides in the source.
_COLON, _SEMI, _COMMA, _OPEN, _CLOSE = "\uff1a", "\uff1b", "\uff0c", "\uff08", "\uff09"
_CREDIT_ZH: Final = {"direct": "直接", "overlay": "叠加", "override": "上级"}
_CAP_EN: Final = {"per_period": "period cap", "per_year": "yearly cap"}
_CAP_ZH: Final = {"per_period": "每期封顶", "per_year": "年度封顶"}
# The plan cap's lines (no component): their note names the limit with a "plan_" prefix.
_PLAN_CAP: Final = "plan_"
# Thresholds (gates, milestones, curve points) have at most RATE_PLACES decimals of a
# fraction: an attainment floored to that grid is below a threshold exactly when it is.
_PERCENT_STEP: Final = Decimal(1).scaleb(2 - RATE_PLACES)


def explain(line: Line, locale: Locale = "en") -> str:
    """Why ``line`` pays what it pays, in plain words, from its fields only.

    Args:
        line: A statement line.
        locale: ``"en"`` or ``"zh"``.

    Raises:
        InvalidValueError: an unknown locale (code ``incentives.unknown_locale``).

    >>> from salesflow.incentives import Line
    >>> from salesflow.money import Money
    >>> line = Line(kind="adjustment", amount=Money("200.00", "CNY"),
    ...             note="missed deal (Li Lei)")
    >>> explain(line)
    'Manual adjustment: missed deal (Li Lei): CN¥200.00.'
    >>> explain(line, "zh") == "人工调整\uff1amissed deal (Li Lei)\uff1a¥200.00\u3002"
    True
    """
    if locale not in _MONEY_LOCALE:
        msg = f"locale must be 'en' or 'zh', not {locale!r}"
        raise InvalidValueError(msg, code="incentives.unknown_locale")
    return _RENDER[line.kind](line, _Words(locale))


class _Words:
    """Formatting helpers for one locale."""

    __slots__ = ("locale",)

    def __init__(self, locale: Locale) -> None:
        self.locale: Locale = locale

    @property
    def zh(self) -> bool:
        return self.locale == "zh"

    def money(self, value: Money | None) -> str:
        if value is None:
            return "-"
        rounding: RoundingMode | None = None if value.is_on_minor_unit() else "half_even"
        return value.format(_MONEY_LOCALE[self.locale], rounding=rounding)

    def name(self, line: Line) -> str:
        component = line.component or ("计划" if self.zh else "plan")
        return f"\u300c{component}\u300d" if self.zh else f"'{component}'"

    def end(self, text: str) -> str:
        return f"{text}\u3002" if self.zh else f"{text}."

    def sep(self) -> str:
        return _SEMI if self.zh else "; "

    def colon(self) -> str:
        return _COLON if self.zh else ": "


def rate_percent(rate: Decimal) -> str:
    """A rate as a percent, exactly: rates have at most 6 decimals.

    >>> rate_percent(Decimal("0.00125")), rate_percent(Decimal("0.000001"))
    ('0.125%', '0.0001%')
    """
    return f"{_plain(EXACT.multiply(rate, 100))}%"


def attainment_percent(value: Decimal) -> str:
    """An attainment as a percent, never shown on the wrong side of a threshold.

    Exact when it has at most 4 decimals of a percent; else rounded toward negative
    infinity to 4 decimals and marked ``~``. Thresholds have at most 6 decimals of a
    fraction (4 of a percent), so the text reaches a threshold exactly when the
    attainment does.

    >>> attainment_percent(Decimal("0.875")), attainment_percent(Decimal("0.99999995"))
    ('87.5%', '~99.9999%')
    """
    scaled = EXACT.multiply(value, 100)
    shown = scaled.quantize(_PERCENT_STEP, rounding=ROUND_FLOOR, context=EXACT)
    text = f"{_plain(shown)}%"
    return text if shown == scaled else f"~{text}"


def _plain(value: Decimal) -> str:
    """``value`` without trailing zeros or an exponent (``12.50`` -> ``12.5``)."""
    return f"{value.normalize(EXACT):f}"


def _deal(line: Line, w: _Words) -> str:
    day = line.date.isoformat() if line.date else ""
    if w.zh:
        return f"交易 {line.transaction}{_OPEN}{day}{_CLOSE}"
    return f"deal {line.transaction} ({day})"


def _tiers(line: Line, w: _Words) -> str:
    parts = [
        f"第{tier + 1}档 {rate_percent(rate)}"
        if w.zh
        else f"tier {tier + 1} at {rate_percent(rate)}"
        for tier, rate in zip(line.tiers, line.rates, strict=False)
    ]
    joiner = "、" if w.zh else ", "
    return joiner.join(parts)


def _credit(line: Line, w: _Words) -> str:
    kind = line.credit or "direct"
    if w.zh:
        credited = f"{_CREDIT_ZH[kind]}业绩 {w.money(line.basis)}"
        head = f"提成{w.name(line)}{_COLON}{_deal(line, w)}{_COMMA}{credited}"
    else:
        head = f"Commission {w.name(line)}: {_deal(line, w)}, {kind} credit {w.money(line.basis)}"
    parts = [head]
    if line.before is not None and line.basis is not None and not line.before.amount.is_zero():
        after = w.money(line.before + line.basis)
        before = w.money(line.before)
        parts.append(f"累计 {before} → {after}" if w.zh else f"running total {before} -> {after}")
    if line.tiers:
        parts.append(_tiers(line, w))
    if line.capped_from is not None:
        cut = w.money(line.capped_from)
        parts.append(f"单笔封顶{_COMMA}原为 {cut}" if w.zh else f"per-deal cap applied (was {cut})")
    pays = f"本笔提成 {w.money(line.amount)}" if w.zh else f"pays {w.money(line.amount)}"
    parts.append(pays)
    return w.end(w.sep().join(parts))


def _clawback(line: Line, w: _Words) -> str:
    # The line is minus what the deal's line paid: say what moves, without a minus sign.
    back = line.amount.amount > 0
    moved = w.money(line.amount if back else -line.amount)
    if w.zh:
        credit = "" if line.basis is None else f"{_OPEN}业绩 {w.money(line.basis)}{_CLOSE}"
        what = f"退回其所扣 {moved}" if back else f"追回其所得 {moved}"
        return w.end(
            f"追回{w.name(line)}{_COLON}交易 {line.transaction} 于 {line.date} 取消{_COMMA}"
            f"在追回期内{_SEMI}{what}{credit}"
        )
    credit = "" if line.basis is None else f" (credit {w.money(line.basis)})"
    what = f"gives back the {moved} its line took" if back else f"takes back the {moved} it earned"
    return w.end(
        f"Clawback on {w.name(line)}: deal {line.transaction} was cancelled on {line.date}, "
        f"within the clawback window; {what}{credit}"
    )


def _attained(line: Line, w: _Words) -> str:
    if line.attainment is None:
        return ""
    shown = attainment_percent(line.attainment)
    return f"达成率 {shown}" if w.zh else f"attainment {shown}"


def _passed(line: Line) -> bool | None:
    """Whether a gate line's gate passed; ``None`` when the line has no threshold."""
    if line.attainment is None or line.threshold is None:
        return None
    return line.attainment >= line.threshold


def _measured(line: Line, w: _Words) -> str:
    """The attainment and, in brackets, the gate measure it is of."""
    if not line.note:
        return _attained(line, w)
    if w.zh:
        return f"{_attained(line, w)}{_OPEN}{line.note}{_CLOSE}"
    return f"{_attained(line, w)} ({line.note})"


def _gate(line: Line, w: _Words) -> str:
    if line.amount.amount.is_zero():
        return _closed_gate(line, w)
    threshold = "" if line.threshold is None else attainment_percent(line.threshold)
    passed = _passed(line)
    if w.zh:
        verdict = "" if passed is None else f"{'已达到' if passed else '未达到'}门槛 {threshold}"
        head = f"门槛{w.name(line)}{_COLON}{_measured(line, w)}{verdict}"
    else:
        reached = "reaches" if passed else "is below"
        verdict = "" if passed is None else f" {reached} the {threshold} threshold"
        head = f"Gate on {w.name(line)}: {_measured(line, w)}{verdict}"
    return w.end(f"{head}{w.sep()}{_gate_effect(line, w)}")


def _closed_gate(line: Line, w: _Words) -> str:
    """A scorecard's closed gate: a 0 line saying why nothing is paid this period."""
    threshold = "" if line.threshold is None else f" {attainment_percent(line.threshold)}"
    if w.zh:
        return w.end(f"{w.name(line)}本期不发放{_COLON}{_measured(line, w)}未达到门槛{threshold}")
    gate = "its gate" if line.threshold is None else f"its gate of{threshold}"
    return w.end(f"{w.name(line)} pays nothing this period: {_measured(line, w)} is below {gate}")


def _gate_effect(line: Line, w: _Words) -> str:
    """What the gate did to this period's pay ``t`` (the basis): it pays ``t + amount``."""
    t = line.basis if line.basis is not None else Money.zero(line.amount.currency)
    g = t + line.amount
    passed = _passed(line)
    if passed and line.amount.amount > 0:
        released = w.money(line.amount)
        return f"补发此前暂扣的 {released}" if w.zh else f"releases {released} withheld earlier"
    if not passed and g.amount <= 0 <= t.amount:
        # Below the gate this period's pay is held; with a yearly window, what was
        # paid earlier in the year is taken back too.
        parts = []
        if t.amount > 0:
            held = w.money(t)
            parts.append(f"暂扣本期的 {held}" if w.zh else f"withholds this period's {held}")
        if g.amount < 0:
            earlier = w.money(-g)
            parts.append(
                f"收回此前已发的 {earlier}" if w.zh else f"takes back {earlier} paid earlier"
            )
        return (_COMMA if w.zh else " and ").join(parts)
    if w.zh:
        return f"本期实发 {w.money(g)}{_COMMA}而非 {w.money(t)}"
    return f"pays {w.money(g)} this period instead of {w.money(t)}"


def _cap(line: Line, w: _Words) -> str:
    which = line.note or "per_period"
    if which.startswith(_PLAN_CAP):
        return _plan_cap(line, w, which.removeprefix(_PLAN_CAP))
    before = w.money(line.basis)
    what = _cut_or_given_back(line, w)
    if w.zh:
        return w.end(
            f"{_CAP_ZH.get(which, '封顶')}{w.name(line)}{_COLON}封顶前 {before}{_COMMA}{what}"
        )
    return w.end(
        f"{_CAP_EN.get(which, 'cap').capitalize()} on {w.name(line)}: {before} before the cap; "
        f"{what}"
    )


def _plan_cap(line: Line, w: _Words, which: str) -> str:
    """A cut of the plan cap, on the sum of every component's pay (decision D28).

    The yearly line's basis is the period's pay after the plan's period cut, if any.
    """
    before = w.money(line.basis)
    what = _cut_or_given_back(line, w)
    yearly = which == "per_year"
    if w.zh:
        when = "每期封顶后、年度封顶前" if yearly else "封顶前"
        return w.end(
            f"全计划{_CAP_ZH.get(which, '封顶')}{_COLON}各组成部分合计 {before}"
            f"{_OPEN}{when}{_CLOSE}{_COMMA}{what}"
        )
    when = "after any period cut, before the yearly cap" if yearly else "before the cap"
    return w.end(
        f"{_CAP_EN.get(which, 'cap').capitalize()} on the whole plan: {before} across its "
        f"components {when}; {what}"
    )


def _cut_or_given_back(line: Line, w: _Words) -> str:
    """What a cap line does: a cut, or (a yearly cap) part of earlier cuts given back.

    A yearly cap line is positive when what the cap holds back of the pay to date
    shrinks: after a clawback or a negative period, or when the yearly limit went up
    (a higher target incentive, a later version's higher limit). The pay to date may
    still be above the limit, so the text claims only what is true in every case.
    """
    if line.amount.amount <= 0:
        return f"扣减 {w.money(-line.amount)}" if w.zh else f"cut by {w.money(-line.amount)}"
    moved = w.money(line.amount)
    if w.zh:
        return f"年度累计扣减减少{_COMMA}退回此前扣减的 {moved}"
    return f"gives back {moved} cut earlier (the cap now holds back less of the pay to date)"


def _floor(line: Line, w: _Words) -> str:
    before = w.money(line.basis)
    if w.zh:
        return w.end(f"保底{w.name(line)}{_COLON}本期 {before}{_COMMA}补足 {w.money(line.amount)}")
    return w.end(
        f"Floor on {w.name(line)}: {before} this period; topped up by {w.money(line.amount)}"
    )


def _bonus(line: Line, w: _Words) -> str:
    paid = w.money(line.amount)
    if line.transaction is None:
        if w.zh:
            return w.end(f"奖金{w.name(line)}{_COLON}本期有符合条件的交易{_COMMA}发放 {paid}")
        return w.end(f"Bonus {w.name(line)}: a qualifying deal this period; pays {paid}")
    basis = "" if line.basis is None else f" {w.money(line.basis)}"
    if line.amount.amount < 0:
        # A refund (negative credit) of a qualifying deal reverses one bonus (D26).
        back = w.money(-line.amount)
        if w.zh:
            return w.end(
                f"奖金{w.name(line)}{_COLON}{_deal(line, w)}{basis}为退款{_COMMA}冲回 {back}"
            )
        return w.end(f"Bonus {w.name(line)}: {_deal(line, w)}{basis} is a refund; reverses {back}")
    if w.zh:
        return w.end(
            f"奖金{w.name(line)}{_COLON}{_deal(line, w)}{basis}符合条件{_COMMA}发放 {paid}"
        )
    return w.end(f"Bonus {w.name(line)}: {_deal(line, w)}{basis} qualifies; pays {paid}")


def _milestone(line: Line, w: _Words) -> str:
    reached = _attained(line, w)
    value = _value(line, w)
    facts = (_COMMA if w.zh else ", ").join(x for x in (reached, value) if x)
    if w.zh:
        return w.end(
            f"里程碑{w.name(line)}达成{_OPEN}{facts}{_CLOSE}{_COMMA}发放 {w.money(line.amount)}"
        )
    return w.end(f"Milestone {w.name(line)} reached ({facts}); pays {w.money(line.amount)}")


def _scorecard(line: Line, w: _Words) -> str:
    kpi, prorated = line.note or "", ""
    if line.days is not None:  # prorated by days on the plan (decision D31)
        days, of = line.days
        zh = f"{_OPEN}本期 {of} 天中在计划内 {days} 天{_CLOSE}"
        prorated = zh if w.zh else f" ({days} of {of} days on the plan)"
    if w.zh:
        return w.end(
            f"计分卡{w.name(line)} 指标 {kpi}{_COLON}{_attained(line, w)}"
            f"{_COMMA}发放 {w.money(line.amount)}{prorated}"
        )
    return w.end(
        f"Scorecard {w.name(line)}, KPI {kpi}: {_attained(line, w)}; "
        f"pays {w.money(line.amount)}{prorated}"
    )


def _value(line: Line, w: _Words) -> str:
    """A measure value: Money for sum measures (``basis``), a count (``exact``) else."""
    if line.basis is not None:
        return w.money(line.basis)
    return "" if line.exact is None else f"{line.exact:f}"


def _pool(line: Line, w: _Words) -> str:
    team = line.note or ""
    if w.zh:
        return w.end(
            f"团队奖池{w.name(line)}{_OPEN}{team}{_CLOSE}{_COLON}个人贡献 {_value(line, w)}"
            f"{_COMMA}分得 {w.money(line.amount)}"
        )
    return w.end(
        f"Team pool {w.name(line)} ({team}): your contribution {_value(line, w)}; "
        f"your share {w.money(line.amount)}"
    )


def _contest(line: Line, w: _Words) -> str:
    value = _value(line, w)
    # ``tiers``: the prize positions a tie group splits (``ties: share``).
    shared = ""
    if line.tiers:
        first, last = line.tiers[0] + 1, line.tiers[-1] + 1
        shared = (
            f"{_OPEN}并列{_COMMA}平分第 {first} 至 {last} 名的奖金{_CLOSE}"
            if w.zh
            else f" (tied: ranks {first}-{last} share their prizes equally)"
        )
    if w.zh:
        group = f"{_OPEN}{line.note}{_CLOSE}" if line.note else ""
        return w.end(
            f"竞赛{w.name(line)}{group}{_COLON}第 {line.rank} 名 {value}{shared}"
            f"{_COMMA}奖金 {w.money(line.amount)}"
        )
    group = f" ({line.note})" if line.note else ""
    return w.end(
        f"Contest {w.name(line)}{group}: rank {line.rank} with {value}{shared}; "
        f"prize {w.money(line.amount)}"
    )


def _recalculation(line: Line, w: _Words) -> str:
    stated = line.basis
    now = None if stated is None else stated + line.amount
    # What the plan cap cut is recorded under a reserved id, not a component (D29).
    plan_cap = line.component == PLAN_CAP_ID
    if w.zh:
        subject = "全计划封顶" if plan_cap else w.name(line)
        return w.end(
            f"重算{subject} {line.period}{_COLON}原结算 {w.money(stated)}{_COMMA}"
            f"重算为 {w.money(now)}{_COMMA}差额 {w.money(line.amount)}"
        )
    subject = "the plan cap" if plan_cap else w.name(line)
    return w.end(
        f"Recalculation of {subject} for {line.period}: stated {w.money(stated)}, "
        f"now {w.money(now)}; difference {w.money(line.amount)}"
    )


def _adjustment(line: Line, w: _Words) -> str:
    target = "" if line.component is None else f" {w.name(line)}"
    if w.zh:
        return w.end(f"人工调整{target}{_COLON}{line.note}{_COLON}{w.money(line.amount)}")
    return w.end(f"Manual adjustment{target}: {line.note}: {w.money(line.amount)}")


_DRAW_EN: Final = {
    "recoverable": ", owed back from later pay above the draw",
    "non_recoverable": " (a guarantee: never taken back)",
}
_DRAW_ZH: Final = {
    "recoverable": f"{_COMMA}日后从超出预支额的收入中收回",
    "non_recoverable": f"{_COMMA}为保底收入{_COMMA}不予收回",
}


def _draw(line: Line, w: _Words) -> str:
    paid = w.money(line.amount)
    if w.zh:
        owed = _DRAW_ZH.get(line.note or "", "")
        return w.end(f"预支{_COLON}本期收入低于预支额{_COMMA}补足 {paid}{owed}")
    owed = _DRAW_EN.get(line.note or "", "")
    return w.end(f"Draw: pay this period is below the draw; tops it up by {paid}{owed}")


def _recovery(line: Line, w: _Words) -> str:
    if w.zh:
        return w.end(f"预支回收{_COLON}从超出预支额的收入中收回此前预支 {w.money(-line.amount)}")
    return w.end(
        f"Draw recovery: takes back {w.money(-line.amount)} of draws advanced earlier "
        "from pay above the draw"
    )


_RENDER: Final[dict[str, Callable[[Line, _Words], str]]] = {
    "credit": _credit,
    "clawback": _clawback,
    "gate": _gate,
    "cap": _cap,
    "floor": _floor,
    "bonus": _bonus,
    "milestone": _milestone,
    "scorecard": _scorecard,
    "pool": _pool,
    "contest": _contest,
    "recalculation": _recalculation,
    "adjustment": _adjustment,
    "draw": _draw,
    "draw_recovery": _recovery,
}
