"""Evaluating or auditing several data sources at once: each one, then all of them together.

``rewardlab eval`` and ``rewardlab audit`` accept files, globs and folders; these functions take
the loaded sources and return what the commands print and write: one result per source and, with
several, the total over all their pairs at the top level of the JSON with each source under
``files``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rewardlab.audit import DEFAULT_PROBES, Probe, render_audit, run_probes
from rewardlab.data.records import Comparison
from rewardlab.errors import ConfigError
from rewardlab.scoring import RewardScorer

__all__ = ["audit_sources", "pick_probes"]

#: (source name, its pairs) for each source.
Loaded = Sequence[tuple[str, Sequence[Comparison]]]


def pick_probes(names: str | None) -> list[Probe]:
    """The probes named in a comma-separated list (all by default); ConfigError naming the unknown ones."""
    if not names:
        return list(DEFAULT_PROBES)
    wanted = [p.strip() for p in names.split(",") if p.strip()]
    known = {p.name: p for p in DEFAULT_PROBES}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise ConfigError(f"unknown probe(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return [known[w] for w in wanted]


def audit_sources(scorer: RewardScorer, sources: Loaded, probes: Sequence[Probe], *, title: str, batch_size: int,
                  max_pairs: int, seed: int, log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Audit each source (printing its table), then the total over all of them when there are several."""
    files, everything = [], []
    for name, records in sources:
        report = run_probes(scorer, records, probes, batch_size=batch_size, max_pairs=max_pairs, seed=seed)
        log(render_audit(report, title=f"{title} on {name}") + "\n")
        files.append({"data": name, **report.to_dict()})
        everything += list(records)
    if len(files) == 1:
        return files[0]
    total = run_probes(scorer, everything, probes, batch_size=batch_size, max_pairs=max_pairs, seed=seed)
    log(render_audit(total, title=f"{title}: total over {len(files)} sources"))
    return {**total.to_dict(), "files": files}
