"""How the admin pages show a moment and a duration, the same on every page.

Each returns None for nothing to show: the admin then shows its own empty-value dash.
"""

from datetime import timedelta

from django.utils import timezone


def local_time(moment):
    """A moment to the second in the site's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else None


def seconds(duration):
    """A duration (a timedelta, or seconds) to the hundredth of a second."""
    if duration is None:
        return None
    if isinstance(duration, timedelta):
        duration = duration.total_seconds()
    return f"{duration:.2f} s"
