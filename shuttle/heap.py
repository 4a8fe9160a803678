"""The server process's heap, settled once it serves.

Python's cyclic garbage collector walks every object of its oldest generation on a full
collection. A server process's oldest generation is mostly what it loaded to start (modules,
the ORM's mappers, routes, compiled templates), which is never garbage: at 5,000 messages a full
collection took 45-78 ms of a staff case page (p50 26 ms, p99 84 ms, bench/pages.py), once
every 30 or so pages. Freezing what exists once the server is up (`gc.freeze`) takes it out of
every later collection; what requests make is collected as before.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what starting left behind, then freeze the rest for the life of the process."""
    gc.collect()
    gc.freeze()
