"""One small table type for every table the course prints: text for nbval, HTML for Jupyter.

Asset reports, benchmark results, layer tables and trainable-weight counts are all a
:class:`Table`: rows of dicts, a list of columns (key, header, format), a text form whose
layout depends only on the values (so nbval can compare it) and an HTML form
(``_repr_html_``) that Jupyter shows when the table is the last thing in a cell.
"""

from __future__ import annotations

import html
import math
from typing import Any, Callable, Iterable, Mapping, Sequence

__all__ = ["Table", "Column"]

#: A column: ``"key"``, ``("key", "header")`` or ``("key", "header", format)``; a format is a
#: ``str.format`` pattern such as ``"{:.3f}"`` or a function of the value.
Column = "str | tuple[str, str] | tuple[str, str, str | Callable[[Any], str]]"


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _default_format(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Table:
    """Rows (dicts) under named columns, printed as aligned text or rendered as HTML.

    Numbers are right-aligned, text left-aligned; a missing value prints empty. ``highlight``
    marks rows (a function of the row) in red in HTML and with ``!`` in text.

    >>> t = Table([{"model": "A", "acc": 0.5}, {"model": "B", "acc": 0.75}],
    ...           [("model", "model"), ("acc", "accuracy", "{:.2f}")], title="Results")
    >>> print(t)
    Results
    model  accuracy
    -----  --------
    A          0.50
    B          0.75
    """

    def __init__(self, rows: Iterable[Mapping[str, Any] | Sequence[Any]] = (),
                 columns: Sequence[Any] | None = None, title: str = "", note: str = "",
                 highlight: Callable[[Mapping[str, Any]], bool] | None = None):
        self.columns = [self._column(c) for c in columns] if columns is not None else None
        self.rows: list[dict[str, Any]] = []
        for r in rows:
            if isinstance(r, Mapping):
                self.rows.append(dict(r))
            else:
                keys = [c[0] for c in (self.columns or [])]
                if len(keys) != len(r):
                    raise ValueError(f"A row of {len(r)} values needs {len(r)} columns; "
                                     f"got {len(keys)}.")
                self.rows.append(dict(zip(keys, r)))
        if self.columns is None:
            keys: list[str] = []
            for r in self.rows:
                keys += [k for k in r if k not in keys]
            self.columns = [(k, k, None) for k in keys]
        self.title, self.note, self.highlight = title, note, highlight

    @staticmethod
    def _column(c: Any) -> tuple[str, str, Any]:
        if isinstance(c, str):
            return (c, c, None)
        c = tuple(c)
        if len(c) == 2:
            return (c[0], c[1], None)
        if len(c) == 3:
            return c  # type: ignore[return-value]
        raise ValueError(f"A column is 'key', (key, header) or (key, header, format); got {c!r}.")

    # -------------------------------------------------------------------- rows
    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]

    def __bool__(self) -> bool:
        return bool(self.rows)

    def column(self, key: str) -> list[Any]:
        """The values of one column, in row order (None where a row lacks it)."""
        return [r.get(key) for r in self.rows]

    def _like(self, rows: Iterable[Mapping[str, Any]]) -> "Table":
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.rows = [dict(r) for r in rows]
        return new

    def sorted_by(self, key: str, descending: bool = True) -> "Table":
        """A copy sorted by ``key`` (missing values last, whatever the direction)."""
        present = [r for r in self.rows if not _missing(r.get(key))]
        absent = [r for r in self.rows if _missing(r.get(key))]
        return self._like(sorted(present, key=lambda r: r[key], reverse=descending) + absent)

    # -------------------------------------------------------------------- rendering
    def _shown(self) -> list[tuple[str, str, Any]]:
        return [c for c in self.columns if any(c[0] in r for r in self.rows)] or list(self.columns)

    @staticmethod
    def _cell(value: Any, fmt: Any) -> str:
        if _missing(value):
            return ""
        if fmt is None:
            return _default_format(value)
        if callable(fmt):
            return str(fmt(value))
        try:
            return fmt.format(value)
        except (ValueError, TypeError):  # a text value in a numeric column
            return str(value)

    def cells(self) -> tuple[list[str], list[list[str]], list[bool]]:
        """Headers, the formatted body and, per column, whether it is numeric (right-aligned)."""
        cols = self._shown()
        body = [[self._cell(r.get(k), f) for k, _, f in cols] for r in self.rows]
        numeric = [all(_is_number(r.get(k)) or _missing(r.get(k)) for r in self.rows)
                   and any(_is_number(r.get(k)) for r in self.rows) for k, _, _ in cols]
        return [h for _, h, _ in cols], body, numeric

    def to_text(self) -> str:
        """The aligned text form (what ``print`` shows and nbval compares)."""
        lines = [self.title] if self.title else []
        if not self.rows:
            lines.append("(no rows)")
        else:
            heads, body, numeric = self.cells()
            marks = [self.highlight is not None and bool(self.highlight(r)) for r in self.rows]
            widths = [max(len(x) for x in col) for col in zip(heads, *body)]

            flag = self.highlight is not None   # a "!" column in front of marked rows

            def line(values: Sequence[str], mark: str = "  ") -> str:
                out = "  ".join(v.rjust(w) if num else v.ljust(w)
                                for v, w, num in zip(values, widths, numeric))
                return ((mark if flag else "") + out).rstrip()

            lines.append(line(heads))
            lines.append(line(["-" * w for w in widths]))
            lines += [line(b, "! " if m else "  ") for b, m in zip(body, marks)]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        title = f"<b>{html.escape(self.title)}</b>" if self.title else ""
        note = f"<br><small>{html.escape(self.note)}</small>" if self.note else ""
        if not self.rows:
            return f"{title}<br><i>(no rows)</i>{note}"
        heads, body, numeric = self.cells()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
        trs = []
        for r, b in zip(self.rows, body):
            style = ' style="background:#ffe0e0"' if self.highlight and self.highlight(r) else ""
            tds = "".join(f'<td style="text-align:{"right" if num else "left"}">{html.escape(x)}</td>'
                          for x, num in zip(b, numeric))
            trs.append(f"<tr{style}>{tds}</tr>")
        return f"{title}<table><tr>{head}</tr>{''.join(trs)}</table>{note}"

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()
