"""The chaos stack's Redis Cluster and load balancer: what faults 5 and 6 add to the stack.

ClusterStack starts a Redis Cluster of 3 masters and 3 replicas from Debian's redis-server (each node a
child process on a free loopback port, `cluster-node-timeout` 2000 ms so a dead master is failed over in
seconds), switches the app's processes to it (REDIS_CLUSTER=true, REDIS_URL on a node, Celery's broker
staying on the standalone Redis), kills and restarts nodes, and reads the cluster's view of itself.
It also runs HAProxy in front of several gunicorn nodes.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from typing import Any

from bench.stackbase import ServiceStack, http_status, wait_until

NODE_TIMEOUT_MS = 2000
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
PROBLEM_503 = (
    b'{"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": "A backing service '
    b'is unavailable; try again shortly.", "code": "service_unavailable"}'
)


def free_cluster_port() -> int:
    """A port whose cluster bus port (+10000) is free too, both below 65536."""
    for _ in range(500):
        port = random.randint(20000, 45000)
        try:
            for p in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


@dataclass
class Node:
    port: int
    node_id: str
    role: str  # "master" or "slave"
    master_id: str  # "-" for a master
    failed: bool
    slots: list[tuple[int, int]]


class ClusterStack(ServiceStack):
    """The chaos Stack's base: the shared stack plus a Redis Cluster and HAProxy."""

    cluster_ports: list[int]
    cluster_mode = False

    # --- the cluster -----------------------------------------------------------------------------
    @property
    def cluster_url(self) -> str:
        return f"redis://127.0.0.1:{self.cluster_ports[0]}/0"

    def cluster_env(self) -> dict[str, str]:
        if not self.cluster_mode:
            return {}
        live = next((p for p in self.cluster_ports if self.node_running(p)), self.cluster_ports[0])
        return {
            "REDIS_CLUSTER": "true",
            "REDIS_URL": f"redis://127.0.0.1:{live}/0",
            "CELERY_BROKER_URL": self.redis_url,  # the standalone Redis
        }

    def start_cluster(self, masters: int = 3, replicas: int = 1) -> None:
        self.cluster_ports = []
        while len(self.cluster_ports) < masters * (1 + replicas):
            port = free_cluster_port()
            if port not in self.cluster_ports:
                self.cluster_ports.append(port)
        for port in self.cluster_ports:
            self.start_node(port)
        for port in self.cluster_ports:
            if not wait_until(lambda p=port: self.cli(p, "ping") == "PONG", 10):
                raise RuntimeError(f"cluster node {port} did not start:\n" + self.log_tail(f"redis-{port}"))
        created = subprocess.run(
            [
                REDIS_CLI,
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in self.cluster_ports),
                "--cluster-replicas",
                str(replicas),
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout}\n{created.stderr}")
        if not wait_until(lambda: self.cluster_healthy(masters, replicas), 30, 0.2):
            raise RuntimeError("the cluster did not reach cluster_state:ok with every replica in sync")

    def start_node(self, port: int) -> None:
        """A node in the foreground (a child of this process); its nodes.conf survives a restart."""
        ndir = self.work / "cluster" / str(port)
        ndir.mkdir(parents=True, exist_ok=True)
        self.spawn(
            f"redis-{port}",
            [
                "redis-server",
                *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--cluster-enabled", "yes", "--cluster-config-file", str(ndir / "nodes.conf")),
                *("--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--dir", str(ndir)),
            ],
            env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
        )

    def node_running(self, port: int) -> bool:
        return self.running(f"redis-{port}")

    def kill_node(self, port: int) -> None:
        self.stop_process(f"redis-{port}", signal.SIGKILL, timeout=5)

    def cli(self, port: int, *args: str) -> str:
        """`redis-cli -p port args`: its output, or "" when the node does not answer."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            done = subprocess.run(
                [REDIS_CLI, "-p", str(port), *args], capture_output=True, text=True, timeout=3, check=False
            )
            return done.stdout.strip()
        return ""

    def nodes(self) -> list[Node]:
        """CLUSTER NODES as seen by a live node."""
        for port in self.cluster_ports:
            if not self.node_running(port):
                continue
            text = self.cli(port, "cluster", "nodes")
            if not text:
                continue
            nodes = []
            for line in text.splitlines():
                f = line.split()
                addr_port = int(f[1].split("@")[0].rsplit(":", 1)[1])
                slots = []
                for part in f[8:]:
                    if part.startswith("["):
                        continue  # a slot being migrated
                    lo, _, hi = part.partition("-")
                    slots.append((int(lo), int(hi or lo)))
                role = "master" if "master" in f[2] else "slave"
                nodes.append(Node(addr_port, f[0], role, f[3], "fail" in f[2], slots))
            return nodes
        return []

    def cluster_state_ok(self) -> bool:
        live = [p for p in self.cluster_ports if self.node_running(p)]
        return bool(live) and all("cluster_state:ok" in self.cli(p, "cluster", "info") for p in live)

    def cluster_healthy(self, masters: int = 3, replicas: int = 1) -> bool:
        """cluster_state:ok everywhere, the expected masters, and every replica's link to its master up."""
        nodes = [n for n in self.nodes() if not n.failed]
        live_replicas = [n for n in nodes if n.role == "slave"]
        return (
            self.cluster_state_ok()
            and sum(1 for n in nodes if n.role == "master" and n.slots) == masters
            and len(live_replicas) == masters * replicas
            and all("master_link_status:up" in self.cli(n.port, "info", "replication") for n in live_replicas)
        )

    def master_of_slot(self, slot: int) -> Node | None:
        for n in self.nodes():
            if n.role == "master" and not n.failed and any(lo <= slot <= hi for lo, hi in n.slots):
                return n
        return None

    def replica_of(self, master: Node) -> Node | None:
        return next((n for n in self.nodes() if n.master_id == master.node_id and not n.failed), None)

    # --- several web nodes behind HAProxy ---------------------------------------------------------
    def start_haproxy(self, port: int, backends: dict[str, int]) -> None:
        """HAProxy in the foreground on 127.0.0.1:`port`, round robin over `backends` (name -> port),
        each checked every 500 ms on /readyz (a node not ready, e.g. its clock out of bounds, leaves the
        rotation until it is ready again). A dead node's connection failures are redispatched to another; an
        answer HAProxy cannot get (the node died mid-request) is the API's own 503 problem document,
        and every answer names the node that served it (X-Served-By)."""
        error = self.work / "haproxy-503.http"
        error.write_bytes(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
            b"Retry-After: 5\r\nCache-Control: no-cache\r\nConnection: close\r\n"
            + f"Content-Length: {len(PROBLEM_503)}\r\n\r\n".encode()
            + PROBLEM_503
        )
        servers = "\n".join(f"    server {name} 127.0.0.1:{p} check" for name, p in backends.items())
        cfg = self.work / "haproxy.cfg"
        cfg.write_text(
            f"""global
    maxconn 4000

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch
    errorfile 502 {error}
    errorfile 503 {error}
    errorfile 504 {error}

frontend web
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
    http-response set-header X-Served-By %[srv_name]
{servers}
"""
        )
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        check = subprocess.run([binary, "-c", "-q", "-f", str(cfg)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy rejected its configuration:\n{check.stdout}{check.stderr}")
        self.spawn("haproxy", [binary, "-db", "-f", str(cfg)], env={"PATH": "/usr/sbin:/usr/bin:/bin"})

    def haproxy_up(self, port: int) -> bool:
        return http_status(f"http://127.0.0.1:{port}/healthz") == 200


def as_dict(node: Node | None) -> dict[str, Any]:
    return {} if node is None else {"port": node.port, "role": node.role, "slots": node.slots}
