"""Render ``docs/kpi-catalog.md`` from the registry (a test keeps the file in sync).

Regenerate with ``python -m northstar.metrics.catalog_doc > docs/kpi-catalog.md``.
"""

from __future__ import annotations

from northstar.metrics.registry import builtin_metrics
from northstar.metrics.spec import Category, Rollup

_HEADER = """# KPI catalog

Every built-in metric, generated from the code (`northstar metrics list` prints the same
list, `northstar metrics show ID` one metric in full). The conventions that apply to all:

- Times are stored in UTC; periods are cut in the workspace time zone; weeks start on the
  workspace's `week_start`. A period that has not ended is returned with
  `complete: false`.
- A *user* is a person after identity merging (`events.merge_identities`); an *active*
  user did at least one event that is not passive (`events.passive_events`).
- Rates are fractions in JSON/CSV (0.25 = 25 %), money is in the workspace currency,
  durations are in seconds, NPS is a score from −100 to 100.
- Revenue follows ChartMogul. Each policy where billing tools differ is a setting:
  `revenue.churn_recognition`, `revenue.count_same_period_churn`,
  `revenue.past_due_counts_as_mrr`, `revenue.cac_spend_lag_periods`,
  `revenue.ltv_churn_months`, `revenue.nrr_window_months`, `revenue.addressable_market`
  (see [settings.md](settings.md)).
- *Over a longer period* says how a week's or month's value relates to the daily values:
  computed over the period, the value at its end, or the mean of the days.

Behavioural analyses (retention tables, funnels, lifecycle, stickiness histogram,
sessions, feature adoption) are separate commands, and so are the observed LTV by
acquisition cohort (`northstar ltv-cohorts`) and the comments behind a survey score
(`northstar feedback`, the catalog's `feedback`). Custom metrics are declared in YAML:
see [metrics.md](metrics.md).
"""

_ROLLUP = {Rollup.flow: "over the period", Rollup.end: "at its end", Rollup.mean: "mean of days"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def catalog_markdown() -> str:
    lines = [_HEADER]
    specs = builtin_metrics()
    for category in Category:
        members = [s for s in specs if s.category is category]
        if not members:
            continue
        lines.append(f"## {category.value.capitalize()}\n")
        lines.append(
            "| id | metric | definition | formula | unit | better | over a longer period |"
        )
        lines.append("| --- | --- | --- | --- | --- | --- | --- |")
        for s in members:
            rollup = _ROLLUP[s.rollup] if s.kind != "ratio" else "ratio of the parts"
            lines.append(
                f"| `{s.id}` | {_cell(s.title)} | {_cell(s.description)} | "
                f"{_cell(s.formula)} | {s.unit.value} | {s.direction.value} | {rollup} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(catalog_markdown(), end="")
