"""Layout grids: the cells hold exactly the layout's tokens, JSON keeps them, tables fit the console."""

import io

import pytest
from rich.console import Console

from thinkspeak.layouts import interleave, miniomni, moshi, omniflatten, render, syncllm


def sequence_of(grid: render.Grid) -> list:
    """The one sequence of a placed grid: each column holds exactly one cell."""
    columns = list(zip(*grid.cells, strict=True))
    assert all(sum(c is not None for c in col) == 1 for col in columns)
    return [next(c.token for c in col if c is not None) for col in columns]


def test_miniomni_grid_names_specials_and_keeps_ids():
    streams = miniomni.build_prompt("A1A2", 3)
    grid = render.miniomni_grid(streams)
    assert grid.streams == ["A0", "A1", "A2", "A3", "A4", "A5", "A6", "T"]
    assert [c.label for c in grid.cells[0]] == ["INPUT_A", "PAD_A", "PAD_A", "PAD_A", "EOA", "ANSWER_A"]
    assert [c.label for c in grid.cells[7]] == ["INPUT_T", "PAD_T", "PAD_T", "PAD_T", "EOT", "ANSWER_T"]
    assert [s["tokens"] for s in grid.to_json()["streams"]] == streams
    raw = render.miniomni_grid(streams, raw_ids=True)
    assert raw.cells[0][0].label == "156098"


def test_miniomni_grid_shows_raw_codes_of_output():
    streams = miniomni.encode_output([42], [tuple(range(7))])
    grid = render.miniomni_grid(streams)
    assert [grid.cells[layer][layer + 1].label for layer in range(7)] == [str(i) for i in range(7)]
    assert grid.cells[7][0].style == "text" and grid.cells[7][0].label == "42"
    with pytest.raises(ValueError, match="id of audio layer 1"):
        render.miniomni_grid([streams[0], streams[0], *streams[2:]])  # layer 0 ids in row A1
    with pytest.raises(ValueError, match="streams must hold 8 rows"):
        render.miniomni_grid(streams[:7])
    with pytest.raises(ValueError, match=r"streams\[7\]\[0\] must be a text-block id"):
        render.miniomni_grid([*streams[:7], [152000] + streams[7][1:]])


def test_interleave_grid_puts_each_token_in_its_channel_row():
    stream = interleave.interleave(["a", "b", "c"], [1, 2, 3], say_pad="S", think_pad="T", end="E", p=1, q=2)
    grid = render.interleave_grid(stream, say_pad="S", think_pad="T", end="E", p=1, q=2)
    assert sequence_of(grid) == stream
    say_row = [c.token for c in grid.cells[0] if c]
    assert say_row == [t for i, t in enumerate(stream) if interleave.slot_channel(i, 1, 2) == "say"]
    assert grid.cells[0][-1].style == "end"


def test_syncllm_and_omniflatten_grids_hold_the_sequence():
    seq = syncllm.encode([7, 7, 7, 7, 1, 2, 2, 2], [0, 0, 0, 0, 0, 0, 0, 5])
    grid = render.syncllm_grid(seq)
    assert sequence_of(grid) == seq
    assert [c.label for c in grid.cells[1] if c] == ["[S1]", "0", "[S1]", "0", "5"]
    vocab = omniflatten.VOCAB
    flat = omniflatten.flatten_duplex([vocab.speech(1), vocab.speech_silence], [vocab.speech_silence,
                                      vocab.speech(2)], [9], speech_chunk=1, text_chunk=1)
    grid = render.omniflatten_grid(flat, 3, speech_chunk=1, text_chunk=1)
    assert sequence_of(grid) == flat
    assert [c.label for c in grid.cells[1] if c] == ["9", "END"]
    assert [c.label for c in grid.cells[2] if c] == ["SIL", "2"]
    turns = omniflatten.flatten_turns([omniflatten.Turn([vocab.speech(3)], [], [7], [])])
    assert [c.label for c in render.omniflatten_grid(turns, 4).cells[0] if c] == ["<us>", "3"]
    with pytest.raises(ValueError, match="n_streams must be 4, 3 or 2"):
        render.omniflatten_grid(flat, 5)


def test_moshi_grid_columns_are_frame_times():
    text = moshi.align_text([([101, 102], 0.0, 0.4), ([201], 0.5, 0.9)], 1.2)
    grid = render.moshi_grid(text)
    assert grid.columns[:3] == ["0.00s", "0.08s", "0.16s"]
    assert [c.label for c in grid.cells[0][4:7]] == ["PAD", "EPAD", "201"]
    assert [c.label if c else None for c in grid.cells[1][:7]] == ["w0", "w0", None, None, None, None, "w1"]


def test_grid_validation():
    cell = render.Cell(1, "1", "text")
    with pytest.raises(ValueError, match="style must be one of"):
        render.Cell(1, "1", "blue")
    with pytest.raises(ValueError, match="one row per stream"):
        render.Grid("t", ["a", "b"], [[cell]])
    with pytest.raises(ValueError, match="same length"):
        render.Grid("t", ["a", "b"], [[cell], []])
    with pytest.raises(ValueError, match="columns must name the 1 steps"):
        render.Grid("t", ["a"], [[cell]], ["x", "y"])
    with pytest.raises(ValueError, match="names stream 'c'"):
        render.placed_grid("t", ["a"], [("c", cell)])


@pytest.mark.parametrize("width", [40, 80, 200])
def test_print_grid_splits_steps_to_fit_the_width(width):
    grid = render.miniomni_grid(miniomni.encode_output([1, 2, 3], [tuple(range(7))] * 5))
    out = io.StringIO()
    render.print_grid(grid, Console(file=out, width=width, color_system=None))
    lines = out.getvalue().splitlines()
    assert all(len(line) <= width for line in lines)
    assert "…" not in out.getvalue()  # nothing truncated
    header_steps = [int(tok) for line in lines if line.strip().startswith("stream") for tok in line.split()[1:]]
    assert header_steps == list(range(len(grid.columns)))
