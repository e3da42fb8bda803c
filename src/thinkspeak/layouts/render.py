"""Render any layout as a grid (rows = streams, columns = steps), as a colored terminal table or as JSON.

The grid builders are pure Python and validate their input with the layout's own decoder; only
:func:`print_grid` needs ``rich``, imported when it is called, so ``import thinkspeak.layouts`` stays light.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from thinkspeak.layouts import miniomni, moshi, omniflatten, syncllm
from thinkspeak.layouts.interleave import TokenRouter

if TYPE_CHECKING:
    from rich.console import Console

STYLES = {
    "text": "bold white",
    "audio": "cyan",
    "special": "magenta",
    "tag": "bold magenta",
    "pad": "bright_black",
    "say": "bold green",
    "think": "yellow",
    "end": "bold red",
}
"""rich style of each cell style name."""


@dataclass(frozen=True)
class Cell:
    """One shown token: ``token`` is the value (kept in JSON), ``label`` what the table prints."""

    token: Hashable
    label: str
    style: str

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {sorted(STYLES)}, got {self.style!r}")


@dataclass
class Grid:
    """A layout as a table: ``cells[row][step]`` is a :class:`Cell` or None (nothing in that stream)."""

    title: str
    streams: list[str]
    cells: list[list[Cell | None]]
    columns: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.cells) != len(self.streams):
            raise ValueError(f"cells must hold one row per stream ({len(self.streams)}), got {len(self.cells)}")
        widths = {len(row) for row in self.cells}
        if len(widths) > 1:
            raise ValueError(f"every row of cells must have the same length, got {sorted(widths)}")
        n = widths.pop() if widths else 0
        if not self.columns:
            self.columns = [str(i) for i in range(n)]
        if len(self.columns) != n:
            raise ValueError(f"columns must name the {n} steps, got {len(self.columns)} names")

    def to_json(self) -> dict[str, Any]:
        """``{"title", "columns", "streams": [{"name", "tokens", "labels"}]}``; empty cells are null."""
        return {
            "title": self.title,
            "columns": self.columns,
            "streams": [
                {"name": name, "tokens": [c.token if c else None for c in row],
                 "labels": [c.label if c else None for c in row]}
                for name, row in zip(self.streams, self.cells, strict=True)
            ],
        }


def placed_grid(title: str, streams: Sequence[str], placed: Sequence[tuple[str, Cell]],
                columns: Sequence[str] = ()) -> Grid:
    """A grid of one sequence: step ``i`` shows ``placed[i]``'s cell in the row of its stream."""
    rows: list[list[Cell | None]] = [[None] * len(placed) for _ in streams]
    for i, (stream, cell) in enumerate(placed):
        if stream not in streams:
            raise ValueError(f"placed[{i}] names stream {stream!r}, expected one of {list(streams)}")
        rows[list(streams).index(stream)][i] = cell
    return Grid(title, list(streams), rows, list(columns))


def miniomni_grid(streams: Sequence[Sequence[int]], vocab: miniomni.MiniOmniVocab = miniomni.VOCAB,
                  title: str = "Mini-Omni", raw_ids: bool = False) -> Grid:
    """The 8 streams ``[A0 .. A6, T]`` (shifted ids): specials by name, audio as raw codes (or ids)."""
    if len(streams) != vocab.n_streams:
        raise ValueError(f"streams must hold {vocab.n_streams} rows ([A0..A{vocab.n_layers - 1}, T]), "
                         f"got {len(streams)}")
    miniomni.output_steps(streams)  # checks equal lengths
    names = vocab.special_names()
    rows: list[list[Cell | None]] = []
    for layer, stream in enumerate(streams):
        row: list[Cell | None] = []
        for j, tok in enumerate(stream):
            if layer < vocab.n_layers:
                value = vocab.unshift(tok, layer)
                plain = "audio"
            else:
                if not isinstance(tok, int) or isinstance(tok, bool) or not 0 <= tok < vocab.text_size:
                    raise ValueError(f"streams[{layer}][{j}] must be a text-block id in [0, {vocab.text_size}), "
                                     f"got {tok!r}")
                value, plain = tok, "text"
            if tok in names:
                style = "pad" if names[tok].startswith("PAD") else "special"
                row.append(Cell(tok, str(tok) if raw_ids else names[tok], style))
            else:
                row.append(Cell(tok, str(tok if raw_ids else value), plain))
        rows.append(row)
    labels = [f"A{i}" for i in range(vocab.n_layers)] + ["T"]
    return Grid(title, labels, rows)


def interleave_grid(stream: Sequence[Hashable], *, say_pad: Hashable, think_pad: Hashable, end: Hashable,
                    p: int = 2, q: int = 8, title: str = "thinking-in-speaking") -> Grid:
    """An interleaved p:q stream on two rows, 'say' and 'think', each token in its slot's row."""
    router = TokenRouter(say_pad=say_pad, think_pad=think_pad, end=end, p=p, q=q)
    placed = []
    for r in router.feed(stream):
        style = {"token": r.channel, "pad": "pad", "end": "end"}[r.kind]
        label = {"token": str(r.token), "pad": "·", "end": "END"}[r.kind]
        placed.append((r.channel, Cell(r.token, label, style)))
    return placed_grid(title, ["say", "think"], placed)


def sequential_grid(segments: Sequence[tuple[str, Sequence[Hashable]]], *, markers: dict[Hashable, str],
                    title: str) -> Grid:
    """Consecutive segments of one sequence (e.g. 'think-first': all reasoning, then the response)."""
    placed = []
    for stream, tokens in segments:
        for tok in tokens:
            if tok in markers:
                placed.append((stream, Cell(tok, markers[tok], "end")))
            else:
                placed.append((stream, Cell(tok, str(tok), stream if stream in STYLES else "text")))
    return placed_grid(title, list(dict.fromkeys(s for s, _ in segments)), placed)


def syncllm_grid(sequence: Sequence[int], config: syncllm.SyncConfig = syncllm.CONFIG,
                 title: str = "SyncLLM") -> Grid:
    """A SyncLLM sequence on rows S0 and S1: each tag and deduplicated unit in its speaker's row."""
    syncllm.decode(sequence, config)  # validates the whole sequence
    placed = []
    speaker = "S0"
    for tok in sequence:
        if tok in config.tags:
            speaker = f"S{config.tags.index(tok)}"
            placed.append((speaker, Cell(tok, f"[{speaker}]", "tag")))
        else:
            placed.append((speaker, Cell(tok, str(tok), "audio")))
    return placed_grid(title, ["S0", "S1"], placed)


_TAG_LABELS = {omniflatten.USER_SPEECH: "<us>", omniflatten.USER_TEXT: "<ut>",
               omniflatten.ASSISTANT_TEXT: "<at>", omniflatten.ASSISTANT_SPEECH: "<as>"}


def omniflatten_grid(sequence: Sequence[int], n_streams: int, *, speech_chunk: int = 10, text_chunk: int = 2,
                     vocab: omniflatten.FlatVocab = omniflatten.VOCAB, title: str = "") -> Grid:
    """An OmniFlatten sequence (4-, 3- or 2-stream layout) with each token in its stream's row.

    Speech is shown as raw codes, silence as ``SIL``, the text silence-end pad as ``END``, tags as ``<us>``...
    """
    if n_streams == 4:
        turn_decoder = omniflatten.TurnDecoder(vocab)
        routed = turn_decoder.feed(sequence)
        turn_decoder.close()
        streams = list(omniflatten.TURN_SEGMENTS)
    elif n_streams in (3, 2):
        duplex = omniflatten.DuplexDecoder(n_streams == 3, speech_chunk=speech_chunk, text_chunk=text_chunk,
                                           vocab=vocab)
        routed = duplex.feed(sequence)
        duplex.close()
        streams = [name for name, _ in duplex.schedule]
    else:
        raise ValueError(f"n_streams must be 4, 3 or 2, got {n_streams!r}")
    placed = []
    for r in routed:
        speech = r.stream in (omniflatten.USER_SPEECH, omniflatten.ASSISTANT_SPEECH)
        if r.kind == "tag":
            cell = Cell(r.token, _TAG_LABELS[r.stream], "tag")
        elif r.kind == "silence":
            cell = Cell(r.token, "SIL" if speech else "END", "pad")
        elif speech:
            cell = Cell(r.token, str(r.token - vocab.speech_start), "audio")
        else:
            cell = Cell(r.token, str(r.token), "text")
        placed.append((r.stream, cell))
    return placed_grid(title or f"OmniFlatten, {n_streams} streams", streams, placed)


def moshi_grid(text: Sequence[int], *, pad: int = 3, epad: int = 0, frame_rate: float = 12.5,
               title: str = "Moshi inner monologue") -> Grid:
    """A Moshi text stream, one column per frame (headed by its time), with the word of each token."""
    moshi.split_words(text, pad, epad)  # validates the stream
    words = {w.frame: w.word for w in moshi.WordDecoder(pad, epad).feed(text)}
    text_row: list[Cell | None] = []
    word_row: list[Cell | None] = []
    for t, tok in enumerate(text):
        if tok == pad:
            text_row.append(Cell(tok, "PAD", "pad"))
        elif tok == epad:
            text_row.append(Cell(tok, "EPAD", "special"))
        else:
            text_row.append(Cell(tok, str(tok), "text"))
        word_row.append(Cell(words[t], f"w{words[t]}", "say") if t in words else None)
    columns = [f"{t / frame_rate:.2f}s" for t in range(len(text))]
    return Grid(title, ["text", "word"], [text_row, word_row], columns)


def print_grid(grid: Grid, console: Console | None = None) -> None:
    """Print ``grid`` as colored tables, splitting the steps into blocks that fit the console width."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    name_width = max(len(s) for s in ["stream", *grid.streams])
    widths = [
        max([len(grid.columns[j])] + [len(row[j].label) for row in grid.cells if row[j] is not None])
        for j in range(len(grid.columns))
    ]
    blocks: list[list[int]] = [[]]
    used = name_width + 3  # two edges and the padding of the name column
    for j, width in enumerate(widths):  # each step column costs its width, a separator and a padding
        if blocks[-1] and used + width + 2 > console.width:
            blocks.append([])
            used = name_width + 3
        blocks[-1].append(j)
        used += width + 2
    console.print(Text(grid.title, style="bold"))
    for block in blocks:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))
        table.add_column("stream", style="bold", no_wrap=True, min_width=name_width)
        for j in block:
            table.add_column(grid.columns[j], justify="right", no_wrap=True, min_width=widths[j])
        for name, row in zip(grid.streams, grid.cells, strict=True):
            table.add_row(name, *[Text(row[j].label, style=STYLES[row[j].style]) if row[j] else Text("")
                                  for j in block])
        console.print(table)
