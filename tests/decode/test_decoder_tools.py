"""Tool calls while speaking: the decoder runs a closed call off the decode thread and injects its result into
later think slots while say slots keep flowing (issue 12).

The model's choices are scripted (the mechanism is under test, not a model): a wrapper around the decoder's
real engine runs every forward and then puts a large logit on the next token of a say script or a think
script, so the decoder's masks, forcing and injection act exactly as with a trained model. Think-script
progress counts only the tokens the model chose (not waits, pads or injected results).
"""

import copy
import threading

import pytest
import torch

from thinkspeak.decode import Done, SayToken, ThinkToken, TiSDecoder
from thinkspeak.decode.events import ToolCall, ToolResult
from thinkspeak.decode.tooldrift import tool_drift
from thinkspeak.layouts.interleave import TokenRouter
from thinkspeak.layouts.toolcalls import ARGS, CALL, CALL_END, Call, Result, parse
from thinkspeak.tools import Calculator, ToolRegistry, ToolSpec


@pytest.fixture
def thinker(make_thinker):
    t = make_thinker(seed=3)
    t.tokenizer = copy.deepcopy(t.tokenizer)  # the session tokenizer is shared: extend a copy
    t.add_tool_tokens()
    return t


class Script:
    """Make the decoder's engine choose ``say`` then pads/end, and ``think`` then think_pad."""

    def __init__(self, decoder, say: str, think: str):
        thinker = decoder.thinker
        self.ids, self.tools = thinker.ids, thinker.tool_ids
        self.say = thinker.text_ids(say)
        self.think = thinker.text_ids(think)
        self.router = TokenRouter(say_pad=self.ids.say_pad, think_pad=self.ids.think_pad, end=self.ids.end,
                                  p=decoder.p, q=decoder.q)
        self.said = self.thought = 0
        self.in_result = False
        engine = decoder.engine
        self._embed, self._forward = engine.embed, engine.forward
        engine.embed, engine.forward = self.embed, self.forward

    def embed(self, ids):
        for token in ids[0].tolist():
            self.count(token)
        return self._embed(ids)

    def count(self, token):
        channel = self.router.push(token).channel
        if channel == "say":
            self.said += token not in (self.ids.say_pad, self.ids.end)
        elif token == self.tools.result:
            self.in_result = True
        elif token == self.tools.result_end:
            self.in_result = False
        elif not self.in_result and token not in (self.tools.tool_wait, self.ids.think_pad):
            self.thought += 1

    def forward(self, x, cache, **kwargs):
        logits = self._forward(x, cache, **kwargs)
        scripted = torch.zeros_like(logits)
        if self.router.next_channel == "say":
            token = self.say[self.said] if self.said < len(self.say) else self.ids.end
            scripted[:, self.ids.say_pad] = 5.0
        else:
            token = self.think[self.thought] if self.thought < len(self.think) else self.ids.think_pad
        scripted[:, token] = 10.0
        return scripted


class Gate:
    """A tool that answers only once the test opens the gate."""

    spec = ToolSpec("slow", "waits for the test")

    def __init__(self):
        self.open = threading.Event()
        self.entered = threading.Event()

    def __call__(self, arguments):
        self.entered.set()
        self.open.wait(30)
        return "5"


def decode(thinker, say, think, tools, **kwargs):
    decoder = TiSDecoder(thinker, tools=tools, max_steps=kwargs.pop("max_steps", 400), **kwargs)
    Script(decoder, say, think)
    return decoder, decoder.stream(text="What is 2 plus 3?")


def test_a_call_is_run_and_its_result_injected_into_think_slots(thinker):
    think = f"Add them: {CALL}calc{ARGS}2 + 3{CALL_END} so it is 5."
    decoder, stream = decode(thinker, "Okay, let me see. The answer is 5.", think, ToolRegistry([Calculator()]))
    events = list(stream)
    done = events[-1]
    assert isinstance(done, Done) and done.stats.stop_reason == "end" and done.stats.tool_calls == 1
    calls = [e for e in events if isinstance(e, ToolCall)]
    results = [e for e in events if isinstance(e, ToolResult)]
    assert [(c.name, c.arguments, c.malformed) for c in calls] == [("calc", "2 + 3", None)]
    assert [(r.name, r.value, r.error, r.call_id) for r in results] == [("calc", "5", False, calls[0].call_id)]
    assert results[0].step > calls[0].step and results[0].latency_s >= 0
    pieces = parse(done.think)
    assert Call("calc", "2 + 3") in pieces and Result("5") in pieces
    ids, tools = thinker.ids, thinker.tool_ids
    stream_tokens = list(done.tokens)
    call_end = stream_tokens.index(tools.call_end)
    result_end = stream_tokens.index(tools.result_end)
    router = TokenRouter(say_pad=ids.say_pad, think_pad=ids.think_pad, end=ids.end, p=decoder.p, q=decoder.q)
    channels = [r.channel for r in router.feed(stream_tokens)]
    for i in range(call_end + 1, result_end + 1):  # between call and result only waits and the result think
        if channels[i] == "think":
            assert stream_tokens[i] in (tools.tool_wait, tools.result, tools.result_end,
                                        *thinker.text_ids("5"))
    assert tool_drift(events, "What is 2 plus 3?").ok


def test_injected_positions_are_what_the_decoder_wrote_and_leave_the_models_own_think_tokens(thinker):
    """DPO scores a sampled stream without what the decoder injected: removing those positions leaves exactly
    the think tokens the model chose (the script), and no say position is ever counted as injected."""
    from thinkspeak.decode.tooluse import injected_positions

    gate = Gate()
    think = f"Add: {CALL}slow{ARGS}2 + 3{CALL_END} so it is 5."
    decoder, stream = decode(thinker, "Okay, let me work this out. The answer is 5.", think, ToolRegistry([gate]),
                             max_steps=600)
    events = []
    for event in stream:
        events.append(event)
        if isinstance(event, ToolCall):
            gate.open.set()
    tokens = events[-1].tokens
    tools, ids = thinker.tool_ids, thinker.ids
    skip = injected_positions(tokens, tools, decoder.p, decoder.q)
    router = TokenRouter(say_pad=ids.say_pad, think_pad=ids.think_pad, end=ids.end, p=decoder.p, q=decoder.q)
    channels = [r.channel for r in router.feed(tokens)]
    assert all(channels[i] == "think" for i in skip)
    assert {tokens[i] for i in skip} >= {tools.tool_wait, tools.result, tools.result_end}
    own = [t for i, t in enumerate(tokens) if channels[i] == "think" and i not in skip and t != ids.think_pad]
    assert own == thinker.text_ids(think)


def test_say_slots_keep_flowing_while_the_tool_runs(thinker):
    gate = Gate()
    say = "Okay, let me work this out for you. The answer is 5."
    think = f"{CALL}slow{ARGS}x{CALL_END} so 5."
    decoder, stream = decode(thinker, say, think, ToolRegistry([gate]), max_steps=600)
    said_while_waiting, call_step = 0, None
    events = []
    for event in stream:
        events.append(event)
        if isinstance(event, ToolCall):
            call_step = event.step
        elif isinstance(event, SayToken) and call_step is not None and not gate.open.is_set():
            said_while_waiting += 1
            if said_while_waiting == 6:
                assert gate.entered.wait(10)
                gate.open.set()
    done = events[-1]
    assert said_while_waiting >= 6
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.value == "5" and not result.error
    waits = done.tokens.count(thinker.tool_ids.tool_wait)
    assert waits >= 6 * decoder.q // decoder.p - decoder.q  # think slots between the say tokens were waits
    end_at = done.tokens.index(thinker.ids.end)
    assert end_at > result.step  # the turn did not end while the tool was out
    assert done.say.endswith("The answer is 5.")


def test_a_tool_past_its_timeout_injects_an_error_and_the_turn_still_ends(thinker):
    gate = Gate()
    think = f"{CALL}slow{ARGS}x{CALL_END} by hand then."
    decoder, stream = decode(thinker, "Hmm. The answer is 5.", think, ToolRegistry([gate]),
                             tool_timeout_s=0.05, max_steps=5000)
    events = list(stream)
    gate.open.set()
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.error and "timed out" in result.value
    assert Result("timed out after 0.05 s", error=True) in parse(events[-1].think)
    assert events[-1].stats.stop_reason == "end"


@pytest.mark.parametrize("think, name, value", [
    (f"{CALL}Calc!{ARGS}2 + 3{CALL_END} ok.", "malformed", "malformed call"),
    (f"{CALL}nope{ARGS}2 + 3{CALL_END} ok.", "nope", "no tool 'nope'"),
    (f"{CALL}calc{ARGS}7 / 0{CALL_END} ok.", "calc", "division by zero"),
])
def test_bad_calls_get_error_results_never_exceptions(thinker, think, name, value):
    _, stream = decode(thinker, "The answer is 5.", think, ToolRegistry([Calculator()]))
    events = list(stream)
    call = next(e for e in events if isinstance(e, ToolCall))
    result = next(e for e in events if isinstance(e, ToolResult))
    assert call.name == name and (call.malformed is not None) == (name == "malformed")
    assert result.error and value in result.value
    assert events[-1].stats.stop_reason == "end"


def test_a_call_left_open_is_closed_by_force(thinker):
    think = f"{CALL}calc{ARGS}" + "1 + " * 40
    _, stream = decode(thinker, "The answer is 5.", think, ToolRegistry([Calculator()]))
    events = list(stream)
    assert any(isinstance(e, ToolResult) for e in events)
    assert events[-1].stats.stop_reason == "end"


def test_speaking_a_result_before_it_is_injected_is_flagged(thinker):
    gate = Gate()
    think = f"{CALL}slow{ARGS}x{CALL_END} ok."
    decoder, stream = decode(thinker, "It is 5, I guess. The answer is 5.", think, ToolRegistry([gate]))
    events = []
    for event in stream:
        events.append(event)
        if isinstance(event, SayToken) and "I guess" in "".join(e.text for e in events if isinstance(e, SayToken)):
            gate.open.set()
    drift = tool_drift(events, "What is 2 plus 3?")
    assert not drift.ok and drift.early[0].value == 5
    assert drift.early[0].step < drift.early[0].injected
    assert tool_drift(events, "What is 2 plus 3? 5").ok  # a number the question gave is not anticipation


def test_think_tokens_show_the_call_markers(thinker):
    think = f"So {CALL}calc{ARGS}2 + 3{CALL_END} five."
    _, stream = decode(thinker, "The answer is 5.", think, ToolRegistry([Calculator()]))
    text = "".join(e.text for e in stream if isinstance(e, ThinkToken))
    assert f"{CALL}calc{ARGS}2 + 3{CALL_END}" in text and "<|result|>5<|result_end|>" in text


def test_tools_need_tool_tokens_and_no_batch_parallel(make_thinker, thinker):
    with pytest.raises(ValueError, match="tool-call tokens"):
        TiSDecoder(make_thinker(seed=4), tools=ToolRegistry([Calculator()]))
    with pytest.raises(ValueError, match="batch_parallel"):
        TiSDecoder(thinker, tools=ToolRegistry([Calculator()]), batch_parallel=True)
    with pytest.raises(ValueError, match="run"):
        TiSDecoder(thinker, tools=object())
    with pytest.raises(ValueError, match="tool_timeout_s"):
        TiSDecoder(thinker, tools=ToolRegistry(), tool_timeout_s=0)


def test_without_tools_a_tool_thinker_cannot_call(thinker):
    decoder = TiSDecoder(thinker, max_steps=200)
    Script(decoder, "The answer is 5.", f"{CALL}calc{ARGS}2 + 3{CALL_END} ok.")
    done = decoder.answer(text="What is 2 plus 3?")
    assert thinker.tool_ids.call not in done.tokens and done.stats.tool_calls == 0


def test_ask_reports_calls_and_results(thinker, tmp_path, capsys):
    from thinkspeak.cli import main
    from thinkspeak.commands.ask import summary

    decoder, stream = decode(thinker, "Okay, let me see, one moment. The answer is 5.",
                             f"{CALL}calc{ARGS}2 + 3{CALL_END} ok.", ToolRegistry([Calculator()]))
    events = list(stream)
    got = summary(events[-1], decoder, events, "What is 2 plus 3?")
    [call] = got["tool_calls"]
    assert (call["name"], call["arguments"], call["result"], call["error"]) == ("calc", "2 + 3", "5", False)
    assert call["result_step"] > call["call_step"] and got["early_tool_mentions"] == 0
    thinker.save(tmp_path / "t")  # a tool-capable Thinker through the CLI, tools on (random weights)
    assert main(["ask", "--text", "What is 2 plus 3?", "--model", str(tmp_path / "t"), "--max-steps", "40",
                 "--json"]) == 0
    assert "tool_calls" in capsys.readouterr().out
    assert main(["ask", "--text", "hi", "--model", str(tmp_path / "t"), "--index", str(tmp_path)]) == 2
    assert "index must be a folder" in capsys.readouterr().err


def test_think_first_mode_waits_for_the_tool_then_speaks(thinker):
    """In 'think-first' the reasoning comes before speech, so the stream simply waits for the answer."""
    decoder = TiSDecoder(thinker, mode="think-first", tools=ToolRegistry([Calculator()]), max_steps=200)
    ids, tools = thinker.ids, thinker.tool_ids
    chosen = [*thinker.text_ids(f"So {CALL}calc{ARGS}2 + 3{CALL_END}"), *thinker.text_ids(" five."),
              ids.think_end, *thinker.text_ids("The answer is 5."), ids.end]
    fed: list[int] = []
    engine = decoder.engine
    embed, forward = engine.embed, engine.forward

    def count_chosen() -> int:
        n, inside = 0, False
        for token in fed:
            if token == tools.result:
                inside = True
            elif token == tools.result_end:
                inside = False
            elif not inside and token != tools.tool_wait:
                n += 1
        return n

    def scripted_embed(x):
        fed.extend(x[0].tolist())
        return embed(x)

    def scripted_forward(x, cache, **kwargs):
        logits = forward(x, cache, **kwargs)
        out = torch.zeros_like(logits)
        out[:, chosen[min(count_chosen(), len(chosen) - 1)]] = 10.0
        return out

    engine.embed, engine.forward = scripted_embed, scripted_forward
    events = list(decoder.stream(text="What is 2 plus 3?"))
    result = next(e for e in events if isinstance(e, ToolResult))
    done = events[-1]
    assert result.value == "5" and done.say == "The answer is 5." and done.stats.stop_reason == "end"
    assert Result("5") in parse(done.think)
    first_say = next(e.step for e in events if isinstance(e, SayToken))
    assert first_say > result.step
