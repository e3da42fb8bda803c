"""Recipe YAML loading: built-ins validate, ``extends`` merges, errors name the key and value."""

from __future__ import annotations

import textwrap

import pytest

from thinkspeak.train.recipe import RECIPES_DIR, load_recipe


@pytest.mark.parametrize("name", sorted(p.stem for p in RECIPES_DIR.glob("*.yaml")))
def test_builtin_recipes_validate(name):
    recipe = load_recipe(name)
    assert recipe.stages and recipe.name == name


def test_default_recipe_stages_follow_the_papers():
    r = load_recipe("default")
    assert [s.name for s in r.stages] == ["text", "text2", "align", "speech"]
    text, text2, align, speech = r.stages
    assert text2.modes == text.modes and text2.audio == 0
    assert set(text.modes) >= {"tis", "think-first", "no-think"} and text.audio == 0
    assert align.modes == {"asr": 1.0} and align.audio == 1.0
    assert speech.audio > 0 and "asr" not in speech.modes


@pytest.mark.parametrize("mode", ["think-first", "no-think", "tis"])
def test_ablations_are_single_form_with_equal_budgets(mode):
    r = load_recipe(f"ablation-{mode}")
    assert [s.name for s in r.stages] == ["text"]
    assert r.stages[0].modes == {mode: 1.0}
    assert r.stages[0].steps == load_recipe("ablation-tis").stages[0].steps
    assert r.model == load_recipe("default").model and r.corpus == load_recipe("default").corpus


def write(tmp_path, body: str):
    path = tmp_path / "r.yaml"
    path.write_text(textwrap.dedent(body))
    return str(path)


BASE = """
name: t
corpus: c
stages:
  - name: a
    steps: 3
    modes: {tis: 1}
"""


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (("steps: 3", "steps: 0"), r"stages\[0\]\.steps must be >= 1, got 0"),
        (("steps: 3", "steps: three"), r"stages\[0\]\.steps must be an int, got 'three'"),
        (("modes: {tis: 1}", "modes: {fast: 1}"), r"stages\[0\]\.modes has unknown mode\(s\) \['fast'\]"),
        (("modes: {tis: 1}", "modes: {tis: 0}"), r"at least one mode a weight > 0"),
        (("steps: 3", "steps: 3\n    lr: -1"), r"stages\[0\]\.lr must be in \(0, inf\], got -1"),
        (("steps: 3", "steps: 3\n    bogus: 1"), r"stages\[0\] has unknown key\(s\) \['bogus'\]"),
        (("steps: 3", "steps: 3\n    train: [head]"), r"stages\[0\]\.train must be a non-empty list drawn from"),
        (("steps: 3", "steps: 3\n    audio: 2"), r"stages\[0\]\.audio must be in \[0, 1.0\], got 2"),
        (("    steps: 3\n", ""), r"stages\[0\] is missing required key\(s\) \['steps'\]"),
        (("corpus: c", "corpus: c\nmodel: {layers: 0}"), r"model\.layers must be >= 1, got 0"),
        (("corpus: c", "corpus: c\nmixed_precision: fp8"), r"recipe\.mixed_precision must be one of"),
        (("corpus: c\n", ""), r"recipe is missing required key\(s\) \['corpus'\]"),
    ],
)
def test_recipe_errors_are_clear(tmp_path, patch, message):
    with pytest.raises(ValueError, match=message):
        load_recipe(write(tmp_path, BASE.replace(*patch)))


def test_unknown_recipe_and_bad_yaml(tmp_path):
    with pytest.raises(ValueError, match="built-in name .*default.*got 'nope'"):
        load_recipe("nope")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_recipe(write(tmp_path, "name: [unclosed"))
    with pytest.raises(ValueError, match="stages must be a non-empty list"):
        load_recipe(write(tmp_path, "name: t\ncorpus: c\n"))


def test_extends_merges_stages_by_name(tmp_path):
    path = write(tmp_path, """
        extends: default
        name: mine
        corpus: elsewhere
        model: {layers: 2}
        stages:
          - name: text
            steps: 7
        """)
    r = load_recipe(path)
    base = load_recipe("default")
    assert r.name == "mine" and r.corpus == "elsewhere" and r.model.layers == 2
    assert r.model.d_model == base.model.d_model
    assert [s.name for s in r.stages] == ["text"]
    assert r.stages[0].steps == 7 and r.stages[0].modes == base.stages[0].modes
