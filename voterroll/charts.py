"""A server-side SVG chart: how long each option takes, for comparing them side by side."""
from collections import defaultdict

from django.utils.html import format_html, format_html_join

from .models import Option, RollRun

BAR_HEIGHT = 22
LABEL_WIDTH = 300
BAR_WIDTH = 360
WIDTH = LABEL_WIDTH + BAR_WIDTH + 130


def durations_by_option():
    """(option, mean seconds, runs) for finished runs over all centers, in option order."""
    seconds = defaultdict(list)
    finished = RollRun.objects.filter(
        status=RollRun.Status.FINISHED, center__isnull=True, started_at__isnull=False
    ).values_list("option", "started_at", "finished_at")
    for option, started_at, finished_at in finished:
        seconds[option].append((finished_at - started_at).total_seconds())
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
    height = BAR_HEIGHT * len(data) + 30
    bars = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#417690"><title>{}</title></rect>'
        '<text x="{}" y="{}">{} s · {} run(s)</text>',
        (
            (
                LABEL_WIDTH - 8, 30 + row * BAR_HEIGHT + 15, option.label,
                LABEL_WIDTH, 30 + row * BAR_HEIGHT + 3, max(1, round(BAR_WIDTH * seconds / longest)),
                BAR_HEIGHT - 6, option.value,
                LABEL_WIDTH + round(BAR_WIDTH * seconds / longest) + 6, 30 + row * BAR_HEIGHT + 15,
                f"{seconds:.2f}", runs,
            )
            for row, (option, seconds, runs) in enumerate(data)
        ),
    )  # fmt: skip
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="voterroll-duration-chart" width="{}" '
        'height="{}" viewBox="0 0 {} {}" style="max-width: 100%; height: auto" '
        'font-family="sans-serif" font-size="12" role="img">'
        '<text x="0" y="16" font-weight="bold">Mean duration of finished runs (all centers), '
        "by option</text>{}</svg>",
        WIDTH, height, WIDTH, height, bars,
    )  # fmt: skip
