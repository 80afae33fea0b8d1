"""The HTTP API's request and response bodies (pydantic models; they are the OpenAPI schema).

``POST /v1/score`` takes one item (``prompt`` with ``response`` or ``responses``) or a list
of them in ``items``; every result keeps the order of its request. ``POST /get_reward`` is
OpenRLHF's remote reward-model shape: ``{"query": [text, ...]}`` -> ``{"rewards": [...]}``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rewardlab.data.records import Message, Prompt

__all__ = [
    "ChatMessage",
    "GetRewardRequest",
    "GetRewardResponse",
    "ItemResult",
    "ScoreItem",
    "ScoreRequest",
    "ScoreResponse",
    "Usage",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatMessage(_Strict):
    """One turn of a chat prompt."""

    role: Literal["system", "user", "assistant"]
    content: str


class _ItemFields(_Strict):
    prompt: str | list[ChatMessage] | None = Field(
        default=None, description="the prompt: a string (one user turn) or chat messages")
    response: str | None = Field(default=None, description="one response to score")
    responses: list[str] | None = Field(default=None, description="several responses to the same prompt")

    def _check_item(self, where: str) -> None:
        if self.prompt is None:
            raise ValueError(f"{where}prompt is required")
        if isinstance(self.prompt, list) and not self.prompt:
            raise ValueError(f"{where}prompt must hold at least one chat message")
        if (self.response is None) == (self.responses is None):
            raise ValueError(f"{where}give exactly one of 'response' (a string) or 'responses' (a list)")
        if self.responses is not None and not self.responses:
            raise ValueError(f"{where}responses must not be empty")

    def response_list(self) -> list[str]:
        return [self.response] if self.response is not None else list(self.responses or [])

    def to_prompt(self) -> Prompt:
        if isinstance(self.prompt, list):
            return tuple(Message(m.role, m.content) for m in self.prompt)
        return str(self.prompt)


class ScoreItem(_ItemFields):
    """A prompt and its response(s)."""

    @model_validator(mode="after")
    def _valid(self) -> ScoreItem:
        self._check_item("")
        return self


class ScoreRequest(_ItemFields):
    """Either one item (``prompt`` + ``response``/``responses``) or ``items``, a list of them."""

    items: list[ScoreItem] | None = Field(default=None, description="several prompts with their responses")

    @model_validator(mode="after")
    def _valid(self) -> ScoreRequest:
        single = any(v is not None for v in (self.prompt, self.response, self.responses))
        if self.items is not None:
            if single:
                raise ValueError("give either 'items' or a single 'prompt' with 'response'/'responses', not both")
            if not self.items:
                raise ValueError("items must not be empty")
        else:
            self._check_item("")
        return self

    def item_list(self) -> list[_ItemFields]:
        return list(self.items) if self.items is not None else [self]


class ItemResult(BaseModel):
    """The scores of one item's responses, in the order sent."""

    rewards: list[float] = Field(description="raw rewards (what the exported HF model returns)")
    normalized_rewards: list[float] | None = Field(
        description="(reward - mean) / std with the model's saved statistics; null when it has none")
    spread: list[float] | None = Field(description="ensembles: std of the members' rewards; else null")
    attributes: list[dict[str, float]] | None = Field(
        description="multi-head models: every named head output; else null")
    truncated: list[bool] = Field(description="true where the input was cut to the model's max_length")
    tokens: list[int] = Field(description="model-input tokens scored per response")


class Usage(BaseModel):
    responses: int
    tokens: int
    truncated: int


class ScoreResponse(BaseModel):
    results: list[ItemResult]
    usage: Usage


class GetRewardRequest(BaseModel):
    """OpenRLHF's remote reward request. ``query`` holds full model-input texts (prompt + response).

    ``prompts``, ``labels`` and any other field OpenRLHF versions send are accepted and ignored.
    """

    model_config = ConfigDict(extra="allow")

    query: list[str] = Field(description="prompt + response texts, already formatted for the reward model")
    prompts: list[str] | None = None
    labels: list[Any] | None = None


class GetRewardResponse(BaseModel):
    rewards: list[float]
    scores: list[float] = Field(description="the same numbers as rewards (newer OpenRLHF reads 'scores')")
    truncated: list[bool]
    spread: list[float] | None = None
