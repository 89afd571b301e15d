"""Server-Sent Events read back from a response's lines, for the stream tests (async in-process, sync over HTTP)."""


class EventReader:
    """Feed the stream's lines one by one; an event ends at a blank line after its data. Comments (the heartbeat)
    and blank lines between events are skipped."""

    def __init__(self) -> None:
        self._event, self._data = "message", ""

    def feed(self, line: str) -> tuple[str, str] | None:
        """(event, data) when `line` ends an event, else None."""
        if line.startswith("event:"):
            self._event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            self._data = line.removeprefix("data:").strip()
        elif line == "" and self._data:
            done = self._event, self._data
            self._event, self._data = "message", ""
            return done
        return None
