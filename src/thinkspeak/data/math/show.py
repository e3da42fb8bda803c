"""Render a corpus row for people: question, answer, reasoning, licensed response and the interleaved
layout with say tokens, think tokens, pads and the end marker in different colours (``thinkspeak data show``).
"""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from thinkspeak.data.math.drift import MARKERS
from thinkspeak.layouts.interleave import TokenRouter

STYLES = {"say": "bold green", "think": "cyan", "pad": "grey50", "end": "bold red"}


def layout_text(stream: str, *, form: str = "tis", p: int = 2, q: int = 8) -> Text:
    """The word-level stream coloured by channel; for 'think_first' the channel switches at <think_end>."""
    text = Text()
    words = stream.split()
    if form == "tis":
        router = TokenRouter(say_pad=MARKERS["say_pad"], think_pad=MARKERS["think_pad"], end=MARKERS["end"], p=p, q=q)
        styles = [STYLES[r.kind] if r.kind != "token" else STYLES[r.channel] for r in router.feed(words)]
    else:
        channel = "think" if form == "think_first" else "say"
        styles = []
        for w in words:
            if w in (MARKERS["think_end"], MARKERS["end"]):
                styles.append(STYLES["end"])
                channel = "say"
            else:
                styles.append(STYLES[channel])
    for word, style in zip(words, styles, strict=True):
        text.append(word + " ", style=style)
    return text


def render_sample(console: Console, row: dict, *, form: str = "tis", p: int = 2, q: int = 8) -> None:
    """Print one row as a panel."""
    body = Text()
    body.append("question  ", style="bold")
    body.append(row["question"] + "\n")
    body.append("spoken    ", style="bold")
    body.append(row["question_spoken"] + "\n")
    body.append("answer    ", style="bold")
    body.append(row["answer"] + "\n")
    if row.get("question_voice"):
        body.append("voice     ", style="bold")
        body.append(f"{row['question_voice']} ({row['question_duration']:.2f} s)\n")
    body.append("reasoning\n", style="bold")
    for i, step in enumerate(row["reasoning"]):
        body.append(f"  {i:2d} ", style="grey50")
        body.append(step + "\n", style=STYLES["think"])
    body.append("response\n", style="bold")
    for lic, chunk in zip(row["licenses"], row["response"], strict=True):
        body.append(f"  after {lic:2d} " if lic >= 0 else "  at once  ", style="grey50")
        body.append(chunk + "\n", style=STYLES["say"])
    body.append(f"{form} ({p}:{q})\n" if form == "tis" else f"{form}\n", style="bold")
    body.append(layout_text(row[form], form=form, p=p, q=q))
    title = f"{row['id']}  {row['split']}  {row['category']}/{row['kind']}" + ("  journey" if row["journey"] else "")
    console.print(Panel(body, title=title, title_align="left"))
