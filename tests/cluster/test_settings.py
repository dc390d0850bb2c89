"""Cluster mode without a broker of its own is refused while the settings load, with a message that says
what to set; a bad combination never waits for the first task to fail."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_CLUSTER"}}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CELERY_BROKER_URL, settings.CACHES['default']['BACKEND'])",
        ],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cluster_mode_without_a_celery_broker_fails_at_start_up():
    done = load_settings(REDIS_CLUSTER="true", REDIS_URL="redis://127.0.0.1:7000/0")
    assert done.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in done.stderr
    assert "Set CELERY_BROKER_URL" in done.stderr


def test_cluster_mode_refuses_the_cluster_itself_as_broker():
    url = "redis://127.0.0.1:7000/0"
    done = load_settings(REDIS_CLUSTER="true", REDIS_URL=url, CELERY_BROKER_URL=url)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "not the cluster" in done.stderr


def test_cluster_mode_without_redis_url_fails_at_start_up():
    done = load_settings(REDIS_CLUSTER="true", REDIS_URL="", CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "needs REDIS_URL" in done.stderr


@pytest.mark.parametrize("cluster", ["true", "false"])
def test_a_broker_of_its_own_starts(cluster):
    done = load_settings(
        REDIS_CLUSTER=cluster, REDIS_URL="redis://127.0.0.1:7000/0", CELERY_BROKER_URL="amqp://mq:5672//"
    )
    assert done.returncode == 0, done.stderr
    broker, backend = done.stdout.split()
    assert broker == "amqp://mq:5672//"
    expected = "config.cache_cluster.RedisClusterCache" if cluster == "true" else "RedisCache"
    assert backend.endswith(expected)
