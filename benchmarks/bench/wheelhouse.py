"""The server under test: Tests/harness/server.py's Server, as the benchmark runs it."""
from __future__ import annotations

from pathlib import Path

from server import CLIError, Server, ServerError

from .common import WH, BenchError
from .processes import PROCS


class Wheelhouse(Server):
    """Logs at warning (a request log would cost every request a write), runs in a session of its
    own that PROCS stops on exit, polls /-/health every 2 ms (start-up is a figure of the report,
    of some tens of ms), and turns a failed admin command or start into a BenchError."""

    def __init__(self, binary: Path, work: Path, database_url: str | None = None, *, serve_args=(),
                 log_name: str = "wheelhouse.log") -> None:
        """`serve_args` go on `serve`'s command line (`--no-metrics` for the metrics on/off
        scenario, whose second server shares the data dir and logs to `log_name`)."""
        super().__init__(binary, work / "data", work / log_name, database_url=database_url,
                         env={"WHEELHOUSE_LOG_LEVEL": "warning"}, serve_args=serve_args, new_session=True)

    def launch(self) -> "Wheelhouse":
        super().launch()
        PROCS.adopt(self.proc, WH, self.log_path)
        return self

    def start(self, timeout: float = 120.0) -> "Wheelhouse":
        """Starts the server and waits for /-/health; `startup_seconds` is then the time it took."""
        return super().start(timeout)

    def wait_healthy(self, timeout: float = 120.0, poll: float = 0.002) -> float:
        try:
            return super().wait_healthy(timeout, poll)
        except ServerError as error:
            raise BenchError(str(error)) from None

    def stop(self, *args, **kwargs) -> int:
        PROCS.forget(self.proc)
        return super().stop(*args, **kwargs)

    def cli_json(self, *args, timeout: float = 120) -> dict:
        try:
            return super().cli_json(*args, timeout=timeout)
        except CLIError as error:
            raise BenchError(str(error)) from None
