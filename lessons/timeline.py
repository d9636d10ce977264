"""A lesson run's task executions as a picture, drawn as a voter-roll run's timeline is: one
lane per worker process, one bar per execution. A task delivered again is a second bar of the
same label; a task cut off is a bar that never ended."""

from django.template.loader import render_to_string

from project.charts import axis

WIDTH = 760
LABEL_WIDTH = 190
RIGHT_PAD = 24
LANE_HEIGHT = 24
BAR_HEIGHT = 14
AXIS_HEIGHT = 34
LEGEND_HEIGHT = 22
# Each outcome of an execution: its colour, and what the legend calls it.
OUTCOMES = {
    "ran": ("#2e7d32", "ran to the end"),
    "cut": ("#ef6c00", "cut off / never ended"),
    "failed": ("#c62828", "failed"),
    "errback": ("#6a1b9a", "errback"),
}


def timeline_context(run):
    """What the SVG template draws for ``run``, in pixels; None when nothing ran."""
    lanes, bars = run.timeline.get("lanes"), run.timeline.get("bars")
    if not bars:
        return None
    axis_end, tick_values = axis(max(0.001, max(bar["end"] for bar in bars) / 1000))
    plot_width = WIDTH - LABEL_WIDTH - RIGHT_PAD

    def x(ms):
        return LABEL_WIDTH + max(0, ms) / 1000 / axis_end * plot_width

    lanes_bottom = LANE_HEIGHT * len(lanes)
    drawn = [
        {
            "x": f"{x(bar['start']):.1f}",
            "y": LANE_HEIGHT * bar["lane"] + (LANE_HEIGHT - BAR_HEIGHT) // 2,
            "width": f"{max(3.0, x(bar['end']) - x(bar['start'])):.1f}",
            "outcome": bar["outcome"],
            "title": f"{bar['label']}: {OUTCOMES[bar['outcome']][1]}, "
            f"{bar['start'] / 1000:.3f}–{bar['end'] / 1000:.3f} s",
        }
        for bar in bars
    ]
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
        "outcomes": [
            {"name": name, "colour": colour, "label": label, "x": 150 * index}
            for index, (name, (colour, label)) in enumerate(
                (name, OUTCOMES[name]) for name in OUTCOMES if any(bar["outcome"] == name for bar in drawn)
            )
        ],
        "lesson": run.lesson,
    }


def render_timeline(run):
    context = timeline_context(run)
    return render_to_string("lessons/timeline.svg", context) if context else ""
