"""Hypothesis strategies for org trees and target plans."""

from datetime import date, timedelta

from hypothesis import strategies as st


@st.composite
def org_records(draw: st.DrawFn, max_nodes: int = 60) -> list[dict[str, object]]:
    """A valid org as plain records: node i reports to some node before it."""
    size = draw(st.integers(min_value=1, max_value=max_nodes))
    parents = [None] + [draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, size)]
    names = draw(
        st.lists(
            st.text(alphabet="abc华东南组张王李0123456789-", min_size=1, max_size=6),
            min_size=size,
            max_size=size,
            unique=True,
        )
    )
    order = draw(st.permutations(range(size)))
    return [
        {"id": names[i], "parent": None if parents[i] is None else names[parents[i]]} for i in order
    ]


@st.composite
def effective_dated_org(draw: st.DrawFn, max_nodes: int = 25) -> list[dict[str, object]]:
    """A valid org whose non-root leaves may join, leave or move within FY2026."""
    records = draw(org_records(max_nodes=max_nodes))
    parents = {r["parent"] for r in records}
    inner = [r["id"] for r in records if r["id"] in parents or r["parent"] is None]
    out: list[dict[str, object]] = []
    for record in records:
        weight = draw(st.sampled_from([0, 1, 2, 3, "0.5", "1.25"]))
        record = {**record, "attributes": {"w": weight}}  # noqa: PLW2901 - a fresh copy
        if record["id"] in parents or record["parent"] is None:
            out.append(record)
            continue
        kind = draw(st.sampled_from(["stay", "join", "leave", "move"]))
        day = draw(st.dates(min_value=date(2026, 1, 2), max_value=date(2026, 12, 30)))
        if kind == "join":
            out.append({**record, "start": day.isoformat()})
        elif kind == "leave":
            out.append({**record, "end": day.isoformat()})
        elif kind == "move":
            target = draw(st.sampled_from(inner))
            out.append({**record, "end": (day - timedelta(days=1)).isoformat()})
            out.append({**record, "parent": target, "start": day.isoformat()})
        else:
            out.append(record)
    return out


@st.composite
def target_plans(draw: st.DrawFn) -> dict[str, object]:
    """A plan definition, as data, weighting reports by their attribute ``w``."""
    money = draw(st.booleans())
    units = draw(
        st.one_of(
            st.integers(-(10**6), 10**6),
            st.integers(-(10**12), 10**12),
            st.integers(-3, 3),
        )
    )
    total: object = units
    if money:
        total = f"{'-' if units < 0 else ''}{abs(units) // 100}.{abs(units) % 100:02d} CNY"
    calendar = draw(
        st.sampled_from(
            [
                {"kind": "monthly"},
                {"kind": "monthly", "start_month": 4},
                {"kind": "retail", "pattern": "4-5-4", "year_end_month": 1, "year_end_weekday": 5},
                {
                    "kind": "retail",
                    "pattern": "5-4-4",
                    "year_end_month": 12,
                    "year_end_weekday": "sunday",
                    "year_end": "nearest",
                },
            ]
        )
    )
    time = draw(
        st.sampled_from(
            [
                {"method": "equal"},
                {"method": "days"},
                {"method": "seasonality", "seasonality": {i: i % 4 + 1 for i in range(1, 13)}},
            ]
        )
    )
    return {
        "name": "generated",
        "total": total,
        "fiscal_year": 2026,
        "calendar": calendar,
        "grain": draw(st.sampled_from(["quarter", "month", "week"])),
        "time": time,
        "org": [{"method": "attribute", "attribute": "w"}],
        "ramp": draw(st.sampled_from([[], ["0.25", "0.5", "0.75"], ["0"]])),
        "freed": draw(st.sampled_from(["redistribute", "gap"])),
        "locks": {},
    }
