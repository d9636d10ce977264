"""Settings for every machine, as django-configurations classes picked by DJANGO_CONFIGURATION.

- ``Dev`` (the default): the embedded stack, SQLite and kombu's filesystem broker under ``var/``.
- ``Test``: what pytest and its worker processes use; never touches the Dev database or queue.
- ``Prod``: PostgreSQL and RabbitMQ, everything secret or host-specific from the environment.

What differs between machines is read from the environment with typed values. One rule for
the variables' names: a variable is named as the setting it sets (SECRET_KEY, DATABASE_URL,
REPORTS_SEED); the Test configuration reads the few it takes as TEST_ and that name. start.env
lists them.
"""

import os
from pathlib import Path

from celery.schedules import crontab
from configurations import Configuration, values

from .stack import broker_transport_options, database_config, media_storage

BASE_DIR = Path(__file__).resolve().parent.parent


class Base(Configuration):
    VAR_DIR = values.PathValue(BASE_DIR / "var", check_exists=False, environ_prefix=None)

    SECRET_KEY = values.Value("django-insecure-only-for-the-embedded-dev-stack", environ_prefix=None)
    REQUIRE_STRONG_SECRET_KEY = False
    DEBUG = values.BooleanValue(False, environ_prefix=None)
    ALLOWED_HOSTS = values.ListValue(["127.0.0.1", "localhost"], environ_prefix=None)
    CSRF_TRUSTED_ORIGINS = values.ListValue([], environ_prefix=None)

    INSTALLED_APPS = [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "django_celery_beat",
        "django_celery_results",
        "axes",
        "project",
        "reports",
        "voterroll",
        "lessons",
    ]
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "project.outages.DatabaseBusyMiddleware",
        # Last, as django-axes asks: it turns a refused login into its lock-out page.
        "axes.middleware.AxesMiddleware",
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
    # Seconds a write waits for SQLite's lock (fake data replaced holds it for seconds) before
    # it fails: a task is delivered again, a page says the database is busy. make run's web
    # waits 5 (Procfile): a busy page at once is better than a click that hangs for 30 s.
    SQLITE_TIMEOUT = values.IntegerValue(30, environ_prefix=None)

    @property
    def DATABASES(self):
        url = self.DATABASE_URL or f"sqlite:///{Path(self.VAR_DIR) / 'db.sqlite3'}"
        return {"default": database_config(url, self.SQLITE_TIMEOUT)}

    # Login throttling (django-axes), first: after AXES_FAILURE_LIMIT wrong passwords for one
    # username, or from one address, every login for it is refused, the right password too,
    # for AXES_COOLOFF_TIME hours; a superuser lifts it sooner (Axes → Access attempts in the
    # admin, or `manage.py axes_reset_username NAME`). Behind a proxy every client has the
    # proxy's address: set AXES_LOCKOUT_PARAMETERS=username.
    AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    AXES_FAILURE_LIMIT = values.IntegerValue(10, environ_prefix=None)
    AXES_COOLOFF_TIME = values.FloatValue(1.0, environ_prefix=None)
    AXES_LOCKOUT_PARAMETERS = values.ListValue(["username", "ip_address"], environ_prefix=None)
    # A right password forgets the wrong ones before it: a typo a day never locks anyone out.
    AXES_RESET_ON_SUCCESS = True

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
    # On the file system under VAR_DIR unless S3_BUCKET names a bucket of an S3-compatible
    # store (AWS, MinIO), which every worker machine and the web process share.
    @property
    def MEDIA_ROOT(self):
        return Path(self.VAR_DIR) / "media"

    S3_BUCKET = values.Value(None, environ_prefix=None)
    # The store's address when it is not AWS (MinIO: http://minio:9000), and its region.
    S3_ENDPOINT_URL = values.Value(None, environ_prefix=None)
    S3_REGION = values.Value(None, environ_prefix=None)
    # Unset: boto3 finds credentials itself (AWS_* variables, a profile, an instance role).
    S3_ACCESS_KEY_ID = values.Value(None, environ_prefix=None)
    S3_SECRET_ACCESS_KEY = values.Value(None, environ_prefix=None)
    # "path" for MinIO and moto, which have no wildcard DNS; AWS picks by itself.
    S3_ADDRESSING_STYLE = values.Value("auto", environ_prefix=None)

    @property
    def STORAGES(self):
        return {
            "default": media_storage(self),
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }

    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": "INFO"},
    }

    # Celery. The embedded default needs no server: kombu's filesystem transport under VAR_DIR.
    CELERY_BROKER_URL = values.Value("filesystem://", environ_prefix=None)
    # django-celery-results' table, through a backend whose chords cost less (project.results).
    CELERY_RESULT_BACKEND = values.Value("project.results:DatabaseBackend", environ_prefix=None)
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

    # Celery's Django fixup closes the database connection before and after every task unless
    # told to reuse it (this many tasks); project.celery closes only unusable or old ones.
    CELERY_DB_REUSE_MAX = 1000
    # Keep retrying the broker at start-up instead of exiting (Celery 5.3+ asks to say so).
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    CELERY_RESULT_EXTENDED = True
    # A result that cannot be stored because the database went away is stored again, up to
    # 30 times with growing pauses (10 ms to 10 s): a restart takes seconds (project.results).
    CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
    CELERY_RESULT_BACKEND_MAX_RETRIES = 30
    CELERY_TIMEZONE = "UTC"
    # Tasks are idempotent: acknowledge after the work, and hand a task back to the broker
    # when its worker process dies, so a crash re-runs it instead of losing it.
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    # Events for Flower: a worker reports each task it receives, starts and ends, and whoever
    # sends a task reports that (Flower shows it queued). Unheard, they cost a publish each.
    CELERY_WORKER_SEND_TASK_EVENTS = True
    CELERY_TASK_SEND_SENT_EVENT = True

    # Messages a worker may hold per process. RabbitMQ and Redis push the next message as soon
    # as one is acknowledged, so one each: long tasks do not hoard work another worker could do.
    # The filesystem broker hands a message over only when the worker looks again; with more
    # than one each, the worker holds the next message while its processes are busy (Celery's
    # blocking pool, which this broker gets, takes one more than it has processes, whatever the
    # multiplier): option 5b 8 % faster. One machine, one worker: nothing to hoard from.
    @property
    def CELERY_WORKER_PREFETCH_MULTIPLIER(self):
        return 4 if self.CELERY_BROKER_URL.startswith("filesystem://") else 1

    # Pool processes of a worker started without --concurrency (make run's, docker compose's):
    # one per CPU, as Celery's own default. Option 5c also falls back on it when no worker says
    # how many it runs.
    CELERY_WORKER_CONCURRENCY = values.IntegerValue(os.cpu_count() or 1, environ_prefix=None)

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
            "schedule": 60,
        },
        "voterroll-fail-stalled-runs": {
            "task": "voterroll.tasks.fail_stalled_runs",
            "schedule": 60,
        },
        "voterroll-delete-old-files": {
            "task": "voterroll.tasks.delete_old_files",
            "schedule": crontab(hour=3, minute=30),
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
    # Seconds without a task log after which a working report is given up on (marked Error):
    # longer than any quiet spell of a live one, an attempt (up to 100 s) or a retry's wait (up
    # to 500 s), times REPORTS_TIME_SCALE.
    REPORTS_STALLED_AFTER = values.IntegerValue(15 * 60, environ_prefix=None)

    # voterroll: the most voters one station (one table, one PDF) serves.
    VOTERROLL_STATION_SIZE = values.IntegerValue(500, environ_prefix=None)
    # Women and men at separate stations of a center; but a gender with fewer voters than
    # VOTERROLL_MIXED_STATION_BELOW joins the other's last station (men listed first) rather
    # than get a tiny station of its own.
    VOTERROLL_STATIONS_BY_GENDER = values.BooleanValue(True, environ_prefix=None)
    VOTERROLL_MIXED_STATION_BELOW = values.IntegerValue(25, environ_prefix=None)
    # Option 5c: seconds of writing per chunk of stations, and the roll pages one worker
    # process writes a second with their covers and signs (the "ceiling" line of
    # benchmarks/voterroll_options.py), to size the chunks by. Half a second: a task's own cost
    # (~5 ms) stays near 1 %, and chunks are many enough that no process idles long at the end.
    VOTERROLL_CHUNK_SECONDS = values.FloatValue(0.5, environ_prefix=None)
    VOTERROLL_PAGES_PER_SECOND = values.IntegerValue(1700, environ_prefix=None)
    # Seconds without a sign of life from a run's tasks after which it is failed (while it
    # looks active, no other run may start). Longer than any step that gives none: assigning
    # every station may take up to its 5.5 min time limit.
    VOTERROLL_STALLED_AFTER = values.IntegerValue(10 * 60, environ_prefix=None)
    # Days an ended run's rolls are kept; beat deletes them after (the run's record stays).
    VOTERROLL_KEEP_FILES_DAYS = values.IntegerValue(30, environ_prefix=None)
    # The largest register file the admin takes (bytes): a million voters is about 70 MB.
    VOTERROLL_REGISTER_MAX_BYTES = values.IntegerValue(256 * 2**20, environ_prefix=None)

    # lessons: the brokers the lessons about a broker compare, each lesson on queues of its own.
    # Redis on a database of the lessons' own (9), whose keys they delete when they end.
    LESSONS_REDIS_URL = values.Value("redis://127.0.0.1:6379/9", environ_prefix=None)
    LESSONS_RABBITMQ_URL = values.Value("amqp://guest:guest@127.0.0.1:5672//", environ_prefix=None)
    # Every wait, countdown, window and timeout of a lesson (each a few seconds) times this.
    LESSONS_TIME_SCALE = values.FloatValue(1.0, environ_prefix=None)


class Dev(Base):
    DEBUG = values.BooleanValue(True, environ_prefix=None)


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
    CELERY_TASK_DEFAULT_QUEUE = values.Value(
        "test", environ_name="TEST_CELERY_TASK_DEFAULT_QUEUE", environ_prefix=None
    )
    # Unset: the file system under VAR_DIR. make test's storage pass points these at moto's S3
    # server (tests/s3_stack.py); a developer's S3_* variables never reach the tests.
    S3_BUCKET = values.Value(None, environ_name="TEST_S3_BUCKET", environ_prefix=None)
    S3_ENDPOINT_URL = values.Value(None, environ_name="TEST_S3_ENDPOINT_URL", environ_prefix=None)
    S3_REGION = values.Value(None, environ_name="TEST_S3_REGION", environ_prefix=None)
    S3_ACCESS_KEY_ID = values.Value(None, environ_name="TEST_S3_ACCESS_KEY_ID", environ_prefix=None)
    S3_SECRET_ACCESS_KEY = values.Value(None, environ_name="TEST_S3_SECRET_ACCESS_KEY", environ_prefix=None)
    S3_ADDRESSING_STYLE = values.Value("auto", environ_name="TEST_S3_ADDRESSING_STYLE", environ_prefix=None)
    # The demo knobs are fixed, not read from the environment: an exported start.env must not
    # slow the suite a hundredfold or change the stories and stations the tests expect.
    REPORTS_TIME_SCALE = 0.01
    REPORTS_FAILURE_RATE = 0.1
    REPORTS_SEED = 0
    VOTERROLL_STATION_SIZE = 500
    VOTERROLL_STATIONS_BY_GENDER = True
    VOTERROLL_MIXED_STATION_BELOW = 25
    VOTERROLL_CHUNK_SECONDS = 0.01
    VOTERROLL_PAGES_PER_SECOND = 1500
    CELERY_WORKER_CONCURRENCY = 4  # as the tests' worker runs (tests/conftest.py)
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    LESSONS_REDIS_URL = values.Value(
        "redis://127.0.0.1:6379/9", environ_name="TEST_LESSONS_REDIS_URL", environ_prefix=None
    )
    LESSONS_RABBITMQ_URL = values.Value(
        "amqp://guest:guest@127.0.0.1:5672//", environ_name="TEST_LESSONS_RABBITMQ_URL", environ_prefix=None
    )
    LESSONS_TIME_SCALE = 1.0

    @property
    def DATABASES(self):
        databases = super().DATABASES
        # Test against the configured database itself (it must be throwaway): the worker
        # processes the tests start connect to it by the same name.
        databases["default"]["TEST"] = {"NAME": databases["default"]["NAME"]}
        return databases


class Prod(Base):
    SECRET_KEY = values.SecretValue(environ_prefix=None)
    # A placeholder, short or repetitive key stops every start (project.checks).
    REQUIRE_STRONG_SECRET_KEY = True
    DATABASE_URL = values.Value(environ_required=True, environ_prefix=None)
    CELERY_BROKER_URL = values.Value(environ_required=True, environ_prefix=None)

    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = values.BooleanValue(True, environ_prefix=None)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = values.IntegerValue(60 * 60 * 24 * 365, environ_prefix=None)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # gunicorn serves static files through WhiteNoise (runserver and the test server do it
    # themselves).
    MIDDLEWARE = [
        Base.MIDDLEWARE[0],
        "whitenoise.middleware.WhiteNoiseMiddleware",
        *Base.MIDDLEWARE[1:],
    ]

    @property
    def STORAGES(self):
        return {
            **super().STORAGES,
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        }
