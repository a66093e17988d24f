"""The SLA compliance report: how many targets were met and how many breached, per policy,
priority, metric and period, from the `sla_rounds` table of the `sla` view.

A round counts in the period in which its outcome was decided: a met one when it was
answered, a breached one when it fell due (answered later or not at all). Rounds still
running on track or warning are not decided yet and are not counted. Each round is judged
by the policy and priority recorded with its outcome, so a later change of either never
rewrites a past period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from domain.values import utc_text
from projections.base import Tables
from projections.db import Tx

Period = Literal["day", "week", "month"]


@dataclass(frozen=True)
class ComplianceQuery:
    since: date  # first local day, inclusive
    until: date  # last local day, inclusive
    period: Period = "month"
    zone: str = "UTC"
    policy_id: str | None = None


def period_start(day: date, period: Period) -> date:
    """The first day of the period `day` is in (weeks start on Monday)."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def compliance(tx: Tx, t: Tables, query: ComplianceQuery) -> dict[str, Any]:
    """The report: a row per period, policy, priority and metric (in that order), and the
    totals over them all."""
    zone = ZoneInfo(query.zone)
    start = datetime.combine(query.since, time(), zone)
    end = datetime.combine(query.until + timedelta(days=1), time(), zone)
    sql = (
        f"SELECT policy_id, policy_name, priority, metric, state, decided_at"
        f" FROM {t['sla_rounds']} WHERE decided_at >= ? AND decided_at < ?"
        " AND state IN ('met', 'breached')"
    )
    params: list[Any] = [utc_text(start), utc_text(end)]
    if query.policy_id is not None:
        sql += " AND policy_id = ?"
        params.append(query.policy_id)
    groups: dict[tuple[str, str, str, str], dict[str, int]] = {}
    names: dict[str, str] = {}
    for row in tx.stream(sql, params):
        local = datetime.fromisoformat(row["decided_at"]).astimezone(zone).date()
        policy = row["policy_id"] or ""
        names.setdefault(policy, row["policy_name"] or "")
        key = (period_start(local, query.period).isoformat(), policy, row["priority"] or "",
               row["metric"])  # fmt: skip
        groups.setdefault(key, {"met": 0, "breached": 0})[row["state"]] += 1
    rows = [
        {
            "period_start": first,
            "policy": {"id": policy or None, "name": names[policy] or None},
            "priority": priority or None,
            "metric": metric,
            **_rates(tally),
        }
        for (first, policy, priority, metric), tally in sorted(
            groups.items(), key=lambda kv: (kv[0][0], names[kv[0][1]], kv[0][1], *kv[0][2:])
        )
    ]
    total = {"met": 0, "breached": 0}
    for tally in groups.values():
        total["met"] += tally["met"]
        total["breached"] += tally["breached"]
    return {
        "from": query.since.isoformat(),
        "to": query.until.isoformat(),
        "period": query.period,
        "time_zone": query.zone,
        "rows": rows,
        "totals": _rates(total),
    }


def _rates(tally: dict[str, int]) -> dict[str, Any]:
    decided = tally["met"] + tally["breached"]
    share = round(tally["met"] / decided, 4) if decided else None
    return {"met": tally["met"], "breached": tally["breached"], "compliance": share}
