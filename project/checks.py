"""System checks of every setting the project defines: a value out of its range stops
`manage.py check`, migrate, runserver, the image's start and the worker (project.celery) with
one line naming it, instead of failing every run later (VOTERROLL_STATION_SIZE=0 divided by
zero in each one)."""

from django.conf import settings
from django.core import checks

DAY = 24 * 60 * 60


def ranges():
    """(setting, lowest, highest) for each numeric setting the project reads."""
    return [
        # Filesystem broker: most seconds between two looks; processed messages kept.
        ("CELERY_BROKER_POLLING_INTERVAL", 0.001, 60),
        ("CELERY_WORKER_CONCURRENCY", 1, 1000),
        ("SQLITE_TIMEOUT", 1, 3600),
        ("BROKER_PROCESSED_RETENTION", 60, 30 * DAY),
        ("REPORTS_TIME_SCALE", 0.001, 100),
        ("REPORTS_FAILURE_RATE", 0, 1),
        ("REPORTS_SEED", 0, 2**63 - 1),
        ("REPORTS_STALLED_AFTER", 10, 7 * DAY),
        ("VOTERROLL_STATION_SIZE", 1, 100_000),
        ("VOTERROLL_MIXED_STATION_BELOW", 0, settings.VOTERROLL_STATION_SIZE),
        # A chunk must fit well inside the tasks' 25 s soft time limit.
        ("VOTERROLL_CHUNK_SECONDS", 0.001, 20),
        ("VOTERROLL_PAGES_PER_SECOND", 1, 1_000_000),
        ("VOTERROLL_STALLED_AFTER", 10, 7 * DAY),
        ("VOTERROLL_KEEP_FILES_DAYS", 1, 3650),
        ("VOTERROLL_REGISTER_MAX_BYTES", 1024, 2**36),
        ("LESSONS_TIME_SCALE", 0.01, 100),
        ("AXES_FAILURE_LIMIT", 1, 1000),
        ("AXES_COOLOFF_TIME", 0.01, 24 * 365),
    ]


LOCKOUT_PARAMETERS = {"username", "ip_address", "user_agent"}


@checks.register("settings")
def settings_in_range(app_configs, **kwargs):
    errors = []
    for name, lowest, highest in ranges():
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lowest <= value <= highest:
            errors.append(
                checks.Error(f"{name}={value!r} must be between {lowest} and {highest}", id="project.E001")
            )
    unknown = [name for name in settings.AXES_LOCKOUT_PARAMETERS if name not in LOCKOUT_PARAMETERS]
    if unknown or not settings.AXES_LOCKOUT_PARAMETERS:
        errors.append(
            checks.Error(
                f"AXES_LOCKOUT_PARAMETERS={','.join(settings.AXES_LOCKOUT_PARAMETERS)!r} must be one or more "
                f"of {', '.join(sorted(LOCKOUT_PARAMETERS))}",
                id="project.E002",
            )
        )
    return errors


@checks.register("settings")
def secret_key_strong(app_configs, **kwargs):
    """Prod's key signs sessions on the internet: a placeholder, a short or a repetitive one
    (Django's own deploy check only warns, security.W009) stops the process."""
    if not settings.REQUIRE_STRONG_SECRET_KEY or strong(settings.SECRET_KEY):
        return []
    return [
        checks.Error(
            "SECRET_KEY is a placeholder or too weak: give it at least 50 random characters, e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(50))"`',
            id="project.E003",
        )
    ]


def strong(key):
    """At least 50 characters, 10 of them different, not one piece repeated ('ab12c' * 10),
    and not a placeholder."""
    repeated = key in (key + key)[1:-1]
    placeholder = key.startswith("django-insecure-") or "change-me" in key
    return len(key) >= 50 and len(set(key)) >= 10 and not repeated and not placeholder
