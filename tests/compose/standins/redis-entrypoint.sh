#!/bin/sh
# Stand-in for the official redis image's entrypoint (see ./build): own /data, drop to `redis`, and run
# redis-server reachable from the compose network (no bind, no protected mode), as the official one does.
set -e
if [ "$1" = "redis-server" ]; then
  shift
  chown -R redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups \
    redis-server --bind '*' '-::*' --protected-mode no --dir /data "$@"
fi
exec "$@"
