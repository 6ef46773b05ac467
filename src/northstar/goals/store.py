"""``goals.yaml``: the one place objectives and goals live.

The CLI and the Python API read and write this file, and people may edit it by hand and
review it in git, so there is nothing to drift apart. Writes go to a temporary file that
replaces the old one, so a reader never sees half a file.
"""

from __future__ import annotations

import fcntl
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from northstar.errors import GoalFileError
from northstar.goals.model import GoalBook

GOALS_FILE = "goals.yaml"

HEADER = (
    "# Objectives and goals of this workspace (see docs/goals.md).\n"
    "# Edit this file by hand or with `northstar objectives ...` / `northstar goals ...`:\n"
    "# both read and write it. The commands rewrite the file, so comments are not kept.\n"
)


def load_book(path: Path) -> GoalBook:
    """Read ``goals.yaml``; a missing file is an empty book. Mistakes name the entry."""
    if not path.exists():
        return GoalBook()
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GoalFileError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise GoalFileError(f"{path} is not valid YAML{where}; fix the file and retry") from None
    if raw is None:
        return GoalBook()
    if not isinstance(raw, dict):
        raise GoalFileError(f"{path} must hold a mapping with 'objectives' and 'goals'")
    try:
        return GoalBook.model_validate(raw)
    except ValidationError as exc:
        raise GoalFileError(f"{path}: {_describe(exc, raw)}") from None


def _describe(exc: ValidationError, raw: dict[str, Any]) -> str:
    first = exc.errors()[0]
    loc = list(first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "not a known field (see docs/goals.md)"
    # "goals.2.target.value" reads better as "goal 'mau-h2', field target.value".
    if len(loc) >= 2 and loc[0] in ("goals", "objectives") and isinstance(loc[1], int):
        entries = raw.get(str(loc[0])) or []
        entry = entries[loc[1]] if loc[1] < len(entries) else {}
        name = entry.get("id", f"#{loc[1] + 1}") if isinstance(entry, dict) else f"#{loc[1] + 1}"
        kind = "goal" if loc[0] == "goals" else "objective"
        field = ".".join(str(p) for p in loc[2:])
        return f"{kind} '{name}'" + (f", field '{field}'" if field else "") + f": {msg}"
    return f"{'.'.join(str(p) for p in loc) or 'file'}: {msg}"


@contextmanager
def editing(path: Path) -> Iterator[GoalBook]:
    """Load ``goals.yaml`` for a change and save it when the block ends without error.

    An exclusive lock on a side file is held from the read to the write, so two edits at
    once (a CLI command and the web page, or two browser tabs) are made one after the
    other and neither is lost.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            book = load_book(path)
            yield book
            save_book(path, book)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def save_book(path: Path, book: GoalBook) -> None:
    """Write ``goals.yaml`` atomically (validated again first)."""
    book = GoalBook.model_validate(book.model_dump())
    text = HEADER + yaml.dump(
        _plain(book.model_dump(exclude_none=True)),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".goals-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Dumper(yaml.SafeDumper):
    """Safe YAML without anchors: a date shared by two entries is written twice."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _plain(value: Any) -> Any:
    """Enums to their values, whole floats to ints, empty lists and strings dropped."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item in ([], "", {}):
                continue
            out[key] = _plain(item)
        return out
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, datetime | date):
        return value
    return value
