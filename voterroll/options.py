"""The options, in one registry: every way to distribute the same work over Celery.

Each member is one line: the value a RollRun stores, the alias ``queue_task`` and the admin
take, the label people read, and the Celery task that runs it (in voterroll.tasks, taking a
run id). Labels are not in migrations (RollRun.option's choices are a callable), so
rewording one changes nothing else. How many tasks an option sends is counted by the helper
that sends its canvas (voterroll.tasks.send_counted), never written down here.
"""

from enum import StrEnum


class Option(StrEnum):
    ALL_IN_ONE = "all_in_one", "1", "all in one task"
    JOIN = "parallelize_tasks_by_center_with_join", "2", "group by center, joined (anti-pattern)"
    CHORD_BY_CENTER = "queue_tasks_by_center_with_chord", "3", "chord by center"
    PARALLEL_ASSIGN = "assign_all_stations_in_parallel", "4", "stations assigned in parallel (anti-pattern)"
    STARMAP = "assign_stations_and_generate_lists_with_starmap", "5a", "starmap by station"
    CHORD_BY_STATION = "assign_stations_and_generate_lists_with_chord", "5b", "chord by station"
    CHORD_OF_CHUNKS = "assign_stations_and_generate_lists_in_chunks", "5c", "chord over chunks of stations"
    ERROR = "group_with_error_in_sub_task", "error", "chord with a failing sub-task"

    def __new__(cls, value, alias, label, task=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.alias = alias
        member.label = label
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
