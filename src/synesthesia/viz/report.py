"""A self-contained HTML report: figures (PNG), audio players (WAV) and tables, all inlined.

Used by ``synesthesia demo``; anything can add a section. The file has no external references,
so it can be mailed or opened offline.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synesthesia.utils import atomic_write_text

__all__ = ["Report"]

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{border-bottom:2px solid #444} h2{margin-top:2em;border-bottom:1px solid #bbb}
figure{margin:1em 0} figcaption{font-size:.9em;color:#555}
table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #ccc;padding:.3em .7em}
th{background:#f3f3f3} .audio{display:flex;gap:1em;align-items:center;margin:.4em 0}
.note{color:#555;font-size:.9em} img{max-width:100%}
"""


@dataclass
class _Section:
    title: str
    parts: list[str] = field(default_factory=list)


class Report:
    """Collects sections and writes one HTML file with everything embedded.

    Example:
        >>> report = Report("synesthesia demo")
        >>> report.section("Sound")
        >>> report.text("A 440 Hz tone.")
        >>> report.table([["n_fft", 1024]], header=["setting", "value"])
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self._sections: list[_Section] = []

    def section(self, title: str) -> None:
        """Start a new section; later calls add to it."""
        self._sections.append(_Section(title))

    def _current(self) -> _Section:
        if not self._sections:
            self.section("")
        return self._sections[-1]

    def text(self, text: str, *, note: bool = False) -> None:
        """A paragraph of plain text (escaped)."""
        cls = ' class="note"' if note else ""
        self._current().parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def html(self, fragment: str) -> None:
        """Raw HTML (trusted, produced by our own code)."""
        self._current().parts.append(fragment)

    def figure(self, fig: Any, *, caption: str = "", dpi: int = 100) -> None:
        """Embed a matplotlib figure as PNG and close it."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        self.image_png(buf.getvalue(), caption=caption)

    def image_png(self, png: bytes, *, caption: str = "") -> None:
        """Embed PNG bytes."""
        data = base64.b64encode(png).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._current().parts.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"{cap}</figure>"
        )

    def audio(self, waveform: Any, sample_rate: int, *, caption: str = "") -> None:
        """Embed a mono waveform (array or tensor, shape (T,)) as a 16-bit WAV player."""
        import soundfile as sf

        array = np.asarray(
            waveform.detach().cpu().numpy() if hasattr(waveform, "detach") else waveform,
            dtype=np.float32,
        ).reshape(-1)
        buf = io.BytesIO()
        sf.write(buf, np.clip(array, -1.0, 1.0), int(sample_rate), format="WAV", subtype="PCM_16")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        self._current().parts.append(
            f'<div class="audio"><audio controls src="data:audio/wav;base64,{data}"></audio>'
            f"<span>{html.escape(caption)}</span></div>"
        )

    def table(self, rows: Sequence[Sequence[Any]], *, header: Sequence[str] | None = None) -> None:
        """A table of values (floats printed with 4 significant digits)."""

        def cell(value: Any) -> str:
            if isinstance(value, float):
                return f"{value:.4g}"
            return html.escape(str(value))

        out = ["<table>"]
        if header:
            out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
        for row in rows:
            out.append("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>")
        out.append("</table>")
        self._current().parts.append("".join(out))

    def render(self) -> str:
        """The whole HTML document."""
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        if len(self._sections) > 1:
            body.append("<ul>")
            for i, sec in enumerate(self._sections):
                if sec.title:
                    body.append(f'<li><a href="#s{i}">{html.escape(sec.title)}</a></li>')
            body.append("</ul>")
        for i, sec in enumerate(self._sections):
            if sec.title:
                body.append(f'<h2 id="s{i}">{html.escape(sec.title)}</h2>')
            body.extend(sec.parts)
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(body)}</body></html>\n"
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the report atomically; returns the path."""
        path = Path(path)
        atomic_write_text(path, self.render())
        return path
