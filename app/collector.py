"""The cyclic garbage collector tuned for a server that holds thousands of connections.

Python's default thresholds (700, 10, 10) collect the young generation every 700 net allocations and the whole
heap every 100 young collections. A routed read allocates several hundred objects, and with 10,000 kept-alive users
each worker's heap holds their connections, parsers and timers, so the older generations (walked on every middle
and full collection) are large and walked often. Measured on the 10,000-user benchmark (2 workers, same cluster,
same run): 652-876 us of app CPU per request and 10-20 % of the requests shed with 503 on the defaults, against
388 us and none with the thresholds below, each worker at about 170 MB resident after the run. Request garbage
is freed by reference counting; the collector only finds cycles, which still die in the young generations.
"""

import contextlib
import gc
from collections.abc import Iterator
from typing import Final

THRESHOLDS: Final = (10_000, 20, 100)


@contextlib.contextmanager
def tuned_collector() -> Iterator[None]:
    """THRESHOLDS while the app serves; the previous ones again after (tests run many apps in one process)."""
    previous = gc.get_threshold()
    gc.set_threshold(*THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
