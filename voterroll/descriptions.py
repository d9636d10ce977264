"""What each option does and what it teaches, a sentence each, for the form where a run's
option is chosen. Keyed by option value, beside nothing else, so that an option registry
can take them in whole; the README's options table says the same at more length."""

from typing import NamedTuple

from .options import Option


class Description(NamedTuple):
    does: str
    teaches: str


DESCRIPTIONS = {
    Option.ALL_IN_ONE: Description(
        "One task assigns every station, then writes every roll, one after the other.",
        "Simple and sequential: one worker process works, the others idle, and at scale the task "
        "runs far past a 30 s shutdown window.",
    ),
    Option.JOIN: Description(
        "Sends a task per center, then waits for them inside its own task with result.get().",
        "Celery refuses (\u201cNever call result.get() within a task!\u201d): the run fails, "
        "although the center tasks still write their rolls.",
    ),
    Option.CHORD_BY_CENTER: Description(
        "A chord: one task per center writes that center's rolls, then one task sums the pages.",
        "The chord does the waiting, not a task; but a big center is one long task.",
    ),
    Option.PARALLEL_ASSIGN: Description(
        "Assigns stations in a task per center, then writes a task per station.",
        "Database work gains nothing from parallelism: more messages, the same one database.",
    ),
    Option.STARMAP: Description(
        "Assigns every station, then one starmap task calls the station writer for each station.",
        "A starmap is one task calling its function in turn: no parallelism, as slow as option 1.",
    ),
    Option.CHORD_BY_STATION: Description(
        "Assigns every station, then a chord of one task per station, then sums the pages.",
        "Parallel, but each task is a few milliseconds of work with its own message, result and count.",
    ),
    Option.CHORD_OF_CHUNKS: Description(
        "Assigns every station, then a chord of chunk tasks, each about half a second of writing "
        "(VOTERROLL_CHUNK_SECONDS), at least one per worker process.",
        "Right-sized tasks: every process busy, the cost of a task about 1 %, each far inside "
        "the shutdown window. The fastest.",
    ),
    Option.ERROR: Description(
        "As 5b, with one station task that fails; the chord's error callback runs instead of its body.",
        "How a failure ends a chord: the other rolls are written, and the run is recorded as failed "
        "with the reason.",
    ),
}
