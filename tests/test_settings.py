"""Each configuration starts (or refuses to) as documented."""

from pathlib import Path

import pytest

from project.stack import database_config
from tests.utils import BASE_DIR, manage

PRODUCTION_ENV = {
    "DJANGO_CONFIGURATION": "Prod",
    "SECRET_KEY": "k7#Vq9!zR2m$Xw4@Lp8^Tn6&Hb3*Jd5(Fc1)Gs0-Ya_Ue+Oi=Wr",
    "ALLOWED_HOSTS": "canvas.example.org",
    "DATABASE_URL": "postgres://canvas:secret@db.internal:5432/canvas",
    "CELERY_BROKER_URL": "amqp://canvas:secret@mq.internal:5672//",
}


def test_prod_passes_the_deployment_checklist_with_a_production_environment(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "VAR_DIR": str(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_prod_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env={**env, "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "change-me-to-a-long-random-string",  # start.env's placeholder
        "x",
        "django-insecure-" + "k7#Vq9!zR2m$Xw4@Lp8^Tn6&Hb3*Jd5(Fc1)Gs0-Ya_Ue+Oi=Wr",
        "a" * 60,
        "ab12c" * 10,  # 50 characters, 5 different, one piece repeated
    ],
)
def test_prod_refuses_to_start_with_a_placeholder_or_weak_secret_key(tmp_path, key):
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": key, "VAR_DIR": str(tmp_path)})

    assert result.returncode != 0
    assert "(project.E003) SECRET_KEY is a placeholder or too weak" in result.stderr
    assert "Traceback" not in result.stderr


def test_prod_accepts_a_generated_hex_key(tmp_path):
    """secrets.token_hex(32): 16 different characters, random, not repeated."""
    key = "3f9a0c7e1b5d8f2a6c4e0b9d7f1a3c5e8b2d4f6a0c9e7b1d3f5a8c2e4b6d0f9a"
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": key, "VAR_DIR": str(tmp_path)})

    assert result.returncode == 0, result.stderr


def test_the_image_build_collects_static_files_with_its_stand_in_key(tmp_path):
    """The Dockerfile runs collectstatic with SECRET_KEY=collectstatic: no server, no session.
    A key refused while the settings load stopped that build."""
    env = {**PRODUCTION_ENV, "SECRET_KEY": "collectstatic", "VAR_DIR": str(tmp_path)}
    result = manage("collectstatic", "--no-input", "--dry-run", env=env)

    assert result.returncode == 0, result.stderr


def test_sqlite_is_tuned_for_several_writer_processes():
    options = database_config("sqlite:////tmp/any.sqlite3")["OPTIONS"]

    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]
    assert options["timeout"] >= 10
    assert "OPTIONS" not in database_config("postgres://u@h:5432/d")


def test_make_runs_web_waits_five_seconds_for_the_embedded_database_the_worker_thirty(tmp_path):
    show = "from django.conf import settings as s; print(s.DATABASES['default']['OPTIONS']['timeout'])"
    web = Path(BASE_DIR, "Procfile").read_text().splitlines()[0]
    assert web.startswith("web: env SQLITE_TIMEOUT=5 ")
    env = {"DJANGO_CONFIGURATION": "Dev", "VAR_DIR": str(tmp_path)}
    assert manage("shell", "--no-imports", "-c", show, env={**env, "SQLITE_TIMEOUT": "5"}).stdout.split() == [
        "5"
    ]
    assert manage("shell", "--no-imports", "-c", show, env=env).stdout.split() == ["30"]


def test_demo_settings_come_from_variables_of_the_same_name_outside_tests(tmp_path):
    show = (
        "from django.conf import settings as s; "
        "print(s.REPORTS_TIME_SCALE, s.REPORTS_FAILURE_RATE, s.REPORTS_SEED)"
    )
    env = {"REPORTS_TIME_SCALE": "0.5", "REPORTS_FAILURE_RATE": "0.25", "REPORTS_SEED": "7"}

    dev = manage(
        "shell", "-v", "0", "-c", show, env={**env, "DJANGO_CONFIGURATION": "Dev", "VAR_DIR": str(tmp_path)}
    )
    test = manage(
        "shell",
        "-v",
        "0",
        "-c",
        show,
        env={**env, "DJANGO_CONFIGURATION": "Test", "TEST_VAR_DIR": str(tmp_path)},
    )

    assert dev.stdout.split() == ["0.5", "0.25", "7"], dev.stderr
    assert test.stdout.split() == ["0.01", "0.1", "0"], test.stderr
