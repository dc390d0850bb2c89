"""Secrets come only from the environment. Already covered in tests/ops/test_production_settings.py:
`manage.py check --deploy` passes (every security check, warnings included), production refuses to start
without SECRET_KEY or with the development key. This file fills the gaps: the JWT signing key, and no
secret committed to the repository."""

import subprocess

from django.core.management.utils import get_random_secret_key

from tests.ops.test_production_settings import REPO, run_with_production_settings

_SHOW_KEYS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SIMPLE_JWT['SIGNING_KEY'] == settings.SECRET_KEY); "
    "print(settings.SIMPLE_JWT['SIGNING_KEY'])"
)


def test_production_signs_tokens_with_the_environments_key():
    secret, jwt_key = get_random_secret_key(), get_random_secret_key()
    done = run_with_production_settings("-c", _SHOW_KEYS, SECRET_KEY=secret, JWT_SIGNING_KEY=jwt_key)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["False", jwt_key]
    # Without JWT_SIGNING_KEY, the (required, random) SECRET_KEY signs: never a default from the code.
    done = run_with_production_settings("-c", _SHOW_KEYS, SECRET_KEY=secret, JWT_SIGNING_KEY="")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True", secret]


def test_no_env_file_or_key_is_committed():
    tracked = subprocess.run(
        ["git", "ls-files"],  # noqa: S607
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert ".env" not in tracked
    assert not [name for name in tracked if name.endswith((".pem", ".key"))]
    example = (REPO / ".env.example").read_text()
    assert "\nSECRET_KEY=\n" in example  # the example names the variable and leaves it empty
