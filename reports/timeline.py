"""A report's attempts and callbacks as a picture: an inline SVG rendered on the server.

One lane per work task, one bar per attempt coloured by its outcome, and a dashed marker
where each callback ran, on an axis of seconds since the report was created. Before each
attempt and callback, a lighter segment from when its message was ready to when a process
took it: its wait in the queue (reports.activity).
"""

from django.template.loader import render_to_string
from django.utils import timezone

from project.charts import axis

from .activity import ready_times, still_queued
from .models import WORK_STEPS, Status, cut_short_log_ids

WIDTH = 760
LABEL_WIDTH = 80
RIGHT_PAD = 24
MARKER_LABEL_HEIGHT = 18
LANE_HEIGHT = 28
BAR_HEIGHT = 16
AXIS_HEIGHT = 34
LEGEND_HEIGHT = 40  # two rows
QUEUE_MARK_HEIGHT = 4  # a callback's wait, drawn under its label
OUTCOME_CLASS = {Status.PROCESSING: "running", Status.ERROR: "failed", Status.FINISHED: "done"}


def timeline_context(report, now=None):
    """Everything the SVG template draws, in pixels, for ``report`` at ``now``."""
    now = now or timezone.now()
    logs = list(report.task_logs.all())

    def seconds(moment):
        return (moment - report.created_dt).total_seconds()

    waiting = still_queued(report, logs, now)
    ends = [seconds(log.finished_dt or now) for log in logs] + [seconds(now) for _ in waiting]
    axis_end, tick_values = axis(max([0.1, *ends]))
    plot_width = WIDTH - LABEL_WIDTH - RIGHT_PAD

    def x(t):
        return LABEL_WIDTH + max(0.0, t) / axis_end * plot_width

    lanes_top = MARKER_LABEL_HEIGHT
    lanes_bottom = lanes_top + LANE_HEIGHT * len(WORK_STEPS)
    lane_of = {name: index for index, name in enumerate(WORK_STEPS)}

    def bar_top(step):
        return lanes_top + LANE_HEIGHT * lane_of[step] + (LANE_HEIGHT - BAR_HEIGHT) / 2

    def wait(step, since, until, what):
        """A lighter segment where ``step`` waited in the queue: in its lane, or under a callback's label."""
        in_lane = step in lane_of
        return {
            "x": f"{x(since):.1f}",
            "y": f"{bar_top(step) if in_lane else lanes_top - QUEUE_MARK_HEIGHT:.1f}",
            "width": f"{x(until) - x(since):.1f}",
            "height": BAR_HEIGHT if in_lane else QUEUE_MARK_HEIGHT,
            "title": f"{what} {until - since:.2f} s in the queue, {since:.2f}–{until:.2f} s",
        }

    cut_short = cut_short_log_ids(logs)
    ready = ready_times(report, logs)
    bars, markers = [], []
    waits = [wait(step, seconds(since), seconds(now), f"{step}: waiting,") for step, since in waiting]
    for log in logs:
        start, end = seconds(log.created_dt), seconds(log.finished_dt or now)
        if log.pk in ready and ready[log.pk] < log.created_dt:
            waits.append(
                wait(log.step, seconds(ready[log.pk]), start, f"{log.task_name}, retry {log.retry}: waited")
            )
        if log.step in lane_of:
            reason = " (cut short, delivered again)" if log.pk in cut_short else ""
            if log.error and not reason:
                reason = f" ({log.error})"
            bars.append(
                {
                    "x": f"{x(start):.1f}",
                    "y": f"{bar_top(log.step):.1f}",
                    "width": f"{max(1.5, x(end) - x(start)):.1f}",
                    "height": BAR_HEIGHT,
                    "outcome": OUTCOME_CLASS[log.status],
                    "title": f"{log.task_name}, retry {log.retry}: {log.get_status_display()}{reason}"
                    f", {start:.2f}–{end:.2f} s",
                }
            )
        else:
            markers.append(
                {
                    "x": f"{x(start):.1f}",
                    "callback": log.step,
                    "title": f"{log.task_name} ran at {start:.2f} s",
                }
            )

    ticks = [{"x": f"{x(value):.1f}", "label": f"{value:g}"} for value in tick_values]
    lanes = []
    for index, name in enumerate(WORK_STEPS):
        top = lanes_top + LANE_HEIGHT * index
        lanes.append({"name": name, "y": top, "label_y": top + LANE_HEIGHT / 2 + 4})
    legend_y = lanes_bottom + AXIS_HEIGHT
    return {
        "width": WIDTH,
        "height": legend_y + LEGEND_HEIGHT,
        "plot_left": LABEL_WIDTH,
        "plot_right": WIDTH - RIGHT_PAD,
        "lane_width": plot_width,
        "lane_height": LANE_HEIGHT,
        "lanes_top": lanes_top,
        "lanes_bottom": lanes_bottom,
        "tick_label_y": lanes_bottom + 16,
        "axis_label_y": lanes_bottom + 30,
        "legend_y": legend_y,
        "lanes": lanes,
        "bars": bars,
        "waits": waits,
        "markers": markers,
        "ticks": ticks,
        "kind": report.kind,
    }


def render_timeline(report, now=None):
    return render_to_string("reports/timeline.svg", timeline_context(report, now))
