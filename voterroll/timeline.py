"""A run's tasks as a picture: one lane per worker process, one bar per task, on a time axis.

Encoded into RollRun.timeline by the task that finishes a run (``encode``), from the bars its
tasks returned, and drawn from it here: option 1 is one bar in one lane, 5a one long bar
after its orchestrator, 5b hundreds of short bars in every lane, 5c a few long ones in every
lane, the first of them beside its assigner's; an idle gap is a gap in a lane.
"""

from collections.abc import Iterable, Iterator

from project.charts import lane_chart

from .units import Bar, Tally, UnitResult

# Each kind of task: its colour, and what the legend calls it.
KINDS = {
    "orchestrator": ("#6a1b9a", "option's own task"),
    "assign": ("#ef6c00", "assign a center"),
    "assigner": ("#f9a825", "assign in batches"),
    "center": ("#00897b", "a center's rolls"),
    "station": ("#1e88e5", "a station's roll"),
    "batch": ("#2e7d32", "chunk / starmap"),
    "callback": ("#c62828", "chord body"),
}
# A kind this code does not know (a run recorded by another version) is drawn as "other", not refused.
OTHER = "other"
DRAWN_KINDS = {**KINDS, OTHER: ("#757575", "other task")}


def units(results: Iterable[UnitResult]) -> Iterator[Tally]:
    """The tallies of single units, with the lists that batches (chunks, starmap) return opened;
    a bar alone (what 5c's assigner returns) is no unit's."""
    for result in results:
        for unit in result if isinstance(result, list) else [result]:
            if unit is not None and "pages" in unit:
                yield unit


def task_bars(results: list[UnitResult], one_task: bool = False) -> list[Bar]:
    """A bar per task that returned ``results``; a batch (a list) is one bar, as is ``one_task``."""
    tasks = [list(units(results))] if one_task else results
    tasks = [[unit for unit in task if unit] if isinstance(task, list) else task for task in tasks]
    return [
        Bar(
            kind="batch",
            lane=task[0]["lane"],
            start=min(unit["start"] for unit in task),
            end=max(unit["end"] for unit in task),
        )
        if isinstance(task, list)
        else Bar(kind=task["kind"], lane=task["lane"], start=task["start"], end=task["end"])
        for task in tasks
        if task
    ]


def encode(bars: list[Bar], origin: float | None = None) -> dict:
    """``bars`` as RollRun.timeline keeps them: lanes in order of first use, and each bar as
    [lane index, kind, start ms, end ms] from ``origin`` (the first start unless given; compact:
    5b has thousands)."""
    bars = sorted(bars, key=lambda bar: bar["start"])
    if origin is None:
        origin = bars[0]["start"] if bars else 0
    lanes = list(dict.fromkeys(bar["lane"] for bar in bars))
    return {
        "lanes": lanes,
        "bars": [
            [
                lanes.index(bar["lane"]),
                bar["kind"],
                round(1000 * (bar["start"] - origin)),
                round(1000 * (bar["end"] - origin)),
            ]
            for bar in bars
        ],
    }


def render_timeline(run, encoded: dict | None = None) -> str:
    """The SVG of ``run``'s timeline: the one it recorded, or ``encoded`` (a run still running)."""
    encoded = run.timeline if encoded is None else encoded
    bars = []
    for lane, kind, start, end in encoded.get("bars") or []:
        kind = kind if kind in KINDS else OTHER
        bars.append(
            (lane, kind, start, end, f"{DRAWN_KINDS[kind][1]}: {start / 1000:.3f}–{end / 1000:.3f} s")
        )
    return lane_chart(
        encoded.get("lanes"),
        bars,
        DRAWN_KINDS,
        css_class="run-timeline",
        description=f"Timeline of the run's tasks ({run.get_option_display()}), one lane per worker process",
        axis_label="seconds since the run's first task started",
        label_width=110,
        legend_step=125,
        min_width=2.0,
    )
