"""What the apps' server-side SVG charts share."""

import math

from django.template.loader import render_to_string


def tick_step(span, most=8):
    """The smallest 1, 2 or 5 times a power of ten that cuts ``span`` into at most ``most`` ticks."""
    power = 10 ** math.floor(math.log10(span / most))
    return next(power * m for m in (1, 2, 5, 10) if span / (power * m) <= most)


def axis(span):
    """Where an axis covering 0 to ``span`` ends, and its ticks: 0 and each step up to the end."""
    step = tick_step(span)
    count = math.ceil(span / step)
    return count * step, [n * step for n in range(count + 1)]


# A lane chart: one lane per worker process, one bar per task, on a time axis in seconds.
WIDTH = 760
RIGHT_PAD = 24
LANE_HEIGHT = 24
BAR_HEIGHT = 14
AXIS_HEIGHT = 34
LEGEND_HEIGHT = 22


def lane_chart(
    lanes, bars, kinds, *, css_class, description, axis_label, label_width, legend_step, min_width
):
    """The SVG of ``bars`` ((lane index, kind, start ms, end ms, title) each) in ``lanes``
    (their names), coloured by ``kinds`` ({kind: (colour, legend label)}, in legend order);
    "" when there is no bar. What the voter-roll runs and the lessons draw their tasks with."""
    if not bars:
        return ""
    axis_end, tick_values = axis(max(0.001, max(bar[3] for bar in bars) / 1000))
    plot_width = WIDTH - label_width - RIGHT_PAD

    def x(ms):
        return label_width + max(0, ms) / 1000 / axis_end * plot_width

    lanes_bottom = LANE_HEIGHT * len(lanes)
    drawn = [
        {
            "x": f"{x(start):.1f}",
            "y": LANE_HEIGHT * lane + (LANE_HEIGHT - BAR_HEIGHT) // 2,
            "width": f"{max(min_width, x(end) - x(start)):.1f}",
            "kind": kind,
            "title": title,
        }
        for lane, kind, start, end, title in bars
    ]
    used = {bar["kind"] for bar in drawn}
    context = {
        "css_class": css_class,
        "description": description,
        "axis_label": axis_label,
        "width": WIDTH,
        "height": lanes_bottom + AXIS_HEIGHT + LEGEND_HEIGHT,
        "plot_left": label_width,
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
            {"name": kind, "colour": colour, "label": label, "x": legend_step * index}
            for index, (kind, (colour, label)) in enumerate(
                (kind, value) for kind, value in kinds.items() if kind in used
            )
        ],
    }
    return render_to_string("project/lane_chart.svg", context)
