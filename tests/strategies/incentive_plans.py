"""Hypothesis strategies for whole incentive runs: plans (with versions), transactions,
assignments, quotas, KPIs, an org, exchange rates and adjustments.

`scenarios()` draws everything `salesflow.incentives.calculate` takes, small enough for
the reference engine, with every mechanic of the spec reachable: commissions
(marginal/retroactive tiers, individual/cumulative, period/year windows, amount and
attainment tables, gates, caps of each kind, floors, clawbacks), bonuses per
transaction and per period, milestones, scorecards, pools, contests, a cap on the
whole plan (per period, per year, on target incentive; each version its own or
none), draws, override credit over a small org that changes mid-year, splits with
overlays, a foreign currency, two plan versions, payees joining and leaving or changing
target incentive mid-period, target incentive prorated by days or not. Refunds
(a later negative copy of a deal) reach per-deal caps, count measures and bonuses;
"clawed" commissions (a clawback with a gate, period cap, floor or per-deal cap) meet
cancellations in a later window; an external measure with quotas is a gate or milestone measure.
Leavers' deals are clawed back after they left, past a yearly cap; a leaver's quotas
after leaving are sometimes not given (decision D3).
Inputs are valid: error cases are built by the tests themselves from a valid scenario.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from hypothesis import strategies as st

from salesflow.incentives import Adjustment, Assignment, Plan, Split, Transaction
from salesflow.money import Money
from salesflow.targets import OrgTree

from .incentives import rate_tables, rounding_modes

if TYPE_CHECKING:
    from collections.abc import Sequence

    from salesflow.periods import Period

YEAR = 2027
CURRENCY = "CNY"
REPS = ("ann", "bo", "cy", "dee")
MANAGERS = ("mgr", "vp")
TEAMS = ("east", "west")
FX = {"USD": Decimal("7.1325")}
START = dt.date(YEAR, 1, 1)
END = dt.date(YEAR, 12, 31)
FIELDS = {"product": "string", "region": "string?", "new_logo": "bool"}
FILTERS = (
    None,
    'product == "saas"',
    "amount >= 300",
    'credit != "overlay"',
    'region == "east" || new_logo',
    'payee != "bo"',
)
GATE_MEASURES = ("sales", "deals", "nps")


@dataclass
class Scenario:
    """Everything one run takes, plus which transactions are known at which step."""

    plans: list[Plan]
    transactions: list[Transaction]
    known_from: list[int]  # the statement period index from which a transaction is known
    assignments: list[Assignment]
    quotas: dict[str, dict[tuple[str, str], Any]]
    kpis: dict[str, dict[tuple[str, str], Decimal]]
    org: OrgTree
    adjustments: list[Adjustment]
    period: int  # the statement period's index
    labels: list[str] = field(default_factory=list)

    def arguments(self, step: int | None = None) -> dict[str, Any]:
        """The keyword arguments of `calculate` (transactions known at ``step``)."""
        known = self.period if step is None else step
        return {
            "plan": self.plans if len(self.plans) > 1 else self.plans[0],
            "transactions": [
                t for t, k in zip(self.transactions, self.known_from, strict=True) if k <= known
            ],
            "assignments": self.assignments,
            "period": self.labels[known],
            "quotas": self.quotas,
            "kpis": self.kpis,
            "org": self.org,
            "fx": FX,
            "adjustments": self.adjustments,
        }


def _money(cents: int) -> str:
    return str(Decimal(cents).scaleb(-2))


def _curve(draw: st.DrawFn) -> list[dict[str, str]]:
    count = draw(st.integers(1, 3))
    edges = sorted(draw(st.sets(st.integers(0, 150), min_size=count, max_size=count)))
    payouts = sorted(draw(st.lists(st.integers(0, 200), min_size=count, max_size=count)))
    return [
        {"attainment": str(Decimal(a).scaleb(-2)), "payout": str(Decimal(p).scaleb(-2))}
        for a, p in zip(edges, payouts, strict=True)
    ]


@st.composite
def _commission(draw: st.DrawFn, cid: str) -> dict[str, Any]:
    basis = draw(st.sampled_from(["amount", "attainment"]))
    table = draw(rate_tables(basis=basis))
    component: dict[str, Any] = {
        "kind": "commission",
        "id": cid,
        "measure": "sales",
        "table": table.model_dump(mode="json"),
        "rating": draw(st.sampled_from(["individual", "cumulative"])),
        "accumulate": draw(st.sampled_from(["period", "year"])),
    }
    if draw(st.booleans()):
        component["gate"] = {
            "measure": draw(st.sampled_from(GATE_MEASURES)),
            "attainment": str(Decimal(draw(st.integers(0, 120))).scaleb(-2)),
        }
    cap = {
        name: _money(draw(st.integers(0, 400_000)))
        for name in ("per_transaction", "per_period", "per_year")
        if draw(st.integers(0, 3)) == 0
    }
    if draw(st.integers(0, 3)) == 0:
        cap["target_incentive_multiple"] = str(Decimal(draw(st.integers(0, 300))).scaleb(-2))
    if cap:
        component["cap"] = cap
    if draw(st.integers(0, 3)) == 0:
        # A floor above the period cap is refused (the cap would never bind).
        ceiling = int(Decimal(cap.get("per_period", "500")) * 100)
        component["floor"] = {"per_period": _money(draw(st.integers(0, min(50_000, ceiling))))}
    if draw(st.booleans()):
        component["clawback"] = {"within_days": draw(st.integers(0, 90))}
    return component


@st.composite
def _clawed(draw: st.DrawFn, cid: str) -> dict[str, Any]:
    """A commission with a clawback and one or more period limits (decisions D24, D25).

    Cancellations often land in a later window than the deal (a period window), where
    the gate, period cap and floor must leave the clawback alone.
    """
    component = draw(_commission(cid))
    component["accumulate"] = draw(st.sampled_from(["period", "period", "year"]))
    component["clawback"] = {"within_days": draw(st.integers(20, 120))}
    limits = draw(
        st.sets(st.sampled_from(["gate", "per_transaction", "per_period", "floor"]), min_size=1)
    )
    if "gate" in limits:
        component["gate"] = {
            "measure": draw(st.sampled_from(GATE_MEASURES)),
            "attainment": str(Decimal(draw(st.integers(0, 120))).scaleb(-2)),
        }
    cap = dict(component.get("cap", {}))
    for name in ("per_transaction", "per_period"):
        if name in limits:
            # Often small, so that a refund's negative line meets the per-deal cap.
            cap[name] = _money(draw(st.integers(0, 20_000) | st.integers(0, 300_000)))
    if cap:
        component["cap"] = cap
    if "floor" in limits:
        ceiling = int(Decimal(cap.get("per_period", "5000")) * 100)
        component["floor"] = {"per_period": _money(draw(st.integers(0, min(50_000, ceiling))))}
    elif "floor" in component:
        ceiling = int(Decimal(cap.get("per_period", "5000")) * 100)
        floor = min(int(Decimal(component["floor"]["per_period"]) * 100), ceiling)
        component["floor"] = {"per_period": _money(floor)}
    return component


@st.composite
def _bonus(draw: st.DrawFn, cid: str) -> dict[str, Any]:
    per = draw(st.sampled_from(["transaction", "period"]))
    component: dict[str, Any] = {
        "kind": "bonus",
        "id": cid,
        "measure": draw(st.sampled_from(["sales", "deals"])),
        "amount": _money(draw(st.integers(0, 50_000))),
        "per": per,
    }
    if draw(st.booleans()):
        component["when"] = draw(st.sampled_from(FILTERS[1:]))
    if draw(st.booleans()):
        first = draw(st.integers(0, 300))
        component["start"] = (START + dt.timedelta(days=first)).isoformat()
        component["end"] = (START + dt.timedelta(days=first + draw(st.integers(0, 64)))).isoformat()
    if per == "transaction" and draw(st.booleans()):
        component["clawback"] = {"within_days": draw(st.integers(0, 90))}
    return component


@st.composite
def _milestone(draw: st.DrawFn, cid: str) -> dict[str, Any]:
    measure = draw(st.sampled_from(["sales", "deals", "nps"]))
    component: dict[str, Any] = {
        "kind": "milestone",
        "id": cid,
        "measure": measure,
        "amount": _money(draw(st.integers(0, 100_000))),
        "accumulate": draw(st.sampled_from(["period", "year"])),
    }
    if draw(st.booleans()):
        # An external measure's attainment is its period value over the period quota.
        component["attainment"] = str(Decimal(draw(st.integers(0, 150))).scaleb(-2))
    elif measure == "sales":
        component["value"] = _money(draw(st.integers(0, 1_000_000)))
    else:
        component["value"] = str(draw(st.integers(0, 8)))
    return component


@st.composite
def _scorecard(draw: st.DrawFn, cid: str) -> dict[str, Any]:
    measures = draw(st.lists(st.sampled_from(["sales", "deals", "nps"]), min_size=1, max_size=3))
    weights = (
        ["1"]
        if len(measures) == 1
        else ["0.5", "0.5"]
        if len(measures) == 2
        else ["0.2", "0.3", "0.5"]
    )
    component: dict[str, Any] = {
        "kind": "scorecard",
        "id": cid,
        "target_incentive": str(Decimal(draw(st.integers(1, 100))).scaleb(-2)),
        "kpis": [
            {"measure": m, "weight": w, "curve": _curve(draw)}
            for m, w in zip(measures, weights, strict=True)
        ],
    }
    if draw(st.booleans()):
        component["gate"] = {
            "measure": draw(st.sampled_from(GATE_MEASURES)),
            "attainment": str(Decimal(draw(st.integers(0, 100))).scaleb(-2)),
        }
    return component


@st.composite
def _pool(draw: st.DrawFn, cid: str) -> dict[str, Any]:
    component: dict[str, Any] = {
        "kind": "pool",
        "id": cid,
        "group_by": "team",
        "measure": draw(st.sampled_from(["sales", "deals"])),
        "split": draw(st.sampled_from(["contribution", "equal"])),
    }
    if draw(st.booleans()):
        component["rate"] = str(Decimal(draw(st.integers(0, 100_000))).scaleb(-6))
    else:
        component["amount"] = _money(draw(st.integers(0, 100_000)))
    return component


@st.composite
def _contest(draw: st.DrawFn, cid: str) -> dict[str, Any]:
    prizes = draw(st.lists(st.integers(0, 100_000), min_size=1, max_size=3))
    component: dict[str, Any] = {
        "kind": "contest",
        "id": cid,
        "measure": draw(st.sampled_from(["sales", "deals", "nps"])),
        "prizes": [_money(p) for p in prizes],
        "ties": draw(st.sampled_from(["share", "same"])),
        "accumulate": draw(st.sampled_from(["period", "year"])),
    }
    if draw(st.booleans()):
        component["group_by"] = "team"
    if draw(st.booleans()):
        component["minimum"] = str(draw(st.integers(0, 3)))
    return component


@st.composite
def _plan_cap(draw: st.DrawFn, *, yearly: bool = False) -> dict[str, Any]:
    """A cap on the whole plan (decision D28): often small enough to bind.

    ``yearly``: always a small ``per_year``, so that a clawback after a cut brings the
    year back under it (a positive plan cap line).
    """
    cap = {
        name: _money(draw(st.integers(0, 60_000) | st.integers(0, 1_000_000)))
        for name in ("per_period", "per_year")
        if draw(st.booleans())
    }
    if draw(st.integers(0, 2)) == 0:
        cap["target_incentive_multiple"] = str(Decimal(draw(st.integers(0, 300))).scaleb(-2))
    if yearly or not cap:  # a cap with no limit is refused (plan.empty_cap)
        cap["per_year"] = _money(draw(st.integers(0, 200_000) | st.integers(0, 3_000_000)))
    return cap


# A commission that pays every deal of its owner (10%, no gate, cap or floor) and claws
# back a cancellation within 120 days: in capped plans, what carries a big deal's pay
# past the plan's yearly cap and its refund or cancellation back under it.
_GIVEN_BACK: Final = {
    "kind": "commission",
    "measure": "booked",
    "table": {"tiers": [{"start": 0, "rate": "0.1"}]},
    "rating": "individual",
    "accumulate": "period",
    "clawback": {"within_days": 120},
}

_COMPONENTS = {
    "commission": _commission,
    "clawed": _clawed,
    "bonus": _bonus,
    "milestone": _milestone,
    "scorecard": _scorecard,
    "pool": _pool,
    "contest": _contest,
}


@st.composite
def plan_data(
    draw: st.DrawFn, kinds: tuple[str, ...] | None = None, *, capped: bool = False
) -> dict[str, Any]:
    """One plan version as data (components of the given kinds, or drawn).

    ``capped``: always a plan cap with a small ``per_year``.
    """
    chosen = kinds or tuple(
        draw(st.lists(st.sampled_from(sorted(_COMPONENTS)), min_size=1, max_size=3))
    )
    components = [draw(_COMPONENTS[kind](f"{kind}{i}")) for i, kind in enumerate(chosen)]
    sales: dict[str, Any] = {
        "credit": draw(
            st.sampled_from(
                [
                    ["direct"],
                    ["direct", "overlay"],
                    ["direct", "override"],
                    ["direct", "overlay", "override"],
                    ["override"],
                ]
            )
        ),
        "quota": True,
    }
    where = draw(st.sampled_from(FILTERS))
    if where is not None:
        sales["where"] = where
    data: dict[str, Any] = {
        "id": "ae",
        "currency": CURRENCY,
        "fiscal_year": YEAR,
        "period": draw(st.sampled_from(["month", "month", "quarter"])),
        "rounding": draw(rounding_modes),
        # Target incentive by days on the plan, or not (D31): joiners, leavers and
        # target-incentive changes mid-period make the two differ.
        "proration": draw(st.sampled_from(["none", "days"])),
        "fields": FIELDS,
        "crediting": {"override_levels": draw(st.sampled_from([0, 0, 1, None]))},
        "measures": {
            "sales": sales,
            "deals": {"aggregate": "count", "quota": True},
            "nps": {"aggregate": "external", "quota": True},
        },
        "components": components,
    }
    if capped or draw(st.integers(0, 2)) == 0:
        data["cap"] = draw(_plan_cap(yearly=capped))
    if capped:
        # In every capped version: a second version may take the first's components.
        data["measures"]["booked"] = {}
        if draw(st.integers(0, 3)) > 0:
            given_back: dict[str, Any] = {**_GIVEN_BACK, "id": f"booked{len(components)}"}
            if draw(st.booleans()):
                # Its own yearly cap too: a clawback after leaving must give its cut back.
                given_back["cap"] = draw(
                    st.sampled_from(
                        [
                            {"per_year": _money(draw(st.integers(0, 200_000)))},
                            {"target_incentive_multiple": "0.01"},
                        ]
                    )
                )
            if draw(st.integers(0, 2)) == 0:
                # A yearly gate, whose outcome a leaver keeps (decision D3).
                gate = str(Decimal(draw(st.integers(0, 150))).scaleb(-2))
                given_back |= {
                    "accumulate": "year",
                    "gate": {"measure": "deals", "attainment": gate},
                }
            data["components"].append(given_back)
    if draw(st.integers(0, 3)) == 0:
        data["draw"] = {
            "amount": _money(draw(st.integers(0, 300_000))),
            "recoverable": draw(st.booleans()),
        }
    return data


@st.composite
def plan_versions(
    draw: st.DrawFn, kinds: tuple[str, ...] | None = None, *, capped: bool = False
) -> list[Plan]:
    """One plan, or two versions split mid-year (possibly with a gap between them)."""
    first = draw(plan_data(kinds, capped=capped))
    if draw(st.booleans()):
        return [Plan.model_validate(first)]
    second = draw(plan_data(kinds, capped=capped))
    for name in ("period", "rounding", "proration"):
        second[name] = first[name]
    cut = START + dt.timedelta(days=draw(st.integers(20, 330)))
    gap = draw(st.sampled_from([0, 0, 0, 10]))
    first["effective_to"] = (cut - dt.timedelta(days=1)).isoformat()
    second["effective_from"] = (cut + dt.timedelta(days=gap)).isoformat()
    if draw(st.booleans()):
        # The second version keeps the first's components (changed rates and caps are
        # what a mid-year change usually is); else it has its own.
        second["components"] = [
            {
                **c,
                **(
                    {"table": draw(_commission(c["id"]))["table"]}
                    if c["kind"] == "commission" and c["measure"] == "sales"
                    else {}
                ),
            }
            for c in first["components"]
        ]
    return [Plan.model_validate(first), Plan.model_validate(second)]


def org() -> OrgTree:
    """vp > mgr > (ann, bo); vp > cy; bo moves under vp on June 1st; dee is in no org."""
    return OrgTree.from_records(
        [
            {"id": "vp"},
            {"id": "mgr", "parent": "vp"},
            {"id": "ann", "parent": "mgr"},
            {"id": "bo", "parent": "mgr", "end": "2027-05-31"},
            {"id": "bo", "parent": "vp", "start": "2027-06-01"},
            {"id": "cy", "parent": "vp"},
        ]
    )


@st.composite
def _assignments(draw: st.DrawFn) -> list[Assignment]:
    people = [*REPS, *MANAGERS]
    chosen = draw(st.lists(st.sampled_from(people), min_size=1, max_size=len(people), unique=True))
    result: list[Assignment] = []
    for payee in chosen:
        team = draw(st.sampled_from(TEAMS))
        target = Money(_money(draw(st.integers(0, 20_000_000))), CURRENCY)
        shape = draw(st.sampled_from(["always", "always", "joins", "leaves", "break", "raise"]))
        joins = START + dt.timedelta(days=draw(st.integers(1, 300)))
        targets = [target, target]
        if shape == "always":
            spans = [(None, None)]
        elif shape == "joins":
            spans = [(joins, None)]
        elif shape == "leaves":
            spans = [(None, joins)]
        elif shape == "raise":
            # A new target incentive from the next day on (mid-period, mostly).
            spans = [(None, joins), (joins + dt.timedelta(days=1), None)]
            targets[1] = Money(_money(draw(st.integers(0, 20_000_000))), CURRENCY)
        else:
            back = joins + dt.timedelta(days=draw(st.integers(1, 60)))
            spans = [(None, joins), (back, None)]
        attributes = {"team": team}
        result += [
            Assignment(payee, "ae", a, b, target_incentive=ti, attributes=attributes)
            for (a, b), ti in zip(spans, targets, strict=False)
        ]
    return result


@st.composite
def _transaction(
    draw: st.DrawFn, index: int, period: tuple[dt.date, dt.date]
) -> tuple[Transaction, int]:
    # Mostly in the statement period or before it; a few outside the year or after it.
    first, last = ((d - START).days for d in period)
    days = st.integers(first, last) | st.integers(0, last) | st.integers(-20, 370)
    day = START + dt.timedelta(days=draw(days))
    foreign = draw(st.integers(0, 5)) == 0
    cents = draw(st.integers(-50_000, 1_000_000) | st.sampled_from([0, 1, 99, 100_000]))
    amount = Money(_money(cents), "USD" if foreign else CURRENCY)
    owner = draw(st.sampled_from([*REPS, *MANAGERS, "zed"]))
    splits: tuple[Split, ...] = ()
    if draw(st.integers(0, 3)) == 0:
        holders = draw(st.lists(st.sampled_from(REPS), min_size=1, max_size=3, unique=True))
        shares = {1: ["1"], 2: ["0.6", "0.4"], 3: ["0.3", "0.3", "0.4"]}[len(holders)]
        splits = tuple(Split(p, Decimal(s)) for p, s in zip(holders, shares, strict=True))
        if draw(st.booleans()):
            extra = draw(st.sampled_from([p for p in (*REPS, *MANAGERS) if p not in holders]))
            splits += (
                Split(extra, Decimal(draw(st.sampled_from(["0.1", "0.25", "1"]))), overlay=True),
            )
    cancelled = None
    if draw(st.integers(0, 3)) == 0:
        cancelled = day + dt.timedelta(days=draw(st.integers(0, 120)))
    fields = {
        "product": draw(st.sampled_from(["saas", "services"])),
        "new_logo": draw(st.booleans()),
    }
    if draw(st.booleans()):
        fields["region"] = draw(st.sampled_from(["east", "west"]))
    transaction = Transaction(f"t{index}", day, amount, owner, fields, splits, cancelled)
    return transaction, draw(st.sampled_from([0, 0, 0, 1, 2, 4]))


@st.composite
def _refund(
    draw: st.DrawFn, index: int, deals: list[tuple[Transaction, int]]
) -> tuple[Transaction, int]:
    """A refund of an earlier deal: its negative, same holders and fields, a bit later.

    Known no earlier than the deal it refunds.
    """
    original, known = draw(st.sampled_from(deals))
    later = original.date + dt.timedelta(days=draw(st.integers(0, 100)))
    cancelled = None
    if draw(st.integers(0, 5)) == 0:
        cancelled = later + dt.timedelta(days=draw(st.integers(0, 60)))
    refund = Transaction(
        f"r{index}",
        later,
        -original.amount,
        original.owner,
        original.fields,
        original.splits,
        cancelled,
    )
    return refund, max(known, draw(st.sampled_from([0, 0, 1, 2])))


@st.composite
def _cut_then_given_back(
    draw: st.DrawFn, periods: Sequence[Period], period: int, assignments: list[Assignment]
) -> tuple[list[tuple[Transaction, int]], list[Assignment]]:
    """A big deal shortly before the statement period, taken back in it (decision D28).

    Under a capped plan's small ``per_year`` the deal's pay (through the plain
    ``booked`` commission, `_GIVEN_BACK`) is cut earlier in the year; its refund or its
    cancellation (clawed back) makes the statement period negative, and the yearly plan
    cap gives back part of that cut: a positive plan cap line. The owner is on the plan
    on both days, or (a third of the time) is made to leave between them, before the
    statement period (and to rejoin after it if they did), and the deal is cancelled:
    the yearly steps keep working after leaving (decision D3). Both are known from step
    0. No deal when nobody is on the plan on those days. Returns the deals and the
    assignments (changed for a leaver).
    """
    start = periods[period].start
    early = max(START, start - dt.timedelta(days=draw(st.integers(1, 45))))
    late = start + dt.timedelta(days=draw(st.integers(0, 20)))
    leaving = draw(st.integers(0, 2)) == 0
    owners = sorted(
        {a.payee for a in assignments if a.covers(early) and (leaving or a.covers(late))}
    )
    if not owners:
        return [], assignments
    owner = draw(st.sampled_from(owners))
    amount = Money(_money(draw(st.integers(5_000_000, 100_000_000))), CURRENCY)
    fields = {"product": "saas", "region": "east", "new_logo": True}
    if leaving:
        leaves = early + dt.timedelta(days=draw(st.integers(0, (start - early).days - 1)))
        assignments = _leave(assignments, owner, leaves, periods[period].end)
    if leaving or draw(st.booleans()):
        return [(Transaction("g0", early, amount, owner, fields, (), late), 0)], assignments
    deal = Transaction("g0", early, amount, owner, fields)
    return [(deal, 0), (Transaction("g1", late, -amount, owner, fields), 0)], assignments


def _leave(
    assignments: list[Assignment], payee: str, day: dt.date, away: dt.date
) -> list[Assignment]:
    """``payee`` leaves the plan on ``day`` and is off it through ``away``."""
    kept = []
    for a in assignments:
        if a.payee == payee and a.covers(day):
            kept.append(dataclasses.replace(a, end=day))
        elif a.payee != payee or not a.overlaps(day, away):
            kept.append(a)
    return kept


def _after_leaving(
    assignments: Sequence[Assignment], periods: Sequence[Period]
) -> list[tuple[str, str]]:
    """(payee, label) of the periods after each payee's last period on the plan."""
    found = []
    for payee in sorted({a.payee for a in assignments}):
        mine = [a for a in assignments if a.payee == payee]
        for index, period in enumerate(periods):
            later = periods[index:]
            if not any(a.overlaps(p.start, p.end) for a in mine for p in later):
                found.append((payee, period.label))
    return found


@st.composite
def scenarios(
    draw: st.DrawFn,
    *,
    max_transactions: int = 24,
    kinds: tuple[str, ...] | None = None,
    capped: bool = False,
) -> Scenario:
    """A whole valid run (see the module docstring); ``kinds`` fixes the components.

    ``capped``: every version has a plan cap with a small yearly limit, and mostly
    (after January) a big deal earlier in the year taken back in the statement period,
    so that a yearly cut is given back (`_cut_then_given_back`).
    """
    plans = draw(plan_versions(kinds, capped=capped))
    periods = plans[0].calendar.periods(YEAR, plans[0].period)
    labels = [p.label for p in periods]
    period = draw(st.integers(0, len(labels) - 1))
    count = draw(st.integers(min(4, max_transactions), max_transactions))
    bounds = (periods[period].start, periods[period].end)
    drawn = [draw(_transaction(i, bounds)) for i in range(count)]
    drawn += [draw(_refund(i, drawn)) for i in range(draw(st.integers(0, max(1, count // 4))))]
    assignments = draw(_assignments())
    if capped and period > 0 and draw(st.integers(0, 2)) > 0:
        given_back, assignments = draw(_cut_then_given_back(periods, period, assignments))
        drawn += given_back
    payees = sorted({*REPS, *MANAGERS})
    quotas = {
        "sales": {
            (p, label): Money(_money(draw(st.integers(1, 3_000_000))), CURRENCY)
            for p in payees
            for label in labels
        },
        "deals": {(p, label): draw(st.integers(1, 6)) for p in payees for label in labels},
        # An external measure's quota: a rate for the period, like its value.
        "nps": {
            (p, label): Money(_money(draw(st.integers(50, 150))), CURRENCY)
            for p in payees
            for label in labels
        },
    }
    kpis = {
        "nps": {
            (p, label): Decimal(draw(st.integers(0, 150))).scaleb(-2)
            for p in payees
            for label in labels
        }
    }
    if draw(st.integers(0, 3)) == 0:
        # No quota once a payee has left for good: nothing of those periods is read for
        # a leaver (decision D3), unless an on-plan period needs the year's.
        for key in _after_leaving(assignments, periods):
            for measure in quotas.values():
                measure.pop(key, None)
    adjustments = [
        Adjustment(
            payee=draw(st.sampled_from([a.payee for a in assignments])),
            plan="ae",
            period=labels[period],
            amount=Money(_money(draw(st.integers(-10_000, 10_000))), CURRENCY),
            reason="手工调整",
            by="lead",
            component=draw(st.sampled_from([None, plans[0].components[0].id])),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    return Scenario(
        plans=plans,
        transactions=[t for t, _ in drawn],
        known_from=[k for _, k in drawn],
        assignments=assignments,
        quotas=quotas,
        kpis=kpis,
        org=org(),
        adjustments=adjustments,
        period=period,
        labels=labels,
    )
