"""A report's content as HTML (e-mail, web preview, PDF), PDF, Markdown, text and Slack
(docs/reports.md#formats).

One template (``templates/report.html``) in table layout serves the e-mail, the PDF and the
web preview, so the three read the same. The e-mail's CSS is inlined (Outlook and Gmail
drop ``<style>``) and its charts are PNGs referenced by ``cid:``; the PDF's charts are SVG
vectors; the preview's are PNG data URIs. Charts come from :mod:`northstar.present.charts`,
the module the web's charts are specified with.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import jinja2

from northstar.goals.scorecard import compact_value
from northstar.metrics.spec import Unit
from northstar.present.charts import kpi_chart, render_png, render_svg
from northstar.reports.content import ReportContent
from northstar.settings import ReportSettings

Mode = Literal["email", "pdf", "web"]
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def chart_specs(content: ReportContent) -> dict[str, dict[str, Any]]:
    """Each KPI of the report as a chart spec: its periods, the previous period dashed."""
    out = {}
    for kpi in content.kpis:
        labels = [s["period"] for s in kpi["series"]]
        out[kpi["metric"]] = kpi_chart(
            kpi["title"], labels, [s["value"] for s in kpi["series"]],
            [s["previous"] for s in kpi["series"]],
        )  # fmt: skip
    return out


def _axis(unit: str, currency: str) -> Callable[[float], str]:
    return lambda v: compact_value(v, Unit(unit), currency)


def chart_images(content: ReportContent, currency: str, mode: Mode) -> dict[str, bytes | str]:
    """The KPI charts: PNG bytes (e-mail, web) or SVG text (PDF), per metric."""
    units = {k["metric"]: k["unit"] for k in content.kpis}
    out: dict[str, bytes | str] = {}
    for metric, spec in chart_specs(content).items():
        axis = _axis(units[metric], currency)
        if mode == "pdf":
            out[metric] = render_svg(spec, width=6.2, height=2.4, unit_format=axis)
        else:
            out[metric] = render_png(spec, width=6.0, height=2.6, unit_format=axis)
    return out


def cid(metric: str) -> str:
    """The Content-ID of a chart in the e-mail."""
    return f"chart-{metric}@northstar"


def render_html(
    content: ReportContent, mode: Mode, images: dict[str, bytes | str], *,
    settings: ReportSettings | None = None, link: str | None = None,
) -> str:  # fmt: skip
    """The report as HTML: ``email`` (inlined CSS, ``cid:`` images), ``pdf`` (SVG charts,
    page size and numbers) or ``web`` (PNG data URIs)."""
    settings = settings or ReportSettings()
    sources: dict[str, str] = {}
    for metric, image in images.items():
        if mode == "email":
            sources[metric] = f"cid:{cid(metric)}"
        elif isinstance(image, str):
            sources[metric] = "data:image/svg+xml;base64," + base64.b64encode(
                image.encode()).decode()  # fmt: skip
        else:
            sources[metric] = "data:image/png;base64," + base64.b64encode(image).decode()
    html = _env.get_template("report.html").render(
        c=content, mode=mode, images=sources, link=link,
        freshness=_freshness(content),
        page_size=f"{settings.pdf_size} {settings.pdf_orientation}",
    )  # fmt: skip
    if mode == "email":
        import css_inline

        html = css_inline.CSSInliner(keep_style_tags=False).inline(html)
    return html


def _freshness(content: ReportContent) -> str:
    text = content.as_of.describe()
    return text[0].upper() + text[1:]


def render_pdf(content: ReportContent, currency: str, settings: ReportSettings) -> bytes:
    """The report as a PDF (WeasyPrint; landscape A4 by default, numbered pages)."""
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    images = chart_images(content, currency, "pdf")
    html = render_html(content, "pdf", images, settings=settings)
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def render_markdown(content: ReportContent, link: str | None = None) -> str:
    """The report as Markdown (wikis, pull requests, a Slack post's attachment)."""
    c = content
    lines = [f"# {c.report.title} — {c.product}", "",
             f"{c.period_label} ({c.first} to {c.last}), compared with "
             f"{c.previous_first} to {c.previous_last}.", "", f"{_freshness(c)}."]  # fmt: skip
    if link:
        lines += ["", f"[Open the scorecard]({link})"]
    lines += [f"\n> {p}" for p in c.problems]
    for section in c.report.sections:
        lines += _md_section(c, section)
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: Any) -> str:
    return str(text if text is not None else "—").replace("|", "\\|").replace("\n", " ")


def _md_section(c: ReportContent, section: str) -> list[str]:
    out: list[str] = []
    if section == "scorecard" and c.scorecard:
        out += ["", "## Scorecard"]
        for p in c.scorecard["perspectives"]:
            out += ["", f"### {p['title']}", "",
                    "| Objective | KPI | Current | Target | Progress | Status | P(hit) |",
                    "| --- | --- | ---: | --- | ---: | --- | ---: |"]  # fmt: skip
            for o in p["objectives"]:
                for k in o["kpis"]:
                    out.append("| " + " | ".join(_cell(x) for x in (
                        o["name"], k["title"], k["current_text"], k["target_text"],
                        k["progress_text"], k["status"], k["p_hit_text"])) + " |")  # fmt: skip
    elif section == "goals" and c.goals:
        out += ["", "## Goals", ""]
        for g in c.goals:
            fc = g["forecast"]
            band = (
                f"; forecast {fc['p10']} · {fc['p50']} · {fc['p90']} (P10 · P50 · P90)"
                if fc
                else ""
            )
            out.append(f"- **{g['title']}**: {g['current_text']} now, target {g['target_text']} "
                       f"by {g['deadline']} — {g['status']} ({g['reason']}); progress "
                       f"{g['progress_text']}, P(hit) {g['p_hit_text']}{band}")  # fmt: skip
    elif section == "kpis" and c.kpis:
        out += ["", "## KPIs", "", "| KPI | " + c.grain + " | previous | change |",
                "| --- | ---: | ---: | ---: |"]  # fmt: skip
        for k in c.kpis:
            cells = (k["title"], k["value_text"], k["previous_text"], k["change_text"])
            out.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    elif section == "movers" and c.movers:
        out += ["", "## Biggest movers"]
        for m in c.movers:
            out += ["", f"### {m['title']}: {m['value_text']} ({m['change_text']})", "",
                    m["summary"]]  # fmt: skip
            out += [f"- {d}" for d in m["drivers"]]
    elif section == "alerts":
        out += ["", "## Alerts", ""]
        if not c.alerts:
            out.append("No alert fired or resolved in this period.")
        for a in c.alerts:
            out.append(f"- **{a['rule']}** ({a['state']}, {str(a['period'] or '')[:10]}): "
                       f"{_cell(a['message'])}")  # fmt: skip
    elif section == "feedback" and c.feedback:
        out += ["", "## What customers said", ""]
        out += [f"> “{f['comment']}” — score {f['score']:g} ({f['group']}), {f['responded_at']}\n"
                for f in c.feedback]  # fmt: skip
    elif section == "notes" and c.notes:
        out += ["", "## Notes", "", c.notes]
    return out


def render_text(content: ReportContent, link: str | None = None) -> str:
    """The e-mail's text/plain alternative: the Markdown, which reads as plain text."""
    return render_markdown(content, link)


def slack_message(content: ReportContent, link: str | None = None) -> dict[str, Any]:
    """A Slack incoming-webhook message: the headline numbers and the goals' statuses."""
    c = content
    lines = [f"*{c.report.title} — {c.product}* · {c.period_label}", _freshness(c)]
    for k in c.kpis:
        lines.append(f"• {k['title']}: *{k['value_text']}* ({k['change_text']} vs "
                     f"{k['previous_text']})")  # fmt: skip
    if c.scorecard and c.scorecard["statuses"]:
        lines.append("Goals: " + ", ".join(
            f"{n} {s.replace('_', ' ')}" for s, n in c.scorecard["statuses"].items()))  # fmt: skip
    for m in c.movers[:1]:
        if m["drivers"]:
            lines.append(f"Biggest mover: {m['title']} ({m['change_text']}), driven by "
                         f"{m['drivers'][0]}")  # fmt: skip
    if c.notes and "notes" in c.report.sections:
        lines.append(f"> {c.notes}")
    if link:
        lines.append(f"<{link}|Open the scorecard>")
    return {"text": "\n".join(lines)}
