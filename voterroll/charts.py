"""A server-side SVG chart: how long each option takes, for comparing them side by side.

Only runs over the same data compare: a run over fewer voters is quicker whatever its
option. So runs are grouped by data size (voters and pages), the latest size first.
"""

from collections import defaultdict

from django.template.loader import render_to_string

from .models import RollRun
from .options import Option

BAR_HEIGHT = 22
LABEL_WIDTH = 300
BAR_WIDTH = 360
WIDTH = LABEL_WIDTH + BAR_WIDTH + 230
TOP = 30
# Data sizes drawn, the latest first: older ones are history, not a comparison.
SIZES = 3


def durations_by_size(sizes=SIZES):
    """[((voters, pages), [(option, mean seconds, mean pages a second, runs), ...]), ...]: the
    finished runs over all centers, by data size, the size of the latest run first, and by
    option within a size, in option order."""
    seconds = defaultdict(lambda: defaultdict(list))
    finished = (
        RollRun.objects.filter(status=RollRun.Status.FINISHED, center__isnull=True, started_dt__isnull=False)
        .order_by("-finished_dt")
        .values_list("voters", "pages", "option", "started_dt", "finished_dt")
    )
    for voters, pages, option, started_dt, finished_dt in finished:
        seconds[voters, pages][option].append((finished_dt - started_dt).total_seconds())
    groups = []
    for size in list(seconds)[:sizes]:  # dicts keep the order met: the latest run's size first
        rows = []
        for option in Option:
            taken = seconds[size][option]
            if taken:
                mean = sum(taken) / len(taken)
                rows.append((option, mean, size[1] / mean if mean else 0, len(taken)))
        groups.append((size, rows))
    return groups


def size_label(voters, pages, latest):
    counted = f"{voters:,} voters, {pages:,} pages" if voters else f"{pages:,} pages (voters not counted)"
    return f"{counted}{' · the latest' if latest else ''}"


def duration_chart():
    """Horizontal bars, one per option that has finished runs, under a heading per data size;
    empty text when no run has finished."""
    groups = durations_by_size()
    if not groups:
        return ""
    rows, y = [], TOP
    for number, ((voters, pages), options) in enumerate(groups):
        rows.append({"heading": size_label(voters, pages, latest=number == 0), "text_y": y + 15})
        y += BAR_HEIGHT
        longest = max(seconds for _, seconds, _, _ in options) or 1
        for option, seconds, rate, runs in options:
            width = max(1, round(BAR_WIDTH * seconds / longest))
            rows.append(
                {
                    "label": option.display,
                    "value": option.value,
                    "y": y,
                    "text_y": y + 15,
                    "width": width,
                    "figure_x": LABEL_WIDTH + width + 6,
                    "figure": f"{seconds:.2f} s · {rate:,.0f} pages/s · {runs} run{'s' if runs != 1 else ''}",
                }
            )
            y += BAR_HEIGHT
    context = {
        "width": WIDTH,
        "height": y,
        "label_right": LABEL_WIDTH - 8,
        "bar_left": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT - 6,
        "rows": rows,
    }
    return render_to_string("voterroll/duration_chart.svg", context)
