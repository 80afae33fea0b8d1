"""Running the app under uvicorn: in the foreground (``rewardlab serve``) or in a background thread.

uvicorn handles SIGINT/SIGTERM: it stops accepting connections, lets in-flight requests
finish (up to ``drain_timeout_s``), then runs the app's shutdown, which drains the batcher.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from types import TracebackType
from typing import Any

from rewardlab.serve.config import ServeConfig
from rewardlab.serve.errors import ServeError

__all__ = ["BackgroundServer", "serve", "uvicorn_config"]

log = logging.getLogger("rewardlab.serve")


def uvicorn_config(app: Any, config: ServeConfig, *, log_level: str = "info", access_log: bool = True) -> Any:
    """The uvicorn settings that go with a ServeConfig (bind, connection cap, graceful shutdown)."""
    import uvicorn

    return uvicorn.Config(
        app, host=config.host, port=config.port, log_level=log_level, access_log=access_log,
        limit_concurrency=config.max_connections, timeout_graceful_shutdown=math.ceil(config.drain_timeout_s),
        lifespan="on", server_header=False,
    )


def serve(model_dir: str | os.PathLike[str], config: ServeConfig | None = None, *, log_level: str = "info") -> None:
    """Load ``model_dir``, then serve it until SIGINT/SIGTERM; ModelError when it cannot be loaded.

    The model loads here, before uvicorn starts, so a broken directory is one ``ModelError``
    (the CLI's one-line error), never a lifespan traceback; the backend is built before the
    port opens (see ``Runtime.start``), and a failure there is a :class:`ServeError`.
    """
    import uvicorn

    from rewardlab.errors import ModelError
    from rewardlab.serve.app import create_app
    from rewardlab.serve.runtime import load_for_serving

    cfg = config or ServeConfig()
    if not os.path.isdir(model_dir):
        raise ModelError(f"{model_dir} is not a model directory")
    model = load_for_serving(model_dir)
    app = create_app(model, cfg, wait_for_model=True, owns_model=True)
    try:
        uvicorn.Server(uvicorn_config(app, cfg, log_level=log_level)).run()
    except SystemExit as exc:  # uvicorn exits 3 when the app's startup fails
        runtime = app.state.runtime
        if runtime.state == "failed":
            raise ServeError(f"{model_dir}: the server could not start: {runtime.error}") from None
        raise ServeError(f"{model_dir}: the server could not start (exit {exc.code}); see the log above") from None
    runtime = app.state.runtime
    if runtime.state == "failed":
        raise ServeError(f"{model_dir}: the server could not start: {runtime.error}")


class BackgroundServer:
    """A real uvicorn server in a daemon thread, on ``config.port`` (0: an ephemeral port).

    For tests, notebooks and benchmarks::

        with BackgroundServer(create_app(model), ServeConfig(port=0)) as server:
            ServeClient(server.url).score("Hi", ["Hello!"])
    """

    def __init__(self, app: Any, config: ServeConfig | None = None, *, log_level: str = "warning",
                 startup_timeout_s: float = 60.0) -> None:
        import uvicorn

        cfg = config or ServeConfig(port=0)
        self.server = uvicorn.Server(uvicorn_config(app, cfg, log_level=log_level, access_log=False))
        self.startup_timeout_s = startup_timeout_s
        self._thread = threading.Thread(target=self.server.run, name="rewardlab-serve", daemon=True)
        self.url = ""

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = threading.Event()
        # Wait for uvicorn's started flag: the thread sets it after binding and after the app's startup.
        for _ in range(int(self.startup_timeout_s * 100)):
            if self.server.started or not self._thread.is_alive():
                break
            deadline.wait(0.01)
        if not self.server.started:
            self.stop()
            raise ServeError("the server did not start (see the log above)")
        sock = self.server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        self.url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        return self

    def stop(self) -> None:
        """Graceful stop: in-flight requests finish, then the app shuts down."""
        self.server.should_exit = True
        self._thread.join(timeout=60)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
