"""Prometheus metrics of one app, in its own registry (no process-wide globals).

Two apps in one process (tests, a benchmark) keep separate counts; ``/metrics`` renders the
app's registry in the text exposition format.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from rewardlab.serve.batcher import BatchStats

__all__ = ["ServeMetrics"]

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_TOKENS = (64, 256, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)


class ServeMetrics:
    """Request counts and latency, batch sizes, queue depth and scored responses."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("rewardlab_requests", "HTTP requests by endpoint and status code",
                                ["endpoint", "status"], registry=r)
        self.latency = Histogram("rewardlab_request_latency_seconds", "HTTP request latency by endpoint",
                                 ["endpoint"], buckets=_LATENCY, registry=r)
        self.batch_size = Histogram("rewardlab_batch_size", "responses per model forward", buckets=_SIZES,
                                    registry=r)
        self.batch_tokens = Histogram("rewardlab_batch_padded_tokens", "padded tokens per model forward",
                                      buckets=_TOKENS, registry=r)
        self.forward_seconds = Histogram("rewardlab_forward_seconds", "seconds per model forward",
                                         buckets=_LATENCY, registry=r)
        self.responses = Counter("rewardlab_responses_scored", "responses scored", registry=r)
        self.truncated = Counter("rewardlab_responses_truncated", "responses truncated to max_length", registry=r)
        self.rejected = Counter("rewardlab_rejected", "requests refused, by reason", ["reason"], registry=r)
        self.queue_depth = Gauge("rewardlab_queue_depth", "responses waiting for a forward", registry=r)
        self.admitted = Gauge("rewardlab_admitted_responses", "responses admitted and not yet answered",
                              registry=r)
        self.ready = Gauge("rewardlab_ready", "1 when the model is loaded and the server takes work", registry=r)

    def watch_queue(self, queued: Callable[[], int], admitted: Callable[[], int]) -> None:
        """Read the queue gauges from the batcher at scrape time."""
        self.queue_depth.set_function(lambda: float(queued()))
        self.admitted.set_function(lambda: float(admitted()))

    def record_request(self, endpoint: str, status: int, seconds: float) -> None:
        """One answered request (``http.middleware.RequestMetrics`` calls this)."""
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def observe_batch(self, stats: BatchStats) -> None:
        self.batch_size.observe(stats.size)
        self.batch_tokens.observe(stats.padded_tokens)
        self.forward_seconds.observe(stats.seconds)
        self.responses.inc(stats.size)
