"""The lessons: each a claim from the talk or Celery's documentation, and the experiment that
checks it (lessons.experiments)."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What an experiment found: ``confirmed`` is None when it could not be tried (skipped)."""

    confirmed: bool | None
    verdict: str
    observation: dict


@dataclass(frozen=True)
class Lesson:
    slug: str
    name: str
    claim: str
    source: str
    # Where it runs: the configured stack (embedded by default), or the brokers it compares.
    stack: str
    experiment: Callable


LESSONS = {}


def lesson(slug, name, *, claim, source, stack="the configured broker and database"):
    """Register the decorated experiment, ``experiment(lab) -> Outcome``, as a lesson."""

    def register(experiment):
        LESSONS[slug] = Lesson(slug, name, claim, source, stack, experiment)
        return experiment

    return register


class UnknownLesson(KeyError):
    def __str__(self):
        return f"no lesson named {self.args[0]!r}; lessons: {', '.join(LESSONS)}"


def get(slug):
    try:
        return LESSONS[slug]
    except KeyError:
        raise UnknownLesson(slug) from None
