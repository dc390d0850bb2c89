"""Production settings, checked in fresh processes (settings load once per process)."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.management.utils import get_random_secret_key

REPO = Path(__file__).resolve().parents[2]


def run_with_production_settings(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "LOG_FORMAT"}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.production", ALLOWED_HOSTS="example.com", **env
    )
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=environment, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_with_a_real_secret_key():
    done = run_with_production_settings("manage.py", "check", "--deploy", SECRET_KEY=get_random_secret_key())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(security." not in done.stdout + done.stderr
    # Every deployment (security) check, warnings included, with nothing silenced.
    strict = run_with_production_settings(
        "manage.py",
        "check",
        "--deploy",
        "--tag",
        "security",
        "--fail-level",
        "WARNING",
        SECRET_KEY=get_random_secret_key(),
    )
    assert strict.returncode == 0, strict.stdout + strict.stderr
    assert "no issues (0 silenced)" in strict.stdout


def test_production_refuses_to_start_without_a_secret_key():
    done = run_with_production_settings("manage.py", "check", SECRET_KEY="")
    assert done.returncode != 0
    assert "Set SECRET_KEY" in done.stderr


def test_production_refuses_the_development_key():
    done = run_with_production_settings(
        "manage.py", "check", SECRET_KEY="insecure-dev-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
    )
    assert done.returncode != 0
    assert "Set SECRET_KEY" in done.stderr


_SHOW = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.LOGGING['handlers']['console']['formatter']); "
    "print('whitenoise.middleware.WhiteNoiseMiddleware' in settings.MIDDLEWARE); "
    "print(settings.MIDDLEWARE[0])"
)


def test_production_logs_json_and_serves_static_files():
    done = run_with_production_settings("-c", _SHOW, SECRET_KEY=get_random_secret_key())
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["json", "True", "config.middleware.RequestIdMiddleware"]


def test_log_format_plain_can_be_chosen_in_production():
    done = run_with_production_settings("-c", _SHOW, SECRET_KEY=get_random_secret_key(), LOG_FORMAT="plain")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "plain"
