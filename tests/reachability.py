"""Is the stack the Test configuration names reachable? Embedded parts always are."""

import psycopg
from kombu import Connection


def unreachable_services(database, broker_url):
    """A list of what cannot be reached, each with its address and error."""
    problems = []
    if database["ENGINE"] == "django.db.backends.postgresql":
        address = f"{database['HOST']}:{database['PORT']}"
        try:
            # The maintenance database: the test database itself is created later.
            psycopg.connect(
                dbname="postgres",
                user=database["USER"],
                password=database["PASSWORD"],
                host=database["HOST"],
                port=database["PORT"],
                connect_timeout=3,
            ).close()
        except psycopg.Error as error:
            problems.append(f"PostgreSQL at {address} ({error})")
    if not broker_url.startswith("filesystem://"):
        try:
            with Connection(broker_url, connect_timeout=3) as connection:
                connection.ensure_connection(max_retries=1)
        except Exception as error:  # kombu raises the transport's own errors
            problems.append(f"broker {Connection(broker_url).as_uri()} ({error})")
    return problems
