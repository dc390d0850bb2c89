import pytest

from tests.problems import assert_problem


@pytest.mark.embedded
def test_unknown_api_path_is_a_problem_document(api_client, db):
    assert_problem(api_client.get("/api/v1/nope"), 404, "not_found")
    assert_problem(api_client.get("/api/whatever/else"), 404, "not_found")


def test_wrong_method_is_a_problem_document(api_client, db):
    assert_problem(api_client.delete("/api/v1/concerts"), 405, "method_not_allowed")


def test_wrong_content_type_is_a_problem_document(auth_client):
    response = auth_client.post(
        "/api/v1/users", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.embedded
def test_healthz_and_readyz(api_client, db, settings):
    assert api_client.get("/healthz").status_code == 200
    ready = api_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] is True
    if settings.REDIS_URL:
        assert ready.json()["checks"]["redis"] is True


def test_readyz_is_503_when_redis_is_unreachable(api_client, db, settings):
    from config.redis import get_redis

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    get_redis.cache_clear()
    try:
        response = api_client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["redis"] is False
    finally:
        get_redis.cache_clear()


@pytest.mark.embedded
def test_openapi_schema_and_offline_swagger(api_client, db):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/concerts" in paths and "/api/v1/users" in paths
    docs = api_client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


@pytest.mark.postgres_only("a server-side end of the connection")
@pytest.mark.django_db(transaction=True)
def test_readyz_stays_200_when_its_kept_connection_was_dropped(api_client):
    """A database restart drops every kept connection; the probe answers for the database, not for the
    dead connection: it retries on a fresh one."""
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"],
        port=params["PORT"],
        autocommit=True,
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)

    response = api_client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["database"] is True
