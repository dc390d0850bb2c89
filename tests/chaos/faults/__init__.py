"""The four fault scenarios, one module each. Each runs with the load driver going, judges the answers
given during the fault and after it, and returns its checks; the runner adds the invariant check after
each.

  common.py            FaultResult, Ctx and the judgements several scenarios share
  blocked_payment.py   a payment held mid-transaction on its wallet row lock (faults 2 and 4)
  redis_outage.py      1. Redis stopped, restarted, then frozen
  postgres_restart.py  2. PostgreSQL restarted mid-load
  celery_and_beat.py   3. Celery worker killed and beat stopped; two beats and two promote loops at once
  gunicorn_kill.py     4. gunicorn workers killed during payments
"""

from tests.chaos.faults.celery_and_beat import fault_worker_and_beat
from tests.chaos.faults.common import Ctx, FaultResult
from tests.chaos.faults.gunicorn_kill import fault_web_worker_killed
from tests.chaos.faults.postgres_restart import fault_postgres_restart
from tests.chaos.faults.redis_outage import fault_redis_outage

__all__ = [
    "Ctx",
    "FaultResult",
    "fault_postgres_restart",
    "fault_redis_outage",
    "fault_web_worker_killed",
    "fault_worker_and_beat",
]
