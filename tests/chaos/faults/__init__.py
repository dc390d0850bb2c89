"""The seven fault scenarios, one module each. Each runs with the load driver going, judges the answers
given during the fault and after it, and returns its checks; the runner adds the invariant check after
each.

  common.py            FaultResult, Ctx and the judgements several scenarios share
  blocked_payment.py   a payment held mid-transaction on its wallet row lock (faults 2 and 4)
  redis_outage.py      1. Redis stopped, restarted, then frozen
  postgres_restart.py  2. PostgreSQL restarted mid-load
  celery_and_beat.py   3. Celery worker killed and beat stopped; two beats and two promote loops at once
  gunicorn_kill.py     4. gunicorn workers killed during payments
  cluster_failover.py  5. the stack on a Redis Cluster (3 masters + 3 replicas); a master SIGKILLed, failover
  web_nodes.py         6. two web nodes behind HAProxy: FIFO across nodes; one node SIGKILLed mid-load
  skewed_node.py       7. two web nodes behind HAProxy, one under libfaketime 30 s ahead, then behind
"""

from tests.chaos.faults.celery_and_beat import fault_worker_and_beat
from tests.chaos.faults.cluster_failover import fault_cluster_failover
from tests.chaos.faults.common import Ctx, FaultResult
from tests.chaos.faults.gunicorn_kill import fault_web_worker_killed
from tests.chaos.faults.postgres_restart import fault_postgres_restart
from tests.chaos.faults.redis_outage import fault_redis_outage
from tests.chaos.faults.skewed_node import fault_skewed_node
from tests.chaos.faults.web_nodes import FIFO_CAP, fault_two_web_nodes

__all__ = [
    "FIFO_CAP",
    "Ctx",
    "FaultResult",
    "fault_cluster_failover",
    "fault_postgres_restart",
    "fault_redis_outage",
    "fault_skewed_node",
    "fault_two_web_nodes",
    "fault_web_worker_killed",
    "fault_worker_and_beat",
]
