"""The server's state across requests: the model (loaded at startup), the batcher, readiness.

States: ``loading`` -> ``ready`` (or ``failed``) -> ``draining`` at shutdown. Only ``ready``
takes work; the others answer 503 so a load balancer routes around this replica.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rewardlab.serve.backend import Backend, Scored, make_backend
from rewardlab.serve.batcher import Batcher
from rewardlab.serve.config import ServeConfig
from rewardlab.serve.errors import ModelFailed, NotReady, RequestTimeout, ServeError
from rewardlab.serve.inputs import Pairs, Prepared, Stop, format_pairs, prepare
from rewardlab.serve.metrics import ServeMetrics

__all__ = ["ModelSource", "Runtime", "load_for_serving"]

log = logging.getLogger("rewardlab.serve")

ModelSource = Any  # a loaded model or Backend, a model directory, or a zero-argument loader
#: Requests whose model inputs total more characters than this are prepared on a second thread, so that
#: small requests are never queued behind a large one's formatting and tokenization.
BULK_CHARS = 100_000


def load_for_serving(path: str | os.PathLike[str]) -> Any:
    """Load a model directory for serving (an embedding-head model gets no on-disk embedding cache)."""
    from rewardlab.models import load_model
    from rewardlab.models.embedding_model import EmbeddingRewardModel, is_embedding_model_dir

    if is_embedding_model_dir(path):
        return EmbeddingRewardModel.from_pretrained(path, cache=None)
    return load_model(path)


class Runtime:
    """Owns the backend, the batcher and the worker threads of one app."""

    def __init__(self, source: ModelSource, config: ServeConfig, *, wait_for_model: bool | None = None,
                 owns_model: bool | None = None) -> None:
        self.config = config
        self.metrics = ServeMetrics()
        self.state = "loading"
        self.error: str | None = None
        self.backend: Backend | None = None
        self.batcher: Batcher | None = None
        self._tokenize_pool: ThreadPoolExecutor | None = None
        self._bulk_pool: ThreadPoolExecutor | None = None
        self._model_thread: ThreadPoolExecutor | None = None
        self._load_task: asyncio.Task[None] | None = None
        # Only a model this server loads from a directory is its own (at bf16 its linear weights are
        # stored in bf16); what a loader returns or a model object handed in may be shared with the
        # caller and is never changed.
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            self._loader: Callable[[], Any] = lambda: load_for_serving(path)
            self._background = self._owns_model = True
        elif callable(source) and not hasattr(source, "score") and not isinstance(source, Backend):
            self._loader, self._background, self._owns_model = source, True, False
        else:
            self._loader, self._background, self._owns_model = (lambda: source), False, False
        if wait_for_model is not None:
            self._background = not wait_for_model
        if owns_model is not None:  # a model its caller loaded for this server alone (``serve``)
            self._owns_model = owns_model

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Create the batcher; build the backend now (a loaded model) or in the background (a path)."""
        cfg = self.config
        self.state, self.error, self.backend = "loading", None, None  # an app may be started again
        self._tokenize_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rewardlab-tokenize")
        self._bulk_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rewardlab-tokenize-bulk")
        # Loading, warm-up and every forward run on this one thread: on a CPU, a second thread doing
        # torch work makes OpenMP throttle its spin-waits and costs ~20% of the forward speed.
        self._model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rewardlab-model")
        self.batcher = Batcher(self._forward, capacity=cfg.max_queue, max_batch_size=cfg.max_batch_size,
                               max_batch_tokens=cfg.max_batch_tokens, max_wait_s=cfg.max_wait_ms / 1000,
                               batching=cfg.batching, on_batch=self.metrics.observe_batch,
                               executor=self._model_thread)
        self.metrics.watch_queue(lambda: self.batcher.queued if self.batcher else 0,
                                 lambda: self.batcher.admitted if self.batcher else 0)
        if self._background:
            self._load_task = asyncio.get_running_loop().create_task(self._load(), name="rewardlab-load")
        else:
            await self._load()

    async def _load(self) -> None:
        try:
            backend = await asyncio.get_running_loop().run_in_executor(self._model_thread, self._build)
        except Exception as exc:
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
            log.error("the model failed to load: %s", self.error)
            return
        if self.state == "loading":
            self.backend, self.state = backend, "ready"
            self.metrics.ready.set(1)
            log.info("model ready: %s", backend.info())

    def _build(self) -> Backend:
        cfg = self.config
        backend = make_backend(self._loader(), precision=cfg.precision, device=cfg.device,
                               forward_batch_size=cfg.forward_batch_size,
                               forward_overhead_tokens=cfg.forward_overhead_tokens, cast_weights=self._owns_model)
        if cfg.openrlhf_normalize and backend.normalize([0.0]) is None:
            raise ServeError("serve.openrlhf_normalize is set but the model has no reward statistics "
                             "(train and evaluate it with rewardlab, or unset the option)")
        if backend.max_length > cfg.max_batch_tokens:
            raise ServeError(f"serve.max_batch_tokens ({cfg.max_batch_tokens}) is below the model's max_length "
                             f"({backend.max_length}); one long input would not fit a batch")
        warmup = getattr(backend, "warmup", None)
        if callable(warmup):
            warmup()
        return backend

    async def wait_loaded(self) -> None:
        """Return once loading has finished (ready or failed)."""
        if self._load_task is not None:
            await asyncio.shield(self._load_task)

    async def stop(self) -> None:
        """Stop taking work, let admitted requests finish (``drain_timeout_s``), release threads."""
        self.state = "draining"
        self.metrics.ready.set(0)
        if self._load_task is not None and not self._load_task.done():
            self._load_task.cancel()
        if self.batcher is not None:
            await self.batcher.close(self.config.drain_timeout_s)
        for pool in (self._tokenize_pool, self._bulk_pool, self._model_thread):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ requests
    def require_ready(self) -> Backend:
        if self.state == "ready" and self.backend is not None:
            return self.backend
        if self.state == "failed":
            raise NotReady(f"the model failed to load ({self.error}); see the server log")
        if self.state == "draining":
            raise NotReady("the server is shutting down; send the request to another replica")
        raise NotReady("the model is still loading; retry shortly")

    async def score_pairs(self, pairs: Pairs) -> tuple[Prepared, list[Scored]]:
        """Format (prompt, response) pairs with the model's saved format, tokenize, queue and wait."""
        backend = self.require_ready()
        on_overlong = self.config.on_overlong

        def make(stop: Stop) -> Prepared:
            return prepare(backend, format_pairs(backend, pairs, stop), pairs.labels, on_overlong, stop)

        return await self._score(make, pairs.chars)

    async def score_texts(self, texts: Sequence[str], labels: Sequence[str]) -> tuple[Prepared, list[Scored]]:
        """Tokenize model-input texts as they are, queue and wait."""
        backend = self.require_ready()
        on_overlong = self.config.on_overlong
        return await self._score(lambda stop: prepare(backend, texts, labels, on_overlong, stop),
                                 sum(len(t) for t in texts))

    async def _score(self, make: Callable[[Stop], Prepared], chars: int) -> tuple[Prepared, list[Scored]]:
        """Prepare on a tokenizer thread (the event loop stays free), then queue for the batcher.

        ``request_timeout_s`` covers preparation and scoring together: past it the preparation
        stops at its next chunk and the request gets 504. Requests over :data:`BULK_CHARS` are
        prepared on their own thread. 503 when the queue is full.
        """
        batcher = self.batcher
        if batcher is None:
            raise NotReady("the server has not started")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.request_timeout_s
        expired = threading.Event()
        pool = self._bulk_pool if chars > BULK_CHARS else self._tokenize_pool
        try:
            with batcher.expecting():
                prepared = await asyncio.wait_for(loop.run_in_executor(pool, make, expired.is_set),
                                                  self.config.request_timeout_s)
                futures = batcher.enqueue(prepared.payloads, prepared.tokens)
            results = await batcher.wait(futures, max(0.0, deadline - loop.time()))
        except (asyncio.TimeoutError, RequestTimeout):
            expired.set()  # preparation still running on its thread stops at its next chunk
            self.metrics.rejected.labels("timeout").inc()
            raise RequestTimeout(f"not scored within request_timeout_s={self.config.request_timeout_s}s; "
                                 "the server is overloaded or the request is too large") from None
        except ServeError:
            raise
        except Exception as exc:  # logged by the batcher; the message holds no request text
            raise ModelFailed(f"the model failed on this request ({type(exc).__name__}); see the server log") from exc
        self.metrics.truncated.inc(sum(prepared.truncated))
        return prepared, results

    def _forward(self, payloads: list[Any]) -> list[Scored]:
        if self.backend is None:
            raise ServeError("no model is loaded")
        return self.backend.forward(payloads)
