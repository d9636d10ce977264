"""Settings for every machine, as django-configurations classes picked by DJANGO_CONFIGURATION.

- ``Dev`` (the default): the embedded stack, SQLite and kombu's filesystem broker under ``var/``.
- ``Test``: what pytest and its worker processes use; never touches the Dev database or queue.
- ``Prod``: PostgreSQL and RabbitMQ, everything secret or host-specific from the environment.

What differs between machines is read from the environment with typed values; the variable
names are in start.env.
"""
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from configurations import Configuration, values

BASE_DIR = Path(__file__).resolve().parent.parent


def database_config(url):
    """A DATABASES entry for ``url``; SQLite is tuned for several writing processes."""
    config = dj_database_url.parse(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # web, beat and every worker child write. BEGIN IMMEDIATE takes the write lock up
            # front, so a transaction waits for it (up to ``timeout`` seconds) instead of
            # failing with "database is locked" when it tries to upgrade a read lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            # WAL lets readers go on beside the one writer.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return config


def broker_transport_options(broker_url, var_dir, polling_interval):
    """Transport options for the broker that ``broker_url`` names."""
    scheme = broker_url.partition("://")[0]
    if scheme == "filesystem":
        folder = Path(var_dir).resolve() / "broker"
        return {
            # Absolute paths: kombu's defaults are relative to whatever the cwd is.
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            # A consumer claims a message by renaming it into this folder. Keeping it beside
            # the queue makes that rename atomic (the default, the system temp dir, may be on
            # another filesystem, where a move is copy-then-delete and two workers can both
            # read one message). project.tasks.purge_processed_broker_messages empties it.
            "store_processed": True,
            "processed_folder": str(folder / "processed"),
            "polling_interval": polling_interval,
        }
    if scheme in ("redis", "rediss"):
        # A task not acknowledged within this many seconds is delivered again, to another
        # worker. It has to outlast the longest task and the longest retry countdown.
        return {"visibility_timeout": 2 * 60 * 60}
    return {}


class Base(Configuration):
    VAR_DIR = values.PathValue(BASE_DIR / "var", check_exists=False, environ_prefix=None)

    SECRET_KEY = values.Value("django-insecure-only-for-the-embedded-dev-stack")
    DEBUG = values.BooleanValue(False)
    ALLOWED_HOSTS = values.ListValue(["127.0.0.1", "localhost"])
    CSRF_TRUSTED_ORIGINS = values.ListValue([])

    INSTALLED_APPS = [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "django_celery_beat",
        "django_celery_results",
        "project",
        "reports",
        "voterroll",
    ]
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    ROOT_URLCONF = "project.urls"
    TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [],
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ],
            },
        },
    ]
    WSGI_APPLICATION = "project.wsgi.application"
    DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

    # Unset means the embedded SQLite file under VAR_DIR.
    DATABASE_URL = values.Value(None, environ_prefix=None)

    @property
    def DATABASES(self):
        url = self.DATABASE_URL or f"sqlite:///{Path(self.VAR_DIR) / 'db.sqlite3'}"
        return {"default": database_config(url)}

    AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ]

    LANGUAGE_CODE = "en-us"
    TIME_ZONE = "UTC"
    USE_I18N = True
    USE_TZ = True

    STATIC_URL = "static/"

    # Built into the image by collectstatic: outside VAR_DIR, which is a volume in production.
    STATIC_ROOT = BASE_DIR / "staticfiles"

    # Voter-roll PDFs. Never served from a public URL: staff download them through the admin.
    @property
    def MEDIA_ROOT(self):
        return Path(self.VAR_DIR) / "media"

    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": "INFO"},
    }

    # Celery. The embedded default needs no server: kombu's filesystem transport under VAR_DIR.
    CELERY_BROKER_URL = values.Value("filesystem://", environ_prefix=None)
    CELERY_RESULT_BACKEND = values.Value("django-db", environ_prefix=None)
    # Seconds between two looks at the filesystem broker's folder for new messages.
    CELERY_BROKER_POLLING_INTERVAL = values.FloatValue(0.1, environ_prefix=None)

    @property
    def CELERY_BROKER_TRANSPORT(self):
        # Given a transport, kombu ignores the URL's scheme: filesystem:// gets the atomic one.
        if self.CELERY_BROKER_URL.startswith("filesystem://"):
            return "project.broker:FilesystemTransport"
        return None

    @property
    def CELERY_BROKER_TRANSPORT_OPTIONS(self):
        return broker_transport_options(
            self.CELERY_BROKER_URL, self.VAR_DIR, self.CELERY_BROKER_POLLING_INTERVAL
        )

    # Keep retrying the broker at start-up instead of exiting (Celery 5.3+ asks to say so).
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    CELERY_RESULT_EXTENDED = True
    CELERY_TIMEZONE = "UTC"
    # Tasks are idempotent: acknowledge after the work, and hand a task back to the broker
    # when its worker process dies, so a crash re-runs it instead of losing it.
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    # One message per process at a time: long tasks do not hoard work other processes could do.
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    # Right-sized tasks finish well inside a 30 s graceful-shutdown window (Kubernetes'
    # default). Tasks that are long on purpose say so with their own limits.
    CELERY_TASK_SOFT_TIME_LIMIT = 25
    CELERY_TASK_TIME_LIMIT = 30
    CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
    CELERY_BEAT_SCHEDULE = {
        "purge-processed-broker-messages": {
            "task": "project.tasks.purge_processed_broker_messages",
            "schedule": 10 * 60,
        },
        "reports-fail-stalled": {
            "task": "reports.tasks.fail_stalled_reports",
            "schedule": 10 * 60,
        },
        "voterroll-fail-stalled-runs": {
            "task": "voterroll.tasks.fail_stalled_runs",
            "schedule": 10 * 60,
        },
        # django-celery-results keeps results for CELERY_RESULT_EXPIRES (a day); this deletes
        # older ones.
        "celery.backend_cleanup": {
            "task": "celery.backend_cleanup",
            "schedule": crontab(hour=4, minute=0),
        },
    }
    # Processed filesystem-broker messages older than this many seconds are deleted.
    BROKER_PROCESSED_RETENTION = values.IntegerValue(60 * 60, environ_prefix=None)

    # reports: demo tasks' sleeps and retry back-off are multiplied by the time scale; each
    # attempt fails at the failure rate; draws are seeded per (report, task, attempt).
    REPORTS_TIME_SCALE = values.FloatValue(1.0, environ_prefix=None)
    REPORTS_FAILURE_RATE = values.FloatValue(0.1, environ_prefix=None)
    REPORTS_SEED = values.IntegerValue(0, environ_prefix=None)
    # Seconds after which a report still Processing is given up on (marked Error) by beat's
    # watchdog; far beyond the longest story (6 long attempts and their back-off).
    REPORTS_STALLED_AFTER = values.PositiveIntegerValue(2 * 60 * 60, environ_prefix=None)

    # voterroll: the most voters one station (one table, one PDF) serves.
    VOTERROLL_STATION_SIZE = values.PositiveIntegerValue(500, environ_prefix=None)
    # Seconds after which a run still queued or running is marked failed by beat's watchdog
    # (while it looks active, no other run may start). Counted from queueing: it must exceed
    # the longest run the task limits allow (option 5a: ~5.5 min assigning, then ~61 min of
    # starmap) plus queue waits, or the watchdog fails a live run and lets a second start.
    VOTERROLL_STALLED_AFTER = values.PositiveIntegerValue(2 * 60 * 60, environ_prefix=None)


class Dev(Base):
    DEBUG = values.BooleanValue(True)


class Test(Base):
    """What pytest and the worker processes it starts use.

    Its own variables, so a test run never drops a developer's database or purges a queue
    someone else consumes from.
    """

    # Two test runs at once (two checkouts' CI, say) each name their own folder and queue.
    VAR_DIR = values.PathValue(
        BASE_DIR / "var" / "test", check_exists=False, environ_name="TEST_VAR_DIR", environ_prefix=None
    )
    DATABASE_URL = values.Value(None, environ_name="TEST_DATABASE_URL", environ_prefix=None)
    CELERY_BROKER_URL = values.Value(
        "filesystem://", environ_name="TEST_CELERY_BROKER_URL", environ_prefix=None
    )
    CELERY_TASK_DEFAULT_QUEUE = values.Value("test", environ_name="TEST_CELERY_QUEUE", environ_prefix=None)
    # The demo knobs are fixed, not read from the environment: an exported start.env must not
    # slow the suite a hundredfold or change the stories and stations the tests expect.
    REPORTS_TIME_SCALE = 0.01
    REPORTS_FAILURE_RATE = 0.1
    REPORTS_SEED = 0
    VOTERROLL_STATION_SIZE = 500
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    @property
    def DATABASES(self):
        databases = super().DATABASES
        # Test against the configured database itself (it must be throwaway): the worker
        # processes the tests start connect to it by the same name.
        databases["default"]["TEST"] = {"NAME": databases["default"]["NAME"]}
        return databases


class Prod(Base):
    SECRET_KEY = values.SecretValue()
    DATABASE_URL = values.Value(environ_required=True, environ_prefix=None)
    CELERY_BROKER_URL = values.Value(environ_required=True, environ_prefix=None)

    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = values.BooleanValue(True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = values.IntegerValue(60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # gunicorn serves static files through WhiteNoise (runserver and the test server do it
    # themselves).
    MIDDLEWARE = [
        Base.MIDDLEWARE[0],
        "whitenoise.middleware.WhiteNoiseMiddleware",
        *Base.MIDDLEWARE[1:],
    ]
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
