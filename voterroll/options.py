"""The options, in one registry: every way to distribute the same work over Celery.

Each member says it all: the value a RollRun stores, the alias ``queue_task`` and the admin
take, the label people read, what it does and what it teaches (a sentence each, for the start
form), and optionally the Celery task that runs it (in voterroll.tasks, taking a run id; by
default the task named as the value). Labels are not in migrations (RollRun.option's choices
are a callable), so rewording one changes nothing else. How many tasks an option sends is
counted by the helper that sends its canvas (voterroll.tasks.send_counted), never written here.
"""

from enum import StrEnum


class Option(StrEnum):
    ALL_IN_ONE = (
        "all_in_one",
        "1",
        "all in one task",
        "One task assigns every station, then writes every roll, one after the other.",
        "Simple and sequential: one worker process works, the others idle, and at scale the task runs"
        " far past a 30 s shutdown window.",
    )
    JOIN = (
        "parallelize_tasks_by_center_with_join",
        "2",
        "group by center, joined (anti-pattern)",
        "Sends a task per center, then waits for them inside its own task with result.get().",
        "Celery refuses (“Never call result.get() within a task!”): the run fails, although the "
        "center tasks still write their rolls.",
    )
    CHORD_BY_CENTER = (
        "queue_tasks_by_center_with_chord",
        "3",
        "chord by center",
        "A chord: one task per center writes that center's rolls, then one task sums the pages.",
        "The chord does the waiting, not a task; but a big center is one long task.",
    )
    PARALLEL_ASSIGN = (
        "assign_all_stations_in_parallel",
        "4",
        "stations assigned in parallel (anti-pattern)",
        "Assigns stations in a task per center, then writes a task per station.",
        "Database work gains nothing from parallelism: more messages, the same one database.",
    )
    STARMAP = (
        "assign_stations_and_generate_lists_with_starmap",
        "5a",
        "starmap by station",
        "Assigns every station, then one starmap task calls the station writer for each station.",
        "A starmap is one task calling its function in turn: no parallelism, as slow as option 1.",
    )
    CHORD_BY_STATION = (
        "assign_stations_and_generate_lists_with_chord",
        "5b",
        "chord by station",
        "Assigns every station, then a chord of one task per station, then sums the pages.",
        "Parallel, but each task is a few milliseconds of work with its own message, result and count.",
    )
    CHORD_OF_CHUNKS = (
        "assign_stations_and_generate_lists_in_chunks",
        "5c",
        "chord over chunks of stations",
        "Plans the stations from a count per center; one task assigns them in batches and adds each "
        "batch's chunk tasks (about half a second of writing each, VOTERROLL_CHUNK_SECONDS) to its "
        "chord as soon as it is assigned, the last batch's at least one per worker process.",
        "Right-sized tasks, and work that overlaps: the other processes write while stations are "
        "assigned, a task costs about 1 %, each ends far inside the shutdown window. The fastest.",
    )
    ERROR = (
        "group_with_error_in_sub_task",
        "error",
        "chord with a failing sub-task",
        "As 5b, with one station task that fails; the chord's error callback runs instead of its body.",
        "How a failure ends a chord: the other rolls are written, and the run is recorded as failed "
        "with the reason.",
    )

    def __new__(cls, value, alias, label, does, teaches, task=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.alias = alias
        member.label = label
        # For the form where a run's option is chosen; the README's options table says more.
        member.does = does
        member.teaches = teaches
        # The task's name; the options of the talk are tasks named as their value.
        member.task_name = task or f"voterroll.tasks.{value}"
        return member

    @property
    def display(self):
        return f"{self.alias} · {self.label}"

    @classmethod
    def from_alias(cls, text):
        """The option ``text`` names, by value or alias (1, 2, 3, 4, 5a, 5b, 5c, error); or None."""
        text = text.strip().lower()
        return next((option for option in cls if text in (option.value, option.alias)), None)


def option_choices():
    """RollRun.option's choices: a callable, so that migrations do not hold the labels."""
    return [(option.value, option.display) for option in Option]
