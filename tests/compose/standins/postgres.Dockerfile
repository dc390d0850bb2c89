# Stand-in for the official postgres:15, only because no image registry is reachable here (see ./build).
# Debian bookworm's PostgreSQL 15 with an entrypoint that honours POSTGRES_DB, POSTGRES_USER and
# POSTGRES_PASSWORD on first start, keeps its data in /var/lib/postgresql/data, and has pg_isready on PATH.
FROM ticketing-standin-base:bookworm
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \
    && rm -rf /var/lib/apt/lists/* /etc/postgresql/15/main /var/lib/postgresql/15/main \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# As the official image: SIGINT is PostgreSQL's fast shutdown.
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
