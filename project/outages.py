"""A database outage, told from a wrong query; and web requests that meet one get a page that
says so, not a 500 (tasks meeting one go back to the queue: project.tasks.DatabaseTask).

The database is locked (SQLite, while fake data is replaced in one long transaction) or away
(PostgreSQL restarting): the request changed nothing and may be tried again in a moment.
"""

import contextlib
import sys

from django.core.management import CommandError
from django.db import InterfaceError, OperationalError, connections
from django.template.response import SimpleTemplateResponse
from django.views import defaults


def is_outage(error):
    """Whether ``error`` says the database went away, rather than that the query was wrong.

    PostgreSQL reports a lost or refused connection as OperationalError or InterfaceError;
    SQLite reports its mistakes as OperationalError too, and only "database is locked" passes.
    """
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    return connections["default"].vendor != "sqlite" or "locked" in str(error)


def busy_page(error):
    response = SimpleTemplateResponse("database_busy.html", {"error": error}, status=503)
    response["Retry-After"] = "10"
    return response.render()


class DatabaseBusyMiddleware:
    """The page for a view that met the outage (with DEBUG on too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return busy_page(exception) if is_outage(exception) else None


def server_error(request):
    """handler500: the page for an outage met outside a view (saving the session, say)."""
    error = sys.exc_info()[1]
    return busy_page(error) if is_outage(error) else defaults.server_error(request)


@contextlib.contextmanager
def commands_refuse_outages():
    """For a management command: the outage as a one-line refusal (exit 1), not a traceback."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        if not is_outage(error):
            raise
        raise CommandError(
            f"The database is busy (another process holds a long transaction, such as fake data being "
            f"replaced) or away ({error}): nothing was changed; try again in a moment."
        ) from None
