"""A run's tasks as a picture: one lane per worker process, one bar per task, on a time axis.

Encoded into RollRun.timeline by the task that finishes a run (``encode``), from the bars its
tasks returned, and drawn from it here: option 1 is one bar in one lane, 5a one long bar
after its orchestrator, 5b hundreds of short bars in every lane, 5c a few long ones in every
lane; an idle gap is a gap in a lane.
"""

from collections.abc import Iterable, Iterator

from django.template.loader import render_to_string

from project.charts import axis

from .units import Bar, Tally, UnitResult

WIDTH = 760
LABEL_WIDTH = 110
RIGHT_PAD = 24
LANE_HEIGHT = 24
BAR_HEIGHT = 14
AXIS_HEIGHT = 34
LEGEND_HEIGHT = 22
# Each kind of task: its colour, and what the legend calls it.
KINDS = {
    "orchestrator": ("#6a1b9a", "option's own task"),
    "assign": ("#ef6c00", "assign a center"),
    "center": ("#00897b", "a center's rolls"),
    "station": ("#1e88e5", "a station's roll"),
    "batch": ("#2e7d32", "chunk / starmap"),
    "callback": ("#c62828", "chord body"),
}
# A kind this code does not know (a run recorded by another version) is drawn as "other", not refused.
OTHER = "other"
DRAWN_KINDS = {**KINDS, OTHER: ("#757575", "other task")}


def units(results: Iterable[UnitResult]) -> Iterator[Tally]:
    """The tallies of single units, with the lists that batches (chunks, starmap) return opened."""
    for result in results:
        yield from (unit for unit in (result if isinstance(result, list) else [result]) if unit is not None)


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


def timeline_context(encoded: dict, option: str):
    """What the SVG template draws for ``encoded`` (as ``encode`` made it), in pixels; None when
    it holds no bar."""
    lanes, bars = encoded.get("lanes"), encoded.get("bars")
    if not bars:
        return None
    axis_end, tick_values = axis(max(0.001, max(end for _, _, _, end in bars) / 1000))
    plot_width = WIDTH - LABEL_WIDTH - RIGHT_PAD

    def x(ms):
        return LABEL_WIDTH + max(0, ms) / 1000 / axis_end * plot_width

    lanes_bottom = LANE_HEIGHT * len(lanes)
    drawn = []
    for lane, kind, start, end in bars:
        kind = kind if kind in KINDS else OTHER
        drawn.append(
            {
                "x": f"{x(start):.1f}",
                "y": LANE_HEIGHT * lane + (LANE_HEIGHT - BAR_HEIGHT) // 2,
                "width": f"{max(2.0, x(end) - x(start)):.1f}",
                "kind": kind,
                "title": f"{DRAWN_KINDS[kind][1]}: {start / 1000:.3f}–{end / 1000:.3f} s",
            }
        )
    return {
        "width": WIDTH,
        "height": lanes_bottom + AXIS_HEIGHT + LEGEND_HEIGHT,
        "plot_left": LABEL_WIDTH,
        "plot_right": WIDTH - RIGHT_PAD,
        "plot_width": plot_width,
        "lane_height": LANE_HEIGHT,
        "bar_height": BAR_HEIGHT,
        "lanes": [
            {"y": LANE_HEIGHT * index, "label_y": LANE_HEIGHT * index + LANE_HEIGHT // 2 + 4, "name": name}
            for index, name in enumerate(lanes)
        ],
        "lanes_bottom": lanes_bottom,
        "ticks": [{"x": f"{x(value * 1000):.1f}", "label": f"{value:g}"} for value in tick_values],
        "tick_label_y": lanes_bottom + 16,
        "axis_label_y": lanes_bottom + 30,
        "legend_y": lanes_bottom + AXIS_HEIGHT,
        "bars": drawn,
        "kinds": [
            {"name": kind, "colour": colour, "label": label, "x": 125 * index}
            for index, (kind, (colour, label)) in enumerate(
                (kind, DRAWN_KINDS[kind]) for kind in DRAWN_KINDS if any(bar["kind"] == kind for bar in drawn)
            )
        ],
        "option": option,
    }


def render_timeline(run, encoded: dict | None = None) -> str:
    """The SVG of ``run``'s timeline: the one it recorded, or ``encoded`` (a run still running)."""
    context = timeline_context(run.timeline if encoded is None else encoded, run.get_option_display())
    return render_to_string("voterroll/timeline.svg", context) if context else ""
