"""Read import files (CSV, NDJSON, JSON, Parquet, each optionally gzipped).

A reader returns the file's rows as an Arrow table whose values are the file's own
(CSV and JSON values as text, Parquet typed), the line number of every row, and the rows
that could not even be parsed, each with its reason. A plain Parquet file is only
checked here (its footer read): the engine reads it in place during the import, which
is several times faster than going through Arrow in Python. Validation against the data
model happens later, in SQL, on the whole file at once.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from northstar.errors import ImportFileError

LINE = "__line"
FORMATS = ("csv", "ndjson", "json", "parquet")


@dataclass(frozen=True)
class Rejected:
    """A row refused before or during validation."""

    line: int | None
    raw: str
    reason: str


@dataclass
class RawFile:
    path: Path
    format: str
    # The file's columns plus LINE (int64); None for a Parquet file read in place.
    table: pa.Table | None
    rejected: list[Rejected] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the file's column names, in order

    def __post_init__(self) -> None:
        if self.table is not None and not self.columns:
            self.columns = self.table.column_names[:-1]  # LINE is last


# Characters the engine's file reader treats as a pattern: such names are read via Arrow.
_PATTERN_CHARS = frozenset("*?[]{}")
# The engine numbers a Parquet file's rows in this column (unless the file has one).
_PARQUET_ROW = "file_row_number"


def detect_format(path: Path) -> tuple[str, bool]:
    """(format, gzipped) from the file name; an unknown extension is a user error."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] in (".gz", ".gzip")
    if gzipped:
        suffixes = suffixes[:-1]
    ext = suffixes[-1].lstrip(".") if suffixes else ""
    fmt = {
        "csv": "csv",
        "tsv": "csv",
        "txt": "csv",
        "ndjson": "ndjson",
        "jsonl": "ndjson",
        "json": "json",
        "parquet": "parquet",
        "pq": "parquet",
    }.get(ext)
    if fmt is None:
        raise ImportFileError(
            f"{path}: cannot tell the format from the extension {ext or '(none)'!r}; "
            "use .csv, .ndjson/.jsonl, .json or .parquet (optionally .gz), or pass --format"
        )
    return fmt, gzipped


def read_file(path: Path, fmt: str | None = None) -> RawFile:
    """Read one import file. Unreadable files raise :class:`ImportFileError`."""
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    if path.is_dir():
        raise ImportFileError(f"{path} is a folder; give the files inside it")
    detected, gzipped = detect_format(path) if fmt is None else (fmt, _is_gzip(path))
    if detected not in FORMATS:
        raise ImportFileError(f"unknown format {detected!r}; use one of {', '.join(FORMATS)}")
    try:
        if detected == "parquet" and not gzipped:
            # Parquet is compressed inside; reading it in place avoids a copy.
            names = pq.read_schema(path).names
            if _PARQUET_ROW not in names and not _PATTERN_CHARS & set(str(path)):
                return RawFile(path, "parquet", None, columns=names)
            table = pq.read_table(path)
            lines = pa.array(range(1, table.num_rows + 1))
            return RawFile(path, "parquet", _with_lines(table, lines))
        data = _read_bytes(path, gzipped)
        if detected == "csv":
            return _read_csv(path, data)
        if detected == "parquet":
            return _read_parquet(path, data)
        if detected == "ndjson":
            return _read_ndjson(path, data)
        return _read_json(path, data)
    except ImportFileError:
        raise
    except (OSError, EOFError, pa.ArrowException, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path}: cannot read it as {detected}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _read_bytes(path: Path, gzipped: bool) -> bytes:
    raw = path.read_bytes()
    if gzipped or raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ImportFileError(f"{path}: damaged gzip data: {_first_line(exc)}") from None
    return raw


def _with_lines(table: pa.Table, lines: Iterable[int] | pa.Array) -> pa.Table:
    arr = lines if isinstance(lines, pa.Array) else pa.array(list(lines), pa.int64())
    return table.append_column(LINE, arr.cast(pa.int64()))


# -- CSV --------------------------------------------------------------------------
def _read_csv(path: Path, data: bytes) -> RawFile:
    text_head = data[:65536].decode("utf-8", errors="replace")
    delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
    first = next(csv.reader(io.StringIO(text_head.splitlines()[0] if text_head else "")), [])
    header = [h.strip() for h in first]
    if not header or all(h == "" for h in header):
        raise ImportFileError(f"{path}: the file is empty or has no header line")
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise ImportFileError(f"{path}: the header repeats column(s) {', '.join(dupes)}")
    invalid: list[Any] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        invalid.append(None)  # e.g. a quoted value spanning lines: take the careful path
    physical_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if invalid or physical_lines != table.num_rows + 1:
        # Rows of the wrong width, quoted newlines or blank lines shift pyarrow's row
        # numbering; Python's csv module reports the exact line of every record.
        return _read_csv_exact(path, data, header, delimiter)
    return RawFile(path, "csv", _with_lines(table, pa.array(range(2, table.num_rows + 2))))


def _read_csv_exact(path: Path, data: bytes, header: list[str], delimiter: str) -> RawFile:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter)
    next(reader, None)
    columns: list[list[str]] = [[] for _ in header]
    lines: list[int] = []
    rejected: list[Rejected] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            if not record or record == [""]:
                start = reader.line_num + 1
                continue
            if len(record) != len(header):
                rejected.append(
                    Rejected(
                        start,
                        json.dumps(record, ensure_ascii=False),
                        f"expected {len(header)} columns, found {len(record)}",
                    )
                )
            else:
                for col, value in zip(columns, record, strict=True):
                    col.append(value)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        rejected.append(Rejected(start, "", f"unreadable CSV from here on: {exc}"))
    table = pa.table({h: pa.array(c, pa.string()) for h, c in zip(header, columns, strict=True)})
    return RawFile(path, "csv", _with_lines(table, lines), rejected)


# -- Parquet ----------------------------------------------------------------------
def _read_parquet(path: Path, data: bytes) -> RawFile:
    table = pq.read_table(pa.BufferReader(data))
    return RawFile(path, "parquet", _with_lines(table, pa.array(range(1, table.num_rows + 1))))


# -- JSON -------------------------------------------------------------------------
def _records_to_table(records: list[dict[str, Any]]) -> pa.Table:
    """Columns of text: objects and arrays as JSON text, scalars as their text."""
    names: dict[str, None] = {}
    for rec in records:
        names.update(dict.fromkeys(rec))
    cols: dict[str, list[str | None]] = {n: [] for n in names}
    for rec in records:
        for name, values in cols.items():
            values.append(_as_text(rec.get(name)))
    return pa.table({n: pa.array(v, pa.string()) for n, v in cols.items()})


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _read_ndjson(path: Path, data: bytes) -> RawFile:
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    rejected: list[Rejected] = []
    for number, line in enumerate(data.decode("utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            rejected.append(Rejected(number, line, f"not valid JSON: {exc.msg}"))
            continue
        if not isinstance(value, dict):
            rejected.append(Rejected(number, line, "a line must hold a JSON object"))
            continue
        records.append(value)
        lines.append(number)
    return RawFile(path, "ndjson", _with_lines(_records_to_table(records), lines), rejected)


def _read_json(path: Path, data: bytes) -> RawFile:
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except json.JSONDecodeError as exc:
        # Maybe it is NDJSON saved as .json.
        if "\n" in data.strip().decode("utf-8", errors="replace"):
            return _read_ndjson(path, data)
        raise ImportFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ImportFileError(f"{path}: expected a JSON array of objects")
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(value, start=1):
        if isinstance(item, dict):
            records.append(item)
            lines.append(index)
        else:
            rejected.append(Rejected(index, json.dumps(item), "array element is not an object"))
    return RawFile(path, "json", _with_lines(_records_to_table(records), lines), rejected)
