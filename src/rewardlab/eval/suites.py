"""Known-good / known-bad suites: hand-written expectations a reward model must meet.

A suite is a list of checks. A *pair* check says "for this prompt, ``better`` must outscore
``worse``" (by more than ``margin``, default 0, so an exact tie fails); a *threshold* check
says "this ``response`` must score at least ``min``" or "at most ``max``". Suites are YAML
(``name``, ``description``, ``checks: [...]``) or JSONL (one check per line, named after the
file). Loading is strict, because a typo in a hand-written expectation silently tests
nothing: every problem raises :class:`DataError` naming the file, the check and the field.
The schema is documented in docs/suites.md; running a suite against a model is
:mod:`rewardlab.eval.suite_run`.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from rewardlab.data.records import Message, Prompt
from rewardlab.errors import CheckError, ConfigError, DataError

__all__ = [
    "BUILTIN_SUITES",
    "PairCheck",
    "Suite",
    "ThresholdCheck",
    "builtin_suite",
    "load_suite",
    "resolve_suite",
]

#: Suites shipped in ``rewardlab/suites/`` (``builtin:<name>``).
BUILTIN_SUITES = ("synth",)

_PAIR_KEYS = ("id", "prompt", "better", "worse", "margin", "tags", "note")
_THRESHOLD_KEYS = ("id", "prompt", "response", "min", "max", "tags", "note")
_CHECK_KEYS = tuple(dict.fromkeys(_PAIR_KEYS + _THRESHOLD_KEYS))
_SUITE_KEYS = ("name", "description", "checks")
_ROLES = ("system", "user", "assistant")


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise CheckError(f"{field} must be a string, got {type(value).__name__} {value!r}; put it in quotes", field)
    if not value.strip():
        raise CheckError(f"{field} is empty; write the text the check is about", field)
    return value


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CheckError(f"{field} must be a finite number, got {value!r}", field)
    return float(value)


def _check_common(check: PairCheck | ThresholdCheck) -> None:
    _text(check.id, "id")
    if isinstance(check.prompt, str):
        _text(check.prompt, "prompt")
    elif not check.prompt or not all(isinstance(m, Message) for m in check.prompt):
        raise CheckError("prompt must be a string or a non-empty list of chat messages", "prompt")
    if not isinstance(check.tags, tuple) or not all(isinstance(t, str) and t.strip() for t in check.tags):
        raise CheckError(f"tags must be a list of non-empty strings such as [arithmetic, length], got "
                         f"{list(check.tags) if isinstance(check.tags, tuple) else check.tags!r}", "tags")
    if len(set(check.tags)) != len(check.tags):
        raise CheckError(f"tags {list(check.tags)} repeat a tag; list each tag once", "tags")
    if check.note is not None:
        _text(check.note, "note")


@dataclass(frozen=True)
class PairCheck:
    """``better`` must outscore ``worse`` for ``prompt`` by more than ``margin`` (>= 0)."""

    id: str
    prompt: Prompt
    better: str
    worse: str
    margin: float = 0.0
    tags: tuple[str, ...] = ()
    note: str | None = None

    @property
    def kind(self) -> Literal["pair"]:
        return "pair"

    def __post_init__(self) -> None:
        _check_common(self)
        _text(self.better, "better")
        _text(self.worse, "worse")
        if self.better == self.worse:
            raise CheckError("better and worse are the same text; a response cannot outscore itself", "worse")
        margin = _number(self.margin, "margin")
        if margin < 0:
            raise CheckError(f"margin must be >= 0 (got {margin:g}); it is how far better must lead", "margin")
        object.__setattr__(self, "margin", margin)


@dataclass(frozen=True)
class ThresholdCheck:
    """``response`` must score at least ``min`` or at most ``max`` (exactly one is set)."""

    id: str
    prompt: Prompt
    response: str
    min: float | None = None
    max: float | None = None
    tags: tuple[str, ...] = ()
    note: str | None = None

    @property
    def kind(self) -> Literal["threshold"]:
        return "threshold"

    def __post_init__(self) -> None:
        _check_common(self)
        _text(self.response, "response")
        if (self.min is None) == (self.max is None):
            raise CheckError("a threshold check needs exactly one of min (score >= min) or max (score <= max); "
                             "write two checks to bound both sides", "min")
        for field in ("min", "max"):
            value = getattr(self, field)
            if value is not None:
                object.__setattr__(self, field, _number(value, field))


Check = PairCheck | ThresholdCheck


@dataclass(frozen=True)
class Suite:
    """A named list of checks and where it came from (a path or ``builtin:<name>``)."""

    name: str
    source: str
    checks: tuple[Check, ...]
    description: str | None = None

    def __post_init__(self) -> None:
        if not self.checks:
            raise DataError("the suite has no checks; add at least one under 'checks'", source=self.source)
        seen: dict[str, int] = {}
        for i, check in enumerate(self.checks):
            if check.id in seen:
                raise DataError(f"checks[{i}] repeats the id {check.id!r} of checks[{seen[check.id]}]; "
                                "give every check its own id", source=self.source, field="id")
            seen[check.id] = i


# --- reading files ------------------------------------------------------------------------------


def _parse_prompt(value: Any) -> Prompt:
    if isinstance(value, str):
        return _text(value, "prompt")
    if not isinstance(value, list):
        raise CheckError(f"prompt must be a string or a list of {{role, content}} messages, got {value!r}", "prompt")
    messages = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"role", "content"}:
            raise CheckError(f"message {i} must be a mapping with exactly the keys role and content", "prompt")
        if item["role"] not in _ROLES:
            raise CheckError(f"message {i} has role {item['role']!r}; use one of {', '.join(_ROLES)}", "prompt")
        messages.append(Message(item["role"], _text(item["content"], "prompt")))
    if not messages or messages[-1].role != "user":
        raise CheckError("a chat prompt must end with the user turn that the response answers", "prompt")
    return tuple(messages)


def _parse_check(raw: Any) -> Check:
    """One check from its mapping; the kind follows from which keys are present."""
    if not isinstance(raw, dict):
        raise CheckError(f"a check must be a mapping of keys ({', '.join(_CHECK_KEYS)}), got {type(raw).__name__}")
    for key in raw:
        if key not in _CHECK_KEYS:
            close = difflib.get_close_matches(str(key), _CHECK_KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"a check takes {', '.join(_CHECK_KEYS)}"
            raise CheckError(f"unknown key {key!r}; {hint}", str(key))
    is_pair = "better" in raw or "worse" in raw or "margin" in raw
    is_threshold = "response" in raw or "min" in raw or "max" in raw
    if is_pair == is_threshold:
        what = "mixes pair keys (better, worse, margin) with threshold keys (response, min, max)" if is_pair else (
            "has neither better/worse (a pair check) nor response with min or max (a threshold check)")
        raise CheckError(f"the check {what}; write one kind per check")
    keys = _PAIR_KEYS if is_pair else _THRESHOLD_KEYS
    for key in ("id", "prompt", *(("better", "worse") if is_pair else ("response",))):
        if key not in raw:
            raise CheckError(f"missing {key!r}; a {'pair' if is_pair else 'threshold'} check needs "
                             f"id, prompt and {'better and worse' if is_pair else 'response'}", key)
    tags = raw.get("tags", [])
    if not isinstance(tags, list):
        raise CheckError(f"tags must be a list of strings such as [arithmetic, length], got {tags!r}", "tags")
    fields = {k: raw[k] for k in keys if k in raw}
    fields.update(prompt=_parse_prompt(raw["prompt"]), tags=tuple(tags))
    if is_pair:
        return PairCheck(**fields)
    return ThresholdCheck(**fields)


def _located(err: CheckError, source: str, where: str, line: int | None = None) -> DataError:
    return DataError(f"{where}: {err.problem}", source=source, line=line, field=err.field)


def _checks_from_list(raws: list[Any], source: str) -> tuple[Check, ...]:
    checks: list[Check] = []
    for i, raw in enumerate(raws):
        ident = raw.get("id") if isinstance(raw, dict) else None
        where = f"checks[{i}]" + (f" (id {ident!r})" if isinstance(ident, str) else "")
        try:
            checks.append(_parse_check(raw))
        except CheckError as err:
            raise _located(err, source, where) from None
    return tuple(checks)


def _parse_yaml(text: str, source: str, default_name: str) -> Suite:
    """A suite from YAML text: ``name`` (default ``default_name``), ``description``, ``checks``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise DataError(f"not valid YAML ({err}); fix the syntax", source=source) from None
    if not isinstance(data, dict) or "checks" not in data:
        raise DataError("a YAML suite is a mapping with 'checks' (a list) and optional 'name' and 'description'",
                        source=source)
    for key in data:
        if key not in _SUITE_KEYS:
            raise DataError(f"unknown top-level key {key!r}; a suite takes {', '.join(_SUITE_KEYS)}",
                            source=source, field=str(key))
    if not isinstance(data["checks"], list):
        raise DataError("'checks' must be a list of checks", source=source, field="checks")
    try:
        name = _text(data.get("name", default_name), "name")
        description = None if data.get("description") is None else _text(data["description"], "description")
    except CheckError as err:
        raise DataError(err.problem, source=source, field=err.field) from None
    return Suite(name, source, _checks_from_list(data["checks"], source), description)


def _parse_jsonl(text: str, source: str, name: str) -> Suite:
    """A suite from JSONL text, one check object per line (blank lines are allowed)."""
    checks: list[Check] = []
    lines: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"not valid JSON ({err.msg}); write one check object per line",
                            source=source, line=lineno) from None
        ident = raw.get("id") if isinstance(raw, dict) else None
        try:
            check = _parse_check(raw)
        except CheckError as err:
            raise _located(err, source, f"check {ident!r}" if isinstance(ident, str) else "check", lineno) from None
        if check.id in lines:
            raise DataError(f"duplicate id {check.id!r} (first on line {lines[check.id]}); give every check its "
                            "own id", source=source, line=lineno, field="id")
        lines[check.id] = lineno
        checks.append(check)
    return Suite(name, source, tuple(checks))


def load_suite(path: str | os.PathLike[str]) -> Suite:
    """A suite from a ``.yaml``/``.yml`` or ``.jsonl`` file.

    A file that is missing, a directory, unreadable or not UTF-8 is a :class:`DataError`
    naming the path and what to do, like every problem inside it.
    """
    p = Path(path)
    source = str(p)
    if p.suffix not in (".yaml", ".yml", ".jsonl"):
        raise DataError(f"unknown suite file type {p.suffix!r}; use .yaml, .yml or .jsonl", source=source)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("no such suite file; check the path (or use builtin:synth)", source=source) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a suite file; give the path of a .yaml, .yml or .jsonl file inside it",
                        source=source) from None
    except PermissionError:
        raise DataError("permission denied reading the suite file; make it readable (chmod +r) or copy it "
                        "somewhere you can read", source=source) from None
    except OSError as err:
        raise DataError(f"cannot read the suite file ({err.strerror or err}); check the path and the disk",
                        source=source) from None
    except UnicodeDecodeError as err:
        raise DataError(f"the suite file is not UTF-8 text (byte {err.object[err.start]:#04x} at offset "
                        f"{err.start}); re-save it as UTF-8", source=source) from None
    if p.suffix == ".jsonl":
        return _parse_jsonl(text, source, p.stem)
    return _parse_yaml(text, source, p.stem)


def builtin_suite(name: str = "synth") -> Suite:
    """A suite shipped with rewardlab (``rewardlab/suites/<name>.yaml``)."""
    if name not in BUILTIN_SUITES:
        raise ConfigError(f"unknown built-in suite {name!r}; choose one of {', '.join(BUILTIN_SUITES)}")
    text = resources.files("rewardlab").joinpath(f"suites/{name}.yaml").read_text(encoding="utf-8")
    return _parse_yaml(text, f"builtin:{name}", name)


def resolve_suite(spec: str) -> Suite:
    """``builtin:<name>`` or a path, as the CLI's ``--suite`` takes it."""
    if spec.startswith("builtin:"):
        return builtin_suite(spec.removeprefix("builtin:"))
    return load_suite(spec)
