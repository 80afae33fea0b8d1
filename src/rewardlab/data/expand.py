"""Several data sources from one command line: files, globs and folders of files.

``rewardlab eval MODEL a.jsonl b.json 'llmbar/**/dataset.json' pandalm/`` evaluates each source
and the whole. A glob is expanded here (so it works quoted, and on shells that do not expand);
a folder written by ``save_to_disk`` is one source, any other folder stands for the data files
under it (:data:`~rewardlab.data.sources.SUFFIXES`, recursively, in sorted order). Anything else,
a file or a hub id, is passed on as it is and opened by ``open_source``; a local path that does not
exist is refused here, before a command loads its model.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from rewardlab.data.sources import SUFFIXES, check_exists
from rewardlab.errors import DataError

__all__ = ["expand_sources"]

#: Files ``save_to_disk`` writes at the top of its folder.
_SAVED_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")


def _is_data_file(path: Path) -> bool:
    return path.is_file() and any(path.name.endswith(s) for s in SUFFIXES) and path.name not in _SAVED_MARKERS


def _saved_dataset(folder: Path) -> bool:
    return any((folder / m).is_file() for m in _SAVED_MARKERS)


def _folder(folder: Path) -> list[str]:
    if _saved_dataset(folder):
        return [str(folder)]
    files = sorted(str(p) for p in folder.rglob("*") if _is_data_file(p))
    if not files:
        raise DataError(f"the folder holds no data files ({', '.join(SUFFIXES)}) and is not a save_to_disk "
                        "data set", source=str(folder))
    return files


def expand_sources(args: Sequence[str]) -> list[str]:
    """Every source the arguments name, in order, each once."""
    out: list[str] = []
    for arg in args:
        path = Path(arg).expanduser()
        if glob.has_magic(arg) and not path.exists():
            matches = sorted(glob.glob(str(path), recursive=True))
            if not matches:
                raise DataError("no file matches this pattern", source=arg)
            for m in matches:
                out += _folder(Path(m)) if Path(m).is_dir() else [m]
        elif path.is_dir():
            out += _folder(path)
        else:
            check_exists(arg)  # before any model is loaded
            out.append(arg)
    return list(dict.fromkeys(out))
