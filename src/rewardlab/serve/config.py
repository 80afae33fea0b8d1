"""``ServeConfig``: every knob of the scoring server, validated on construction.

Load it from YAML plus dotted overrides with :func:`rewardlab.config.load_config`
(unknown keys are rejected). API keys are never stored in a config file on purpose: they
come from ``api_keys`` (for tests and programmatic use) or from the environment variable
named by ``api_keys_env``, read by :func:`resolve_api_keys` when the app is created.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from rewardlab.errors import ConfigError
from rewardlab.precisions import PRECISIONS, Precision

__all__ = ["OnOverlong", "ServeConfig", "resolve_api_keys"]

OnOverlong = Literal["error", "truncate"]


@dataclass(frozen=True)
class ServeConfig:
    """How the server binds, batches, bounds its work and authenticates.

    Queue and batch sizes count *responses* (one model input each), not requests: a request
    with 16 responses takes 16 slots. ``max_queue`` bounds the responses admitted and not
    yet answered (waiting or in the forward pass), so memory stays bounded under any load.
    """

    host: str = "127.0.0.1"  # loopback by default; bind 0.0.0.0 only behind auth or a private network
    port: int = 8000
    # Dynamic batching.
    batching: bool = True  # False: one request per forward (the benchmark's baseline)
    max_batch_size: int = 64  # responses per forward
    max_batch_tokens: int = 16384  # padded tokens per forward (longest input x batch size)
    # How long the oldest response may wait for requests still being tokenized (never for requests not
    # yet received). 20: a burst of 32 is tokenized one by one in ~10 ms on 2 CPU cores; at 5 ms it
    # split into a full batch and a small one (BENCHMARKS.md "Serving").
    max_wait_ms: float = 20.0
    # Largest single forward inside a batch. 0: 16 on CPU, where forwards are compute-bound and wider
    # ones gain nothing; the whole batch in one forward on an accelerator.
    forward_batch_size: int = 0
    # The fixed cost of one forward in token-steps: a batch is cut into forwards of similar lengths
    # where that saves more padded tokens than it costs (serve/packing.py). None: 64 on CPU; never
    # cut on an accelerator, where one wide forward is cheapest.
    forward_overhead_tokens: int | None = None
    # Admission and limits.
    max_queue: int = 1024  # responses admitted and not yet answered; beyond: 503 + Retry-After
    retry_after_s: int = 1  # the Retry-After header of a 503
    max_body_bytes: int = 4 * 1024 * 1024  # larger bodies: 413
    max_responses_per_request: int = 256  # more: 422
    max_text_chars: int = 32_000  # per prompt message, response or query string; longer: 422
    max_messages: int = 256  # chat messages in one prompt; more: 422
    # Characters of every model input a request makes, each response counted with its prompt (a 30 KB prompt
    # with 256 responses is 7.7 M): bounds the formatting and tokenization work (and memory) of one request
    # before any of it is done. ~1 M tokens; tokenized in ~1.5 s on one CPU core. More: 422.
    max_request_chars: int = 4_000_000
    on_overlong: OnOverlong = "truncate"  # beyond max_length: truncate (reported per response), as train/eval; or 422
    request_timeout_s: float = 60.0  # a request not answered by then gets 504
    drain_timeout_s: float = 30.0  # on shutdown, how long in-flight requests may take to finish
    max_connections: int = 2048  # uvicorn's limit on concurrent connections (503 beyond)
    # Model.
    precision: Precision = "auto"  # auto: bf16 on AMX/AVX512-BF16 CPUs and bf16 GPUs
    device: str = "auto"  # auto: cuda when available, else cpu
    openrlhf_normalize: bool = False  # /get_reward returns normalized rewards (needs saved statistics)
    # Security.
    api_keys: tuple[str, ...] = ()
    api_keys_env: str = "REWARDLAB_API_KEYS"  # comma-separated keys, read at app creation
    cors_origins: tuple[str, ...] = ()  # no CORS headers unless origins are listed
    docs: bool = True  # serve /docs and /openapi.json

    def __post_init__(self) -> None:
        positive = ("port", "max_batch_size", "max_batch_tokens", "max_queue", "max_body_bytes",
                    "max_responses_per_request", "max_text_chars", "max_messages", "max_request_chars",
                    "max_connections")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if name == "port" else 1):
                raise ConfigError(f"serve.{name} must be a positive integer, got {value!r}")
        if not isinstance(self.forward_batch_size, int) or self.forward_batch_size < 0:
            raise ConfigError(f"serve.forward_batch_size must be >= 0 (0: automatic), got {self.forward_batch_size!r}")
        if self.forward_overhead_tokens is not None and (
                not isinstance(self.forward_overhead_tokens, int) or self.forward_overhead_tokens < 0):
            raise ConfigError("serve.forward_overhead_tokens must be >= 0 or null, "
                              f"got {self.forward_overhead_tokens!r}")
        if self.port > 65535:
            raise ConfigError(f"serve.port must be at most 65535, got {self.port}")
        for name in ("max_wait_ms", "request_timeout_s", "drain_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0 \
                    or (name == "request_timeout_s" and value == 0):
                raise ConfigError(f"serve.{name} must be a non-negative number (timeout > 0), got {value!r}")
        if self.retry_after_s < 0:
            raise ConfigError(f"serve.retry_after_s must be >= 0, got {self.retry_after_s}")
        if self.on_overlong not in ("error", "truncate"):
            raise ConfigError(f"serve.on_overlong must be 'error' or 'truncate', got {self.on_overlong!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"serve.precision must be auto, fp32 or bf16, got {self.precision!r}")
        if self.max_responses_per_request > self.max_queue:
            raise ConfigError(
                f"serve.max_responses_per_request ({self.max_responses_per_request}) exceeds serve.max_queue "
                f"({self.max_queue}): such a request could never be admitted; raise max_queue"
            )
        if any(not k or k != k.strip() or "," in k for k in self.api_keys):
            raise ConfigError("serve.api_keys must be non-empty strings without spaces at the ends or commas")
        if "*" in self.cors_origins and len(self.cors_origins) > 1:
            raise ConfigError("serve.cors_origins: '*' allows every origin; list it alone")


def resolve_api_keys(config: ServeConfig, environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The configured keys plus the comma-separated keys in ``environ[config.api_keys_env]``."""
    env = os.environ if environ is None else environ
    raw = env.get(config.api_keys_env, "") if config.api_keys_env else ""
    from_env = {k.strip() for k in raw.split(",") if k.strip()}
    return frozenset(config.api_keys) | frozenset(from_env)
