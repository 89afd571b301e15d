"""Fan-out of live events to Server-Sent-Event clients, with bounded memory per client.

Snapshots (`metrics`, `requests`) are state: a client keeps only the latest of each kind, so a client that reads
slowly skips intermediate snapshots instead of queueing them. Discrete events (`alert`) queue in order up to
`queue_size`; a client that lets that queue fill is dropped (its stream ends, the browser reconnects), so one slow
reader costs bounded memory and never holds up the others or the process.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass(eq=False)
class Client:
    """One connected stream."""

    queue_size: int
    snapshots: dict[str, str] = field(default_factory=dict)
    events: deque[tuple[str, str]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False


class StreamHub:
    """The per-process set of stream clients (the poller publishes, each client's response consumes)."""

    def __init__(self, max_clients: int, queue_size: int = 32) -> None:
        self.max_clients = max_clients
        self.queue_size = queue_size
        self.clients: set[Client] = set()
        self.latest: dict[str, str] = {}  # last snapshot of each kind, given to clients as they connect
        self.dropped_total = 0

    def subscribe(self) -> Client | None:
        """A new client primed with the latest snapshots, or None when the process is at its limit."""
        if len(self.clients) >= self.max_clients:
            return None
        client = Client(queue_size=self.queue_size, snapshots=dict(self.latest))
        if client.snapshots:
            client.wake.set()
        self.clients.add(client)
        return client

    def unsubscribe(self, client: Client) -> None:
        self.clients.discard(client)

    def publish_snapshot(self, event: str, data: str) -> None:
        self.latest[event] = data
        for client in self.clients:
            client.snapshots[event] = data
            client.wake.set()

    def publish_event(self, event: str, data: str) -> None:
        for client in list(self.clients):
            if len(client.events) >= client.queue_size:
                self._drop(client)
                continue
            client.events.append((event, data))
            client.wake.set()

    def _drop(self, client: Client) -> None:
        client.dropped = True
        client.wake.set()
        self.clients.discard(client)
        self.dropped_total += 1

    async def messages(self, client: Client) -> AsyncIterator[tuple[str, str]]:
        """(event, data) pairs for one client until it is dropped; discrete events before snapshots."""
        while True:
            await client.wake.wait()
            client.wake.clear()
            if client.dropped:
                return
            while client.events and not client.dropped:
                yield client.events.popleft()
            while client.snapshots and not client.dropped:
                event = next(iter(client.snapshots))
                yield event, client.snapshots.pop(event)
            if client.dropped:
                return
