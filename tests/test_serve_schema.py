"""Property-based fuzzing of the real server against its own OpenAPI schema (schemathesis): no 5xx.

Bounded: a few dozen generated requests per operation, valid and invalid, on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from rewardlab.serve import BackgroundServer, ServeConfig, create_app
from serve_support import tiny_reward_model

CONFIG = ServeConfig(port=0, max_text_chars=2000, max_responses_per_request=32, max_body_bytes=64_000)
# The schema does not depend on the model: build it from an app that is never started.
schema = schemathesis.openapi.from_dict(create_app(lambda: None, CONFIG, environ={}).openapi())


@pytest.fixture(scope="module")
def server_url(tiny_bert_dir: Path) -> Iterator[str]:
    model = tiny_reward_model(tiny_bert_dir)
    model.metadata["normalization"] = {"mean": 0.0, "std": 1.0}
    with BackgroundServer(create_app(model, CONFIG, environ={}), CONFIG) as server:
        yield server.url


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_request_the_schema_allows_or_breaks_makes_the_server_fail(case: Any, server_url: str) -> None:
    case.call_and_validate(base_url=server_url, checks=[checks.not_a_server_error, checks.status_code_conformance,
                                   checks.content_type_conformance, checks.response_schema_conformance])
