# Stand-in for the official redis:7, only because no image registry is reachable here (see ./build).
# Debian bookworm's redis-server 7.0 and redis-cli; like the official image it works in /data, runs as
# the `redis` user and, started as `redis-server ...`, listens on every interface without protected mode.
FROM ticketing-standin-base:bookworm
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
VOLUME /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
