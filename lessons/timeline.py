"""A lesson run's task executions as a picture, drawn as a voter-roll run's timeline is: one
lane per worker process, one bar per execution. A task delivered again is a second bar of the
same label; a task cut off is a bar that never ended."""

from project.charts import lane_chart

# Each outcome of an execution: its colour, and what the legend calls it.
OUTCOMES = {
    "ran": ("#2e7d32", "ran to the end"),
    "cut": ("#ef6c00", "cut off / never ended"),
    "failed": ("#c62828", "failed"),
    "errback": ("#6a1b9a", "errback"),
}


def render_timeline(run):
    bars = [
        (
            bar["lane"],
            bar["outcome"],
            bar["start"],
            bar["end"],
            f"{bar['label']}: {OUTCOMES[bar['outcome']][1]}, "
            f"{bar['start'] / 1000:.3f}–{bar['end'] / 1000:.3f} s",
        )
        for bar in run.timeline.get("bars") or []
    ]
    return lane_chart(
        run.timeline.get("lanes"),
        bars,
        OUTCOMES,
        css_class="lesson-timeline",
        description=f"Timeline of lesson {run.lesson}: a lane per worker process, a bar per task execution",
        axis_label="seconds since the lesson's first task started",
        label_width=190,
        legend_step=150,
        min_width=3.0,
    )
