"""The production static build, run as the image runs it: `collectstatic` with production settings
(WhiteNoise's manifest storage), then gunicorn serving the hashed files. A static file that names a file
which is not there (a source map left out of a vendored library) must fail the build."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.utils import get_random_secret_key

from tests.ops.test_serving import free_port

ROOT = Path(__file__).resolve().parents[2]
# Collect with one more static folder than the settings name, so a test can add a broken asset.
_COLLECT = (
    "import sys, django; django.setup(); "
    "from django.core.management import call_command; from django.test import override_settings; "
    "extra = sys.argv[1:]\n"
    "with override_settings(STATICFILES_DIRS=extra): call_command('collectstatic', '--noinput', '-v', '0')"
)


def production_env(static_root: Path, tmp_path: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "LOG_FORMAT"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=get_random_secret_key(),
        STATIC_ROOT=str(static_root),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",  # plain http on loopback; the proxy in front does TLS in production
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    return environment


def collectstatic(env: dict[str, str], *extra_dirs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _COLLECT, *map(str, extra_dirs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@contextmanager
def production_gunicorn(env: dict[str, str], log_path: Path) -> Iterator[int]:
    """gunicorn with the product's config file, one worker, on a free loopback port."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        "--config=config/gunicorn_conf.py",
        f"--bind=127.0.0.1:{port}",
        "--workers=1",
    ]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 60
            while fetch(port, "/healthz")[0] != 200:
                assert server.poll() is None, log_path.read_text()[-3000:]
                assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.2)
            yield port
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def fetch(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except OSError:
        return 0, {}, b""


def test_gunicorn_serves_the_admin_css_and_the_live_sale_script_from_the_production_build(tmp_path):
    static_root = tmp_path / "static"
    env = production_env(static_root, tmp_path)
    built = collectstatic(env)
    assert built.returncode == 0, built.stderr[-3000:]
    hashed = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    assets = {
        "admin/css/base.css": "text/css",
        "backoffice/live_sale/live_sale.js": "text/javascript",
        "backoffice/vendor/chart.umd.js": "text/javascript",
    }
    with production_gunicorn(env, tmp_path / "gunicorn.log") as port:
        for name, content_type in assets.items():
            assert hashed[name] != name, f"{name} has no hashed name"
            status, headers, body = fetch(port, f"/static/{hashed[name]}")
            assert status == 200, (name, status)
            assert headers["Content-Type"].startswith(content_type), headers
            assert "immutable" in headers["Cache-Control"], headers  # WhiteNoise's far-future caching
            assert body == (static_root / hashed[name]).read_bytes(), name
        # The admin's pages link the hashed stylesheet, so a browser gets what the manifest names.
        status, _, login_page = fetch(port, "/admin/login/")
        assert status == 200
        assert f"/static/{hashed['admin/css/base.css']}".encode() in login_page


def test_collectstatic_fails_when_a_static_file_names_a_missing_file(tmp_path):
    env = production_env(tmp_path / "static", tmp_path)
    extra = tmp_path / "extra"
    (extra / "vendor").mkdir(parents=True)
    (extra / "vendor" / "lib.js").write_text("window.lib = 1;\n//# sourceMappingURL=lib.js.map\n")
    failed = collectstatic(env, extra)
    assert failed.returncode != 0
    assert "MissingFileError" in failed.stderr
    assert "vendor/lib.js.map" in failed.stderr
    # The same folder with the map present builds: the failure is the missing file, not the folder.
    (extra / "vendor" / "lib.js.map").write_text('{"version": 3, "sources": [], "mappings": ""}')
    assert collectstatic(env, extra).returncode == 0
