"""``ServeClient``: a Python client of the scoring server (one pooled connection set, retries).

Retries with exponential backoff and jitter on 429/502/503 and on connection failures,
waiting at least the server's ``Retry-After``; other errors raise :class:`ServeError` at
once with the server's message. ``score_batch`` packs many prompts into requests of at most
``chunk`` responses and can keep several requests in flight, which the server batches
together. Needs only ``httpx`` (not the server's dependencies).
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from rewardlab.data.records import Message, Prompt
from rewardlab.errors import ConfigError, ModelError
from rewardlab.serve.errors import ServeError

__all__ = ["RemoteScorer", "ScoreResult", "ServeClient"]

RETRY_STATUSES = frozenset({429, 502, 503})
PromptLike = Prompt | Sequence[Mapping[str, str]]


@dataclass(frozen=True)
class ScoreResult:
    """The scores of one prompt's responses, in the order sent."""

    rewards: list[float]
    normalized_rewards: list[float] | None
    spread: list[float] | None
    truncated: list[bool]
    tokens: list[int]
    attributes: list[dict[str, float]] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScoreResult:
        return cls(rewards=list(data["rewards"]), normalized_rewards=data.get("normalized_rewards"),
                   spread=data.get("spread"), truncated=list(data["truncated"]), tokens=list(data["tokens"]),
                   attributes=data.get("attributes"))

    @staticmethod
    def join(parts: Sequence[ScoreResult]) -> ScoreResult:
        """One result from the pieces of an item that was split across requests."""
        def cat(name: str) -> Any:
            values = [getattr(p, name) for p in parts]
            return None if any(v is None for v in values) else [x for v in values for x in v]

        return ScoreResult(cat("rewards"), cat("normalized_rewards"), cat("spread"), cat("truncated"),
                           cat("tokens"), cat("attributes"))


def _prompt_json(prompt: PromptLike) -> Any:
    if isinstance(prompt, str):
        return prompt
    return [{"role": m.role, "content": m.content} if isinstance(m, Message) else dict(m) for m in prompt]


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _error(resp: Any) -> ServeError:
    try:
        err = resp.json().get("error") or {}
        message = f"{err.get('type', 'error')}: {err.get('message', resp.text)}"
    except (ValueError, AttributeError):
        message = resp.text[:500] or resp.reason_phrase
    hint = " (pass api_key= to ServeClient, or set REWARDLAB_API_KEY for the CLI)" if resp.status_code == 401 else ""
    return ServeError(f"the server answered {resp.status_code}: {message}{hint}", status=resp.status_code)


class ServeClient:
    """Talk to a rewardlab scoring server at ``url`` (e.g. ``http://127.0.0.1:8000``)."""

    def __init__(self, url: str, *, api_key: str | None = None, timeout_s: float = 120.0, retries: int = 5,
                 backoff_s: float = 0.1, max_backoff_s: float = 10.0, max_connections: int = 64,
                 transport: Any = None, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> None:
        try:
            import httpx
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("the serving client needs httpx: pip install 'rewardlab[serve]'") from exc
        if retries < 0 or backoff_s < 0 or max_backoff_s < 0:
            raise ConfigError("retries, backoff_s and max_backoff_s must be >= 0")
        self.url = url.rstrip("/")
        self.retries, self.backoff_s, self.max_backoff_s = retries, backoff_s, max_backoff_s
        self._sleep, self._rng = sleep, rng or random.Random()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s, headers=headers, limits=limits,
                                  transport=transport)
        self._transient = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError,
                           httpx.WriteError, httpx.PoolTimeout)
        self._httpx = httpx

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ServeClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with equal jitter, never shorter than the server's Retry-After."""
        step = min(self.max_backoff_s, self.backoff_s * 2**attempt)
        jittered = step / 2 + self._rng.uniform(0, step / 2)
        return max(jittered, min(retry_after, self.max_backoff_s) + self._rng.uniform(0, step / 2)) \
            if retry_after is not None else jittered

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One API call with retries; the decoded JSON answer."""
        for attempt in range(self.retries + 1):
            retry_after: float | None = None
            try:
                resp = self._http.request(method, path, json=body)
            except self._transient as exc:
                failure = ServeError(f"cannot reach {self.url}{path}: {type(exc).__name__}: {exc}")
            except self._httpx.TimeoutException as exc:
                raise ServeError(f"{self.url}{path} did not answer in time: {exc}") from exc
            else:
                if resp.is_success:
                    return resp.json()
                if resp.status_code not in RETRY_STATUSES:
                    raise _error(resp)
                failure, retry_after = _error(resp), _retry_after(resp.headers.get("retry-after"))
            if attempt == self.retries:
                raise ServeError(f"{failure} (gave up after {attempt + 1} attempts)", status=failure.status)
            self._sleep(self._delay(attempt, retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ API
    def health(self) -> bool:
        """True when the process answers ``/healthz``."""
        try:
            return self._http.get("/healthz").is_success
        except self._httpx.HTTPError:
            return False

    def ready(self) -> bool:
        """True when ``/readyz`` says the model is loaded and work is taken."""
        try:
            return self._http.get("/readyz").is_success
        except self._httpx.HTTPError:
            return False

    def model_info(self) -> dict[str, Any]:
        """The served model (kind, input format, max_length, ...) and the server's limits."""
        return dict(self.request("GET", "/v1/model"))

    def score(self, prompt: PromptLike, responses: str | Sequence[str]) -> ScoreResult:
        """Score one prompt's responses in one request."""
        many = [responses] if isinstance(responses, str) else list(responses)
        out = self.request("POST", "/v1/score", {"prompt": _prompt_json(prompt), "responses": many})
        return ScoreResult.from_json(out["results"][0])

    def score_items(self, items: Sequence[tuple[PromptLike, str | Sequence[str]]]) -> list[ScoreResult]:
        """Score several prompts with their responses in one request."""
        body = {"items": [{"prompt": _prompt_json(p), "responses": [r] if isinstance(r, str) else list(r)}
                          for p, r in items]}
        return [ScoreResult.from_json(r) for r in self.request("POST", "/v1/score", body)["results"]]

    def score_batch(self, items: Sequence[tuple[PromptLike, str | Sequence[str]]], *, chunk: int = 64,
                    concurrency: int = 1) -> list[ScoreResult]:
        """Score any number of items in requests of at most ``chunk`` responses, ``concurrency`` at a time."""
        if chunk < 1 or concurrency < 1:
            raise ConfigError("chunk and concurrency must be >= 1")
        flat = [(k, p, r) for k, (p, rs) in enumerate(items) for r in ([rs] if isinstance(rs, str) else rs)]
        requests = []
        for start in range(0, len(flat), chunk):
            part = flat[start : start + chunk]
            groups: list[tuple[int, PromptLike, list[str]]] = []
            for k, p, r in part:
                if groups and groups[-1][0] == k:
                    groups[-1][2].append(r)
                else:
                    groups.append((k, p, [r]))
            requests.append(groups)

        def send(groups: list[tuple[int, PromptLike, list[str]]]) -> list[tuple[int, ScoreResult]]:
            results = self.score_items([(p, rs) for _, p, rs in groups])
            return [(k, res) for (k, _, _), res in zip(groups, results)]

        if concurrency == 1 or len(requests) <= 1:
            answered = [send(g) for g in requests]
        else:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                answered = list(pool.map(send, requests))
        parts: dict[int, list[ScoreResult]] = {}
        for batch in answered:
            for k, res in batch:
                parts.setdefault(k, []).append(res)
        empty = ScoreResult([], [], [], [], [])
        return [ScoreResult.join(parts[k]) if k in parts else empty for k in range(len(items))]

    def score_pairs(self, prompts: Sequence[PromptLike], responses: Sequence[str], *, chunk: int = 64,
                    concurrency: int = 1, normalize: bool = False) -> list[float]:
        """One reward per (prompt, response), like ``RewardModel.score``; ``normalize`` uses the model's statistics."""
        if len(prompts) != len(responses):
            raise ServeError(f"got {len(prompts)} prompts but {len(responses)} responses")
        results = self.score_batch(list(zip(prompts, responses)), chunk=chunk, concurrency=concurrency)
        if not normalize:
            return [r.rewards[0] for r in results]
        if any(r.normalized_rewards is None for r in results):
            raise ModelError("the served model has no reward statistics; score without normalize")
        return [r.normalized_rewards[0] for r in results if r.normalized_rewards is not None]

    def get_reward(self, queries: Sequence[str]) -> list[float]:
        """OpenRLHF's call: rewards of full model-input texts."""
        return list(self.request("POST", "/get_reward", {"query": list(queries)})["rewards"])


class RemoteScorer:
    """A served model as a :class:`~rewardlab.scoring.RewardScorer` (for the CLI, eval, the audit, the lab)."""

    def __init__(self, client: ServeClient, *, concurrency: int = 4) -> None:
        self.client = client
        self.concurrency = concurrency
        self.metadata: dict[str, Any] = {}

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 64,
              precision: str = "auto", normalize: bool = False) -> list[float]:
        if precision != "auto":
            raise ConfigError("precision is chosen by the server (rewardlab serve --set precision=...), "
                              "not by a client")
        return self.client.score_pairs(prompts, responses, chunk=batch_size, concurrency=self.concurrency,
                                       normalize=normalize)

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        raise ModelError("a served model cannot be saved from the client; copy its model directory instead")
