"""The asset report: what each load found (mirror, download or stand-in), and banners that say so.

Every recorded asset is also written to the run's results file
(:func:`seminar_utils.results._record_asset`), so a run keeps its provenance.
"""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass, field, fields
from typing import Iterable, Mapping

from .. import results as _results
from ..table import Table

__all__ = ["SOURCES", "AssetRecord", "AssetReport", "record_asset", "asset_report", "banner"]

#: Where an asset can come from ("cache": a file already in Keras's cache, e.g. ImageNet weights).
SOURCES = ("mirror", "cache", "download", "stand-in")


@dataclass
class AssetRecord:
    """Where one asset came from and what it holds."""

    name: str
    source: str  # one of SOURCES
    location: str
    counts: dict[str, int] = field(default_factory=dict)
    shape: str = ""
    note: str = ""

    @property
    def real(self) -> bool:
        return self.source != "stand-in"


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items())


class AssetReport(Table):
    """The assets loaded so far, as a :class:`~seminar_utils.table.Table` with stand-ins highlighted.

    Iterating (or indexing) gives :class:`AssetRecord` objects; ``rows`` holds the printed dicts.

    >>> report = AssetReport([AssetRecord("MNIST", "stand-in", "generated digits")])
    >>> report[0].real, "NO (stand-in)" in str(report)
    (False, True)
    """

    COLUMNS = [("name", "asset"), ("source", "source"),
               ("real", "real", lambda real: "yes" if real else "NO (stand-in)"),
               ("counts", "counts", _counts), ("shape", "shape"), ("where", "location / note")]

    def __init__(self, records: Iterable[AssetRecord] = ()):
        rows = [{**asdict(r), "real": r.real, "where": r.note or r.location} for r in records]
        super().__init__(rows, self.COLUMNS, title="Asset report",
                         highlight=lambda row: not row["real"])

    def records(self) -> list[AssetRecord]:
        """The rows as :class:`AssetRecord` objects, in order."""
        names = [f.name for f in fields(AssetRecord)]
        return [AssetRecord(**{k: row[k] for k in names}) for row in self.rows]

    def __iter__(self):
        return iter(self.records())

    def __getitem__(self, i: int) -> AssetRecord:  # type: ignore[override]
        return self.records()[i]


_REPORT: dict[str, AssetRecord] = {}


def _record(rec: AssetRecord) -> AssetRecord:
    """Add ``rec`` to the report (replacing an earlier record of the same asset) and the results file."""
    if rec.source not in SOURCES:
        raise ValueError(f"Unknown asset source {rec.source!r}; use one of {', '.join(SOURCES)}.")
    _REPORT[rec.name] = rec
    _results._record_asset(rec.name, rec.source, rec.location, rec.note)
    return rec


def record_asset(name: str, source: str, location: str, counts: Mapping[str, int] | None = None,
                 shape: str = "", note: str = "") -> AssetRecord:
    """Record where an asset came from: it shows in :func:`asset_report` and the run's results.

    ``source`` is one of :data:`SOURCES` (only ``"stand-in"`` counts as not real); a later
    record of the same ``name`` replaces the earlier one.

    >>> record_asset("VGG16 ImageNet weights", "stand-in", "weights=None", note="random").real
    False
    """
    return _record(AssetRecord(name, source, location, dict(counts or {}), shape, note))


def asset_report() -> AssetReport:
    """Every asset loaded in this session, with its source (mirror / download / stand-in).

    >>> asset_report().title
    'Asset report'
    """
    return AssetReport(_REPORT.values())


def banner(message: str) -> str:
    """Print ``message`` in a box that stands out in a notebook's output; return the text.

    >>> _ = banner("hello")
    #########
    # hello #
    #########
    """
    lines = [part for line in message.splitlines()
             for part in (textwrap.wrap(line, 96, break_on_hyphens=False) or [""])]
    width = max(len(x) for x in lines) + 4
    text = "\n".join(["#" * width] + [f"# {x.ljust(width - 4)} #" for x in lines] + ["#" * width])
    print(text)
    return text
