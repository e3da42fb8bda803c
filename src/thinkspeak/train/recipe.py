"""Training recipes: YAML files describing the model and the stages that train it.

A recipe names a corpus (contract 2), the model to start from and a list of stages run in order, each
starting from the weights the previous one ended with (Mini-Omni §3.4 "three-stage training",
Mini-Omni-Reasoner §4 "textual then acoustic thinking-in-speaking"). ``extends: NAME`` starts from another
recipe and overrides keys (mappings merge except ``modes``, everything else replaces); stages with the same
name merge.
Every error names the key, the value and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from thinkspeak.model.tokens import MODES
from thinkspeak.train.dpo import DpoSpec
from thinkspeak.train.lora import LoraSpec

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"
TRAINABLE = ("backbone", "adapter")
# what a recipe trains: the Thinker, the token Talker (thinkspeak.train.talker) or the full-duplex Thinker
# (thinkspeak.train.duplex)
KINDS = ("thinker", "talker", "duplex")
REPLACED = ("modes",)  # mappings that an extending recipe replaces instead of merging


@dataclass(frozen=True)
class StageConfig:
    """One stage: what data (modes, share of spoken questions), which weights train and for how long.

    ``lora`` (a mapping ``targets``, ``rank``, ``alpha``, ``dropout``) trains the backbone through LoRA
    factors instead of all its weights (:mod:`thinkspeak.train.lora`). ``global_batch`` fixes the number of
    micro-batches per optimizer step summed over all processes (each process accumulates
    ``global_batch / processes``), so runs on 1, 2 or N processes take the same steps; without it each
    process accumulates ``grad_accum`` micro-batches. ``dpo`` makes the stage journey learning's preference
    step (:mod:`thinkspeak.train.dpo`): ``max_batch`` pairs per micro-batch, decoded in the one mode of ``modes``.
    """

    name: str
    steps: int
    modes: dict[str, float] = field(default_factory=dict)
    audio: float = 0.0
    train: tuple[str, ...] = TRAINABLE
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    weight_decay: float = 0.1
    batch_tokens: int = 8192
    max_batch: int = 64
    grad_accum: int = 1
    pad_weight: float = 0.1
    history_prob: float = 0.0
    clip: float = 1.0
    save_every: int = 200
    eval_every: int = 200
    log_every: int = 10
    eval_samples: int = 128
    max_minutes: float | None = None
    corpus: str | None = None
    lora: LoraSpec | None = None
    global_batch: int | None = None
    dpo: DpoSpec | None = None
    duplex: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ModelConfig:
    """``init: scratch`` builds a Qwen2 backbone of the given shape and trains a tokenizer on the corpus;
    ``init: default`` starts from the shipped Thinker; otherwise ``init`` is a local Thinker or Qwen2/Qwen2.5 HF
    folder. ``tools: true`` adds the tool-call tokens to the starting Thinker (issue 12, docs/tools.md)."""

    init: str = "scratch"
    tools: bool = False
    vocab_size: int = 1536
    layers: int = 4
    d_model: int = 256
    heads: int = 4
    kv_heads: int = 2
    ffn: int = 1024
    max_positions: int = 1024
    feature_dim: int = 512
    stack: int = 4
    adapter_hidden: int = 1024


@dataclass(frozen=True)
class Recipe:
    name: str
    corpus: str
    stages: tuple[StageConfig, ...]
    model: ModelConfig = ModelConfig()
    seed: int = 0
    p: int = 2
    q: int = 8
    feature_cache: str = "data/features"
    mixed_precision: str = "auto"
    threads: int | None = None
    kind: str = "thinker"
    talker: dict = field(default_factory=dict)
    duplex: dict = field(default_factory=dict)
    source: str = field(default="", compare=False)


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if key == "stages" and isinstance(value, list) and isinstance(out.get("stages"), list):
            by_name = {s.get("name"): s for s in out["stages"] if isinstance(s, dict)}
            out["stages"] = [
                _merge(by_name[s["name"]], s) if isinstance(s, dict) and s.get("name") in by_name else s
                for s in value
            ]
        elif isinstance(value, dict) and isinstance(out.get(key), dict) and key not in REPLACED:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _check_type(where: str, value, kind, expected: str):
    ok = isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, float, (int, float)))
    if not ok:
        raise ValueError(f"{where} must be {expected}, got {value!r}")
    return value


def _build(cls, data: dict, where: str, **extra):
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a mapping, got {data!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{where} has unknown key(s) {unknown}; allowed: {sorted(k for k in known if k != 'source')}")
    kwargs = {}
    for name, value in data.items():
        f = known[name]
        key = f"{where}.{name}"
        default = f.default
        if name in ("steps", "warmup_steps", "batch_tokens", "max_batch", "grad_accum", "save_every",
                    "eval_every", "log_every", "eval_samples", "vocab_size", "layers", "d_model", "heads", "kv_heads", "ffn",
                    "max_positions", "feature_dim", "stack", "adapter_hidden", "seed", "p", "q"):
            _check_type(key, value, int, "an int")
            if value < (0 if name in ("warmup_steps", "seed", "eval_samples") else 1):
                raise ValueError(f"{key} must be >= {0 if name in ('warmup_steps', 'seed') else 1}, got {value!r}")
        elif name in ("lr", "min_lr_ratio", "weight_decay", "pad_weight", "history_prob", "audio", "clip"):
            _check_type(key, value, (int, float), "a number")
            hi = 1.0 if name in ("min_lr_ratio", "pad_weight", "history_prob", "audio") else float("inf")
            if not 0 <= value <= hi or (name == "lr" and value == 0):
                raise ValueError(f"{key} must be in {'(0' if name == 'lr' else '[0'}, {hi}], got {value!r}")
            value = float(value)
        elif name == "global_batch":
            if value is not None and (_check_type(key, value, int, "an int or null") < 1):
                raise ValueError(f"{key} must be >= 1, got {value!r}")
        elif name == "lora":
            value = _lora_spec(key, value)
        elif name == "dpo":
            value = _dpo_spec(key, value)
        elif name == "max_minutes":
            if value is not None:
                _check_type(key, value, (int, float), "a number of minutes or null")
                if value <= 0:
                    raise ValueError(f"{key} must be > 0, got {value!r}")
        elif name == "threads":
            if value is not None and (_check_type(key, value, int, "an int or null") < 1):
                raise ValueError(f"{key} must be >= 1, got {value!r}")
        elif name == "tools":
            _check_type(key, value, bool, "true or false")
        elif name == "mixed_precision":
            if value not in ("auto", "no", "bf16", "fp16"):
                raise ValueError(f"{key} must be one of 'auto', 'no', 'bf16', 'fp16', got {value!r}")
        elif name == "modes":
            _check_type(key, value, dict, f"a mapping of mode -> weight (modes: {list(MODES)})")
            bad = sorted(set(value) - set(MODES))
            if bad:
                raise ValueError(f"{key} has unknown mode(s) {bad}; allowed: {list(MODES)}")
            for m, w in value.items():
                _check_type(f"{key}.{m}", w, (int, float), "a number >= 0")
                if w < 0:
                    raise ValueError(f"{key}.{m} must be >= 0, got {w!r}")
            if sum(value.values()) <= 0:
                raise ValueError(f"{key} must give at least one mode a weight > 0, got {value!r}")
            value = {m: float(w) for m, w in value.items() if w > 0}
        elif name == "kind":
            if value not in KINDS:
                raise ValueError(f"{key} must be one of {list(KINDS)}, got {value!r}")
        elif name in ("talker", "duplex"):
            _check_type(key, value, dict, f"a mapping of {name} options")
        elif name == "train":
            if not isinstance(value, list) or not value or any(v not in TRAINABLE for v in value):
                raise ValueError(f"{key} must be a non-empty list drawn from {list(TRAINABLE)}, got {value!r}")
            value = tuple(value)
        elif name in ("name", "corpus", "init", "feature_cache"):
            if not (value is None and default is None):
                _check_type(key, value, str, "a non-empty string")
                if not value:
                    raise ValueError(f"{key} must be a non-empty string, got {value!r}")
        kwargs[name] = value
    required = [f.name for f in fields(cls)
                if f.name not in kwargs and f.name not in extra and _no_default(f)]
    if required:
        raise ValueError(f"{where} is missing required key(s) {required}")
    return cls(**kwargs, **extra)


def _lora_spec(key: str, value) -> LoraSpec | None:
    if value is None:
        return None
    _check_type(key, value, dict, "a mapping with targets (list of layer names), rank, alpha, dropout")
    unknown = sorted(set(value) - {"targets", "rank", "alpha", "dropout"})
    if unknown:
        raise ValueError(f"{key} has unknown key(s) {unknown}; allowed: ['alpha', 'dropout', 'rank', 'targets']")
    targets = value.get("targets")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t for t in targets):
        raise ValueError(f"{key}.targets must be a non-empty list of layer names like ['q_proj', 'v_proj'], "
                         f"got {targets!r}")
    rank = _check_type(f"{key}.rank", value.get("rank", 8), int, "an int >= 1")
    alpha = _check_type(f"{key}.alpha", value.get("alpha", 2 * rank), (int, float), "a number > 0")
    dropout = _check_type(f"{key}.dropout", value.get("dropout", 0.0), (int, float), "a number in [0, 1)")
    if rank < 1 or alpha <= 0 or not 0 <= dropout < 1:
        raise ValueError(f"{key} needs rank >= 1, alpha > 0 and dropout in [0, 1), got {value!r}")
    return LoraSpec(tuple(targets), rank, float(alpha), float(dropout))


def _dpo_spec(key: str, value) -> DpoSpec | None:
    if value is None:
        return None
    known = {f.name: f.default for f in fields(DpoSpec)}
    _check_type(key, value, dict, f"a mapping with keys from {sorted(known)}")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"{key} has unknown key(s) {unknown}; allowed: {sorted(known)}")
    for name in ("questions", "samples", "pairs", "max_steps"):
        if name in value and _check_type(f"{key}.{name}", value[name], int, "an int >= 1") < 1:
            raise ValueError(f"{key}.{name} must be an int >= 1, got {value[name]!r}")
    for name, lo, hi in (("temperature", 0.0, float("inf")), ("top_p", 0.0, 1.0), ("beta", 0.0, float("inf"))):
        if name in value:
            v = _check_type(f"{key}.{name}", value[name], (int, float), "a number")
            if not (lo < v <= hi):
                raise ValueError(f"{key}.{name} must be in ({lo}, {hi}], got {v!r}")
    if "nll" in value and _check_type(f"{key}.nll", value["nll"], (int, float), "a number >= 0") < 0:
        raise ValueError(f"{key}.nll must be a number >= 0, got {value['nll']!r}")
    if value.get("reference") is not None:
        _check_type(f"{key}.reference", value["reference"], str, "a Thinker folder path or null")
    if "balance" in value:
        _check_type(f"{key}.balance", value["balance"], bool, "true or false")
    if "spoken" in value:
        v = _check_type(f"{key}.spoken", value["spoken"], (int, float), "a share in [0, 1]")
        if not 0 <= v <= 1:
            raise ValueError(f"{key}.spoken must be a share in [0, 1], got {v!r}")
    return DpoSpec(**{k: float(v) if isinstance(known[k], float) else v for k, v in value.items()})


def _no_default(f) -> bool:
    from dataclasses import MISSING

    return f.default is MISSING and f.default_factory is MISSING


def recipe_from_dict(data: dict, source: str = "<dict>") -> Recipe:
    """Validate a parsed recipe (after ``extends`` is resolved) and build a :class:`Recipe`."""
    if not isinstance(data, dict):
        raise ValueError(f"recipe {source} must be a mapping, got {type(data).__name__}")
    data = dict(data)
    stages_raw = data.pop("stages", None)
    if not isinstance(stages_raw, list) or not stages_raw:
        raise ValueError(f"recipe {source}: stages must be a non-empty list of stage mappings, got {stages_raw!r}")
    defaults = data.pop("defaults", {}) or {}
    if not isinstance(defaults, dict):
        raise ValueError(f"recipe {source}: defaults must be a mapping, got {defaults!r}")
    stages = []
    for i, raw in enumerate(stages_raw):
        if not isinstance(raw, dict):
            raise ValueError(f"recipe {source}: stages[{i}] must be a mapping, got {raw!r}")
        stages.append(_build(StageConfig, {**defaults, **raw}, f"stages[{i}]"))
    kind = data.get("kind", "thinker")
    for i, stage in enumerate(stages):
        if kind == "thinker" and not stage.modes:
            raise ValueError(f"recipe {source}: stages[{i}] ({stage.name!r}) needs modes (a mapping of mode -> weight)")
        if "backbone" not in stage.train and stage.audio == 0:
            raise ValueError(f"recipe {source}: stages[{i}] ({stage.name!r}) trains only {list(stage.train)}, which "
                             f"learns only from spoken questions; set audio > 0 or add 'backbone' to train")
    for i, stage in enumerate(stages):
        if stage.dpo is not None and (len(stage.modes) != 1 or "asr" in stage.modes or stage.audio > 0):
            raise ValueError(f"recipe {source}: stages[{i}] ({stage.name!r}) sets dpo, which decodes its questions "
                             f"in one mode (spoken ones by dpo.spoken): modes must name one of tis/think-first/no-think "
                             f"and audio be 0, got "
                             f"modes {stage.modes} and audio {stage.audio}")
        if stage.lora is not None and "backbone" not in stage.train:
            raise ValueError(f"recipe {source}: stages[{i}] ({stage.name!r}) sets lora but does not train the "
                             f"backbone (train: {list(stage.train)}); add 'backbone' to train or drop lora")
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise ValueError(f"recipe {source}: stage names must be unique, got {names}")
    model = _build(ModelConfig, data.pop("model", {}) or {}, "model")
    return _build(Recipe, data, "recipe", stages=tuple(stages), model=model, source=source)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"recipe {str(path)!r} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"recipe {str(path)!r} must be a YAML mapping, got {type(data).__name__}")
    parent = data.pop("extends", None)
    if parent is not None:
        data = _merge(_read_yaml(resolve_recipe_path(parent, relative_to=path.parent)), data)
    return data


def resolve_recipe_path(name_or_path: str, relative_to: Path | None = None) -> Path:
    """A built-in recipe name (``default``, ``ablation-no-think``...) or a path to a YAML file."""
    candidates = [Path(name_or_path)]
    if relative_to is not None:
        candidates.append(relative_to / name_or_path)
    candidates.append(RECIPES_DIR / f"{name_or_path}.yaml")
    for c in candidates:
        if c.is_file():
            return c
    builtin = sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))
    raise ValueError(f"recipe must be a built-in name {builtin} or a YAML file path, got {name_or_path!r}")


def load_recipe(name_or_path: str) -> Recipe:
    """Load, resolve ``extends`` and validate a recipe."""
    path = resolve_recipe_path(name_or_path)
    return recipe_from_dict(_read_yaml(path), source=str(path))
