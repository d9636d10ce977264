"""A server-side SVG chart: how long each option takes, for comparing them side by side."""

from collections import defaultdict

from django.template.loader import render_to_string

from .models import RollRun
from .options import Option

BAR_HEIGHT = 22
LABEL_WIDTH = 300
BAR_WIDTH = 360
WIDTH = LABEL_WIDTH + BAR_WIDTH + 130
TOP = 30


def durations_by_option():
    """(option, mean seconds, runs) for finished runs over all centers, in option order."""
    seconds = defaultdict(list)
    finished = RollRun.objects.filter(
        status=RollRun.Status.FINISHED, center__isnull=True, started_dt__isnull=False
    ).values_list("option", "started_dt", "finished_dt")
    for option, started_dt, finished_dt in finished:
        seconds[option].append((finished_dt - started_dt).total_seconds())
    return [
        (option, sum(seconds[option]) / len(seconds[option]), len(seconds[option]))
        for option in Option
        if seconds[option]
    ]


def duration_chart():
    """Horizontal bars, one per option that has finished runs; empty text when none has."""
    data = durations_by_option()
    if not data:
        return ""
    longest = max(seconds for _, seconds, _ in data) or 1
    rows = []
    for row, (option, seconds, runs) in enumerate(data):
        width = max(1, round(BAR_WIDTH * seconds / longest))
        rows.append(
            {
                "label": option.display,
                "value": option.value,
                "y": TOP + row * BAR_HEIGHT,
                "text_y": TOP + row * BAR_HEIGHT + 15,
                "width": width,
                "figure_x": LABEL_WIDTH + width + 6,
                "seconds": f"{seconds:.2f}",
                "runs": runs,
            }
        )
    context = {
        "width": WIDTH,
        "height": TOP + BAR_HEIGHT * len(data),
        "label_right": LABEL_WIDTH - 8,
        "bar_left": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT - 6,
        "rows": rows,
    }
    return render_to_string("voterroll/duration_chart.svg", context)
