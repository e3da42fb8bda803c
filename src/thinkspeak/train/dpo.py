"""Journey learning's last step: DPO on the model's own right and wrong answers (O1 Journey; Rafailov et al.
2023, "Direct Preference Optimization").

A stage with ``dpo: {...}`` (see :class:`DpoSpec`):

1. **Sample** on-policy: every training question is answered ``samples`` times (20) by the batched
   thinking-in-speaking decoder (:meth:`thinkspeak.decode.TiSDecoder.answer_batch`, one batch of rows per
   question), nucleus sampling ``top_p`` 0.95 at ``temperature`` 0.7.
2. **Score** each spoken answer with the Spoken-MQA rule (:func:`thinkspeak.eval.spoken_mqa.is_correct`).
3. **Pair**: up to ``pairs`` (5) right and 5 wrong streams of a question, the i-th right with the i-th wrong
   (O1 Journey: "5 positive x 5 negative -> 5 preference pairs"); a question answered all right or all wrong
   gives none. A stream is the *whole* interleaved stream the decoder produced (say, think, pads, end).
4. **Train** with ``-log sigmoid(beta * ((log pi(c) - log ref(c)) - (log pi(r) - log ref(r))))`` where
   ``log pi(y)`` is the sum of the stream's token log-probabilities under the SFT loss mask
   (:mod:`thinkspeak.train.examples`: prompt 0, pads ``pad_weight``, every other token 1). The reference
   is frozen: its log-probabilities are computed once, before the first step, and saved with the pairs.

Two options aim the pairs where a model is weakest. ``balance`` draws the training questions evenly from the
corpus's categories (a plain draw follows the corpus's mix, and the categories a model already gets right
70% of the time give most of the pairs). ``spoken`` asks that share of them aloud, read by the corpus's
training voices (flite stays held out, as in the corpus) through the Thinker's audio adapter, so preference
learning also reaches the path a voice page uses; a spoken pair keeps its encoder features, and its prompt
holds the ``<|audio|>`` positions, for the log-probabilities of training and of the reference.

The journey traces (trial, error, "Wait, let me check.", correction) stay in SFT: DPO sees only what the
model itself says. Why not TRL's ``DPOTrainer``: see docs/training.md ("Journey learning with DPO").
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from thinkspeak.model.adapter import n_audio_positions
from thinkspeak.train.batches import Batch

log = logging.getLogger("thinkspeak.train")
PAIRS_FILE = "pairs.pt"


@dataclass(frozen=True)
class DpoSpec:
    """``questions`` training questions, ``samples`` decodes each (``temperature``, ``top_p``, at most
    ``max_steps`` tokens), ``pairs`` preference pairs at most per question, DPO ``beta``; ``nll``: weight of
    the chosen streams' SFT loss added to the DPO loss (Pang et al. 2024, "Iterative Reasoning Preference
    Optimization": DPO + NLL on self-generated right/wrong reasoning; 0 is plain DPO); ``reference``: a
    Thinker folder to hold fixed (None: the model the stage starts from); ``balance``: draw the questions
    evenly from the categories; ``spoken``: the share of them asked aloud (training voices, audio adapter)."""

    questions: int = 200
    samples: int = 20
    pairs: int = 5
    temperature: float = 0.7
    top_p: float = 0.95
    max_steps: int = 384
    beta: float = 0.1
    nll: float = 0.0
    reference: str | None = None
    balance: bool = False
    spoken: float = 0.0


@dataclass(frozen=True)
class Pair:
    """One preference pair: the prompt and two generated streams of the same question."""

    question_id: str
    prompt: tuple[int, ...]
    chosen: tuple[int, ...]
    rejected: tuple[int, ...]
    chosen_skip: tuple[int, ...] = ()  # stream positions the decoder wrote (tool waits and results): weight 0
    rejected_skip: tuple[int, ...] = ()
    features: torch.Tensor | None = None  # encoder features [T, D] of a spoken question (its prompt has the positions)


@dataclass
class PairBatch(Batch):
    """Chosen rows then rejected rows (``[2B, L]``) and the frozen reference's log-probabilities ``[2B]``."""

    reference: torch.Tensor | None = None

    def inputs(self) -> tuple:
        return (self.input_ids, self.attention_mask, self.weights, self.features, self.reference)

    def to(self, device) -> PairBatch:
        return PairBatch(self.input_ids.to(device), self.attention_mask.to(device), self.weights.to(device),
                         [f.to(device) for f in self.features], self.reference.to(device))


def check_same_vocabulary(policy, reference, where: str = "dpo.reference") -> None:
    """DPO compares the two models' log-probabilities token by token: their vocabularies must be one."""
    a, b = policy.tokenizer.get_vocab(), reference.tokenizer.get_vocab()
    rows_a = policy.model.get_input_embeddings().weight.shape[0]
    rows_b = reference.model.get_input_embeddings().weight.shape[0]
    if a != b or rows_a != rows_b:
        differ = sorted(set(a.items()) ^ set(b.items()))[:3]
        raise ValueError(f"{where} must have the policy's vocabulary, got {len(b)} tokens ({rows_b} embedding rows) "
                         f"vs the policy's {len(a)} ({rows_a}); first differences {differ}")


def stream_weights(ids, prompt_len: int, stream: tuple[int, ...], pad_weight: float,
                   skip: tuple[int, ...] = ()) -> list[float]:
    """The SFT loss mask of prompt + stream (the weight of predicting each position's token); the stream
    positions in ``skip`` (what the decoder injected: tool waits and results) weigh 0, as in SFT
    (:mod:`thinkspeak.train.examples`)."""
    pads, skip = (ids.say_pad, ids.think_pad), set(skip)
    return [0.0] * prompt_len + [0.0 if i in skip else pad_weight if t in pads else 1.0
                                 for i, t in enumerate(stream)]


def draw_questions(samples, spec: DpoSpec, seed: int) -> list:
    """``spec.questions`` training questions drawn with ``seed``: a plain draw, or (``balance``) as even a share
    of every category as the corpus allows (the rest from the categories that have more)."""
    rng = random.Random(seed)
    n = min(spec.questions, len(samples))
    if not spec.balance:
        return rng.sample(samples, n)
    by_category: dict[str, list] = {}
    for s in samples:
        by_category.setdefault(s.category, []).append(s)
    pools = [rng.sample(v, len(v)) for _, v in sorted(by_category.items())]
    out: list = []
    while len(out) < n:  # round robin over the shuffled categories
        for pool in pools:
            if pool and len(out) < n:
                out.append(pool.pop())
    return out


def speak_questions(questions, share: float, seed: int, speech=None) -> dict[str, object]:
    """``share`` of ``questions`` (the first ones of a seeded order) read aloud as the corpus reads its training
    split (``speech``: :class:`thinkspeak.data.math.speech.SpeechOptions`, default voices, flite held out,
    noise and reverberation draws): ``{question id: 16 kHz float PCM}``."""
    from thinkspeak.data.math.speech import SpeechOptions
    from thinkspeak.eval.held_out import spoken_questions
    from thinkspeak.text.numbers import spoken_form

    n = round(share * len(questions))
    if n == 0:
        return {}
    chosen = random.Random(f"{seed}/spoken").sample(list(questions), n)
    rows = [{"index": i, "split": "train", "question_spoken": spoken_form(item.question)}
            for i, item in enumerate(chosen)]
    clips = spoken_questions(rows, seed, speech or SpeechOptions(response_audio=False))
    return {item.id: clip for item, clip in zip(chosen, clips, strict=True)}


def sample_pairs(thinker, questions, spec: DpoSpec, *, mode: str, p: int, q: int, seed: int,
                 progress: bool = False, audio: dict | None = None, encoder=None) -> tuple[list[Pair], dict]:
    """Decode ``spec.samples`` answers per question, score them, pair right with wrong streams.

    ``questions``: objects with ``id``, ``question`` and ``answer`` (e.g. :class:`~thinkspeak.train.corpus.MathSample`).
    ``audio``: ``{question id: 16 kHz PCM}`` for the questions asked aloud, turned into features once by
    ``encoder`` (default: the packaged Whisper-base encoder) and heard through the Thinker's audio adapter.
    Returns the pairs and counts (questions, samples, right answers, questions with pairs, and the spoken ones).

    A Thinker with the tool-call tokens samples with the default tools (calc, retrieve over the fact base) as
    it is served, and the tokens the decoder injects are left out of the streams' log-probabilities.
    """
    from tqdm import tqdm

    from thinkspeak.decode import Request, TiSDecoder
    from thinkspeak.decode.tooluse import injected_positions
    from thinkspeak.eval.spoken_mqa import is_correct

    tool_ids = getattr(thinker, "tool_ids", None)
    tools = None
    if tool_ids is not None:
        from thinkspeak.tools.defaults import default_tools

        tools = default_tools(preload=True)
    audio = audio or {}
    if audio and thinker.adapter is None:
        raise ValueError("dpo.spoken > 0 needs a Thinker with an audio adapter (config.adapter is None)")
    if audio and encoder is None:
        from thinkspeak.speech.encoder import WhisperEncoder

        encoder = WhisperEncoder()
    decoder = TiSDecoder(thinker, p=p, q=q, mode=mode, max_steps=spec.max_steps, temperature=spec.temperature,
                         top_p=spec.top_p, seed=seed, tools=tools)

    def skip(stream: tuple[int, ...]) -> tuple[int, ...]:
        return () if tool_ids is None else tuple(sorted(injected_positions(stream, tool_ids, p, q)))

    pairs: list[Pair] = []
    right_total = paired = spoken = spoken_right = 0
    for item in tqdm(questions, desc="dpo sampling", disable=not progress, mininterval=5):
        features = None
        if item.id in audio:
            pcm = np.asarray(audio[item.id], dtype=np.float32)
            features = torch.as_tensor(np.asarray(encoder.features(pcm), dtype=np.float32))
            n_audio = n_audio_positions(features.shape[0], thinker.adapter.config.stack)
            prompt = tuple(thinker.audio_prompt_ids(n_audio, mode))
            done = decoder.answer_batch([Request(features=features)] * spec.samples)
            spoken += 1
        else:
            prompt = tuple(thinker.prompt_ids(item.question, mode))
            done = decoder.answer_batch([Request(prompt=list(prompt))] * spec.samples)
        right, wrong = [], []
        for d in done:
            (right if is_correct(d.say, item.answer) else wrong).append(tuple(d.tokens))
        right_total += len(right)
        spoken_right += len(right) if features is not None else 0
        n = min(spec.pairs, len(right), len(wrong))
        paired += n > 0
        pairs += [Pair(item.id, prompt, right[i], wrong[i], skip(right[i]), skip(wrong[i]), features)
                  for i in range(n)]
    counts = {"questions": len(questions), "samples": len(questions) * spec.samples, "right": right_total,
              "questions_with_pairs": paired, "pairs": len(pairs), "spoken_questions": spoken,
              "spoken_right": spoken_right, "spoken_pairs": sum(pr.features is not None for pr in pairs)}
    return pairs, counts


def collate_pairs(pairs: list[Pair], ids, pad_weight: float, reference: torch.Tensor | None = None) -> PairBatch:
    """Right-padded rows: the chosen streams, then the rejected ones (same order)."""
    rows = [(pr.prompt + pr.chosen, stream_weights(ids, len(pr.prompt), pr.chosen, pad_weight, pr.chosen_skip))
            for pr in pairs]
    rows += [(pr.prompt + pr.rejected, stream_weights(ids, len(pr.prompt), pr.rejected, pad_weight, pr.rejected_skip))
             for pr in pairs]
    features = [pr.features for pr in pairs if pr.features is not None]  # reading order: chosen rows, rejected rows
    longest = max(len(r[0]) for r in rows)
    input_ids = torch.full((len(rows), longest), ids.pad, dtype=torch.long)
    mask = torch.zeros((len(rows), longest), dtype=torch.long)
    weights = torch.zeros((len(rows), longest), dtype=torch.float32)
    for i, (seq, w) in enumerate(rows):
        input_ids[i, :len(seq)] = torch.tensor(seq)
        mask[i, :len(seq)] = 1
        weights[i, :len(seq)] = torch.tensor(w)
    ref = reference if reference is not None else torch.zeros(len(rows))
    return PairBatch(input_ids, mask, weights, features + features, ref)


def sequence_logps(thinker, input_ids, attention_mask, weights, features=()) -> torch.Tensor:
    """``sum_i w_i log p(x_i | x_<i)`` per row ``[B]`` (the stream's log-probability under the loss mask)."""
    hidden = thinker(input_ids, attention_mask, features)
    logits = thinker.model.lm_head(hidden[:, :-1]).float()
    logp = torch.gather(logits.log_softmax(-1), -1, input_ids[:, 1:, None]).squeeze(-1)
    return (logp * weights[:, 1:]).sum(-1)


class DPOLoss(nn.Module):
    """``(sum of the pairs' losses, number of pairs)``, the shape of :class:`WeightedLMLoss`'s output. A pair's
    loss is its DPO loss plus ``nll`` times the chosen stream's mean weighted token loss (its SFT loss)."""

    def __init__(self, thinker, beta: float, nll: float = 0.0):
        super().__init__()
        self.thinker = thinker
        self.beta = beta
        self.nll = nll

    def forward(self, input_ids, attention_mask, weights, features, reference) -> tuple[torch.Tensor, torch.Tensor]:
        logps = sequence_logps(self.thinker, input_ids, attention_mask, weights, features)
        n = logps.shape[0] // 2
        margin = (logps[:n] - reference[:n]) - (logps[n:] - reference[n:])
        losses = -F.logsigmoid(self.beta * margin)
        if self.nll:
            losses = losses - self.nll * logps[:n] / weights[:n, 1:].sum(-1).clamp_min(1e-9)
        return losses.sum(), torch.tensor(float(n), device=losses.device)


@torch.no_grad()
def reference_logps(reference, pairs: list[Pair], ids, pad_weight: float, batch: int = 16) -> torch.Tensor:
    """The frozen reference's log-probability of every pair's chosen and rejected stream, ``[n, 2]``."""
    reference.eval()
    out = []
    for i in range(0, len(pairs), batch):
        b = collate_pairs(pairs[i:i + batch], ids, pad_weight)
        lp = sequence_logps(reference, b.input_ids, b.attention_mask, b.weights, b.features)
        n = len(pairs[i:i + batch])
        out.append(torch.stack([lp[:n], lp[n:]], dim=1))
    return torch.cat(out)


class PairData:
    """Micro-batches of preference pairs, reshuffled every epoch by (seed, epoch); the interface of
    :class:`thinkspeak.train.trainer.StageData` (``per_epoch``, ``batch(micro)``)."""

    def __init__(self, pairs: list[Pair], reference: torch.Tensor, ids, pad_weight: float, pairs_per_batch: int,
                 seed: int, rank: int, world: int, stage_name: str):
        self.pairs, self.reference, self.ids, self.pad_weight = pairs, reference, ids, pad_weight
        self.size, self.seed, self.rank, self.world = pairs_per_batch, seed, rank, world
        self.n_batches = len(pairs) // pairs_per_batch
        self.per_epoch = self.n_batches // world
        if self.per_epoch < 1:
            raise ValueError(f"stage {stage_name!r}: {len(pairs)} preference pairs make no batch of {pairs_per_batch} "
                             f"pairs for {world} processes; sample more questions (dpo.questions) or lower max_batch")

    def batch(self, micro: int) -> PairBatch:
        epoch, index = divmod(micro, self.per_epoch)
        order = list(range(len(self.pairs)))
        random.Random(f"{self.seed}/{epoch}").shuffle(order)
        start = (index * self.world + self.rank) * self.size
        chosen = order[start:start + self.size]
        ref = self.reference[chosen]
        return collate_pairs([self.pairs[i] for i in chosen], self.ids, self.pad_weight,
                             torch.cat([ref[:, 0], ref[:, 1]]))


def prepare_pairs(thinker, samples, spec: DpoSpec, stage_dir: Path, *, mode: str, p: int, q: int, seed: int,
                  pad_weight: float, accelerator, progress: bool) -> tuple[list[Pair], torch.Tensor]:
    """Sample, score and pair on the main process (or reuse ``stage_dir/pairs.pt`` when resuming), with the
    frozen reference's log-probabilities; every process then reads the same file."""
    from thinkspeak.model.thinker import Thinker

    path = stage_dir / PAIRS_FILE
    reference = thinker
    if spec.reference is not None:  # every process checks, so all stop before training
        reference = Thinker.load(spec.reference)
        check_same_vocabulary(thinker, reference)
    if accelerator.is_main_process and not path.is_file():
        was_training = thinker.training
        thinker.eval()
        questions = draw_questions(samples, spec, seed)
        audio = speak_questions(questions, spec.spoken, seed) if spec.spoken > 0 else {}
        pairs, counts = sample_pairs(thinker, questions, spec, mode=mode, p=p, q=q, seed=seed, progress=progress,
                                     audio=audio)
        log.info("dpo sampling: %s", counts)
        with accelerator.autocast():  # the precision the policy's log-probabilities will have
            ref = reference_logps(reference, pairs, thinker.ids, pad_weight) if pairs else torch.zeros(0, 2)
        thinker.train(was_training)
        stage_dir.mkdir(parents=True, exist_ok=True)
        torch.save({"pairs": [vars(pr) for pr in pairs], "reference": ref, "counts": counts}, path)
    accelerator.wait_for_everyone()
    saved = torch.load(path, weights_only=False)
    return [Pair(**d) for d in saved["pairs"]], saved["reference"]
