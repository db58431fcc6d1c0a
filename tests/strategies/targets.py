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
    """A valid org with changes within 2026.

    Leaves may join, leave, move, or move away and back; one inner node (a team with
    its reports) may move under a node outside its own subtree.
    """
    records = draw(org_records(max_nodes=max_nodes))
    parent_of = {r["id"]: r["parent"] for r in records}
    inner = {p for p in parent_of.values() if p is not None}
    movable_inner = [n for n in inner if parent_of[n] is not None]
    moving_team = draw(st.sampled_from(movable_inner)) if movable_inner else None
    out: list[dict[str, object]] = []
    for record in records:
        weight = draw(st.sampled_from([0, 1, 2, 3, "0.5", "1.25"]))
        record = {**record, "attributes": {"w": weight}}  # noqa: PLW2901 - a fresh copy
        node = record["id"]
        if record["parent"] is None or (node in inner and node != moving_team):
            out.append(record)
            continue
        kinds = ["stay", "move"] if node in inner else ["stay", "join", "leave", "move", "back"]
        kind = draw(st.sampled_from(kinds))
        day = draw(st.dates(min_value=date(2026, 1, 2), max_value=date(2026, 12, 1)))
        outside = [
            n
            for n in inner | {r["id"] for r in records if r["parent"] is None}
            if not _is_below(n, node, parent_of)
        ]
        if kind == "join":
            out.append({**record, "start": day.isoformat()})
        elif kind == "leave":
            out.append({**record, "end": day.isoformat()})
        elif kind in {"move", "back"} and outside:
            target = draw(st.sampled_from(sorted(outside)))
            out.append({**record, "end": (day - timedelta(days=1)).isoformat()})
            if kind == "move":
                out.append({**record, "parent": target, "start": day.isoformat()})
            else:
                back = day + timedelta(days=draw(st.integers(1, 25)))
                out.append(
                    {
                        **record,
                        "parent": target,
                        "start": day.isoformat(),
                        "end": (back - timedelta(days=1)).isoformat(),
                    }
                )
                out.append({**record, "start": back.isoformat()})
        else:
            out.append(record)
    return out


def _is_below(node: object, ancestor: object, parent_of: dict[object, object]) -> bool:
    """Whether ``node`` is ``ancestor`` or in its subtree (in the original tree)."""
    while node is not None:
        if node == ancestor:
            return True
        node = parent_of[node]
    return False


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
    working = {
        "holidays": ["2026-01-01", "2026-02-17", "2026-05-01", "2026-10-01", "2026-10-02"],
        "extra_workdays": ["2026-02-14", "2026-10-10"],
    }
    time = draw(
        st.sampled_from(
            [
                {"method": "equal"},
                {"method": "days"},
                {"method": "working_days", "business_calendar": working},
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
