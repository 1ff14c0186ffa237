"""Figures: valid PNG and SVG files, one colour per model everywhere, readable labels."""

from __future__ import annotations

import re
import warnings
import xml.etree.ElementTree as ET
from itertools import combinations
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.text import Text

from scine.analysis import plots
from scine.analysis.plots import (
    MODEL_PALETTE,
    RADAR_OVERLAY_MAX,
    NoDataError,
    all_plots,
    axis_radar,
    default_value_leaves,
    difficulty_drop,
    elo_heatmap,
    leaf_heatmap,
    model_colors,
    model_hatches,
    short_label,
    value_bars,
)
from scine.analysis.results import Analysis
from scine.analysis.table import group_of
from scine.taxonomy import load_taxonomy

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MODELS = ["alpha-1", "beta <2> & co", "gamma $x$", "delta"]
AXES = ["setup", "events", "lighting", "camera"]
LEAVES = [
    "setup.subjects.hair",
    "setup.scene.set_design.props.material",
    "events.portrayal.temporal",
    "events.types.emotions.implicit",
    "lighting.source.type",
    "lighting.color_temperature",
    "camera.extrinsics.angle",
    "camera.creative_intent.shot_size",
]
VALUES = {
    "lighting.source.type": ["sunlight", "hmi", "tungsten"],
    "camera.extrinsics.angle": ["aerial", "dutch", "knee_level", "shoulder_level"],
    "events.portrayal.temporal": ["causal", "sequential"],
}
SETTINGS = {
    "n_boot": 200,
    "seed": 7,
    "ci_level": 0.95,
    "alpha": 0.05,
    "tie_margin": 0.0,
    "ties": "half",
    "elo_k": 4.0,
    "elo_orderings": 10,
    "ci_method": "percentile bootstrap, 200 resamples of prompts (clustered)",
    "tie_policy": "a match is a tie when the two videos' vote means differ by at most 0",
    "correction": "Holm over all model pairs, alpha = 0.05",
    "elo": "online Elo, K = 4, mean of 10 seeded orderings",
}
ICC_FORMS = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]


def toy_analysis(models: list[str] = MODELS) -> Analysis:
    """A small, realistic Analysis with every documented column (4 models, 4 axes)."""
    rng = np.random.default_rng(3)
    skill = dict(zip(models, np.linspace(0.8, -0.8, len(models)), strict=True))
    keys: list[tuple[str, str]] = [("overall", "all")]
    keys += [("axis", axis) for axis in AXES]
    keys += [("group", group_of(leaf)) for leaf in LEAVES]
    keys += [("leaf", leaf) for leaf in LEAVES]
    keys += [("value", f"{leaf}={value}") for leaf, values in VALUES.items() for value in values]
    keys += [("genre", "comedy"), ("genre", "biography"), ("difficulty", "basic")]
    keys += [("difficulty", "advanced"), ("role", "director"), ("role", "screenwriter")]
    keys += [("temporal", "causal"), ("temporal", "sequential"), ("split", "scripts")]
    rows = []
    for scope, key in dict.fromkeys(keys):
        for model in models:
            mean = float(
                np.clip(3.2 + skill[model] - 0.4 * (key == "advanced") + rng.normal(0, 0.1), 1, 5)
            )
            half = float(rng.uniform(0.05, 0.3))
            rows.append(
                {
                    "scope": scope,
                    "key": key,
                    "model": model,
                    "mean": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "items": int(rng.integers(20, 400)),
                    "prompts": int(rng.integers(10, 100)),
                }
            )
    scores = pd.DataFrame(rows)
    for column in ("mean", "ci_low", "ci_high"):
        scores[column.replace("mean", "mean01").replace("ci_", "ci01_")] = (scores[column] - 1) / 4
    icc = pd.DataFrame(
        [
            {
                "level": level,
                "Type": form,
                "Description": f"{form} description",
                "ICC": 0.5 + i / 20,
                "F": 3.0 + i,
                "df1": 99,
                "df2": 198,
                "pval": 1e-9,
                "ci_low": 0.4,
                "ci_high": 0.7,
                "estimator": "henderson1+bootstrap" if level == "item" else "anova",
                "targets": 100,
                "raters": 3,
            }
            for level in ("item", "model", "pair")
            for i, form in enumerate(ICC_FORMS)
        ]
    )
    alpha = pd.DataFrame(
        [
            {"level": "item", "metric": "ordinal", "alpha": 0.61, "units": 900, "values": 2700},
            {"level": "item", "metric": "interval", "alpha": 0.63, "units": 900, "values": 2700},
            {"level": "model", "metric": "interval", "alpha": 0.95, "units": 4, "values": 12},
        ]
    )
    wilcoxon = pd.DataFrame(
        [
            {
                "scope": "all",
                "model_a": a,
                "model_b": b,
                "n": 120,
                "mean_a": 3.1,
                "mean_b": 2.9,
                "statistic": 1500.0,
                "pval": 0.004,
                "pval_holm": 0.02,
                "rank_biserial": 0.3,
                "significant": True,
            }
            for a, b in combinations(sorted(models), 2)
        ]
    )
    scopes = ["all", *AXES]
    bradley_terry = pd.DataFrame(
        [
            {
                "scope": scope,
                "model": model,
                "strength": 10 ** (skill[model] / 2),
                "elo": 1000 + 200 * skill[model] + rng.normal(0, 20),
                "ci_low": 950.0,
                "ci_high": 1050.0,
                "wins": 40,
                "losses": 30,
                "ties": 5,
            }
            for scope in scopes
            for model in models
        ]
    )
    elo = pd.DataFrame(
        [
            {
                "scope": scope,
                "model": model,
                "elo": 1000 + 150 * skill[model] + rng.normal(0, 10),
                "games": 75,
            }
            for scope in scopes
            for model in models
        ]
    )
    correlations = pd.DataFrame(
        [
            {
                "scope": "temporal",
                "a": "causal",
                "b": "sequential",
                "rho": 0.94,
                "pval": 0.01,
                "models": len(models),
            }
        ]
    )
    return Analysis(
        models=list(models),
        scores=scores,
        icc=icc,
        alpha=alpha,
        wilcoxon=wilcoxon,
        tiers=[list(models[:2]), list(models[2:])],
        bradley_terry=bradley_terry,
        elo=elo,
        correlations=correlations,
        settings=dict(SETTINGS),
        excluded={"unknown video_id": 3, "repeated vote (same rater, video, question)": 2},
        counts={"ratings": 2700, "items": 900, "prompts": 60, "questions": 225, "raters": 12},
    )


def model_mark_colours(svg: Path) -> dict[int, set[str]]:
    """Colours of the marks tagged ``model-<index>-...`` in an SVG, by model index."""
    found: dict[int, set[str]] = {}
    for element in ET.parse(svg).getroot().iter():
        match = re.fullmatch(r"model-(\d+)-.*", element.get("id", ""))
        if not match:
            continue
        for child in element.iter():
            style = child.get("style", "")
            for colour in re.findall(r"(?:fill|stroke): (#[0-9a-f]{6})", style):
                found.setdefault(int(match.group(1)), set()).add(colour)
    return found


def svg_texts(svg: Path) -> list[str]:
    """The texts of an SVG in drawing order (kept as ``<text>`` elements, not glyph paths)."""
    text_tag = "{http://www.w3.org/2000/svg}text"
    return ["".join(node.itertext()) for node in ET.parse(svg).getroot().iter(text_tag)]


def assert_png_and_svg(paths: tuple[Path, Path] | list[Path]) -> None:
    png, svg = paths
    assert (png.suffix, svg.suffix) == (".png", ".svg")
    assert png.stem == svg.stem
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    return all_plots(toy_analysis(), tmp_path_factory.mktemp("plots"))


def test_all_plots_writes_every_figure_as_png_and_svg(drawn: dict[str, list[Path]]) -> None:
    assert list(drawn) == [
        "axis_radar",
        "leaf_heatmap",
        "value_bars:camera.extrinsics.angle",
        "value_bars:lighting.source.type",
        "value_bars:events.portrayal.temporal",
        "difficulty_drop",
        "elo_heatmap",
    ]
    for paths in drawn.values():
        assert_png_and_svg(paths)


def test_a_model_has_one_colour_in_every_figure(drawn: dict[str, list[Path]]) -> None:
    colours = model_colors(MODELS)
    expected = {index: {colours[model]} for index, model in enumerate(MODELS)}
    coloured = [name for name in drawn if "heatmap" not in name]
    for name in coloured:
        assert model_mark_colours(drawn[name][1]) == expected, name
    assert len(set(colours.values())) == len(MODELS)


def srgb_to_lab(colour: str) -> npt.NDArray[np.float64]:
    """CIELAB (D65 white) of a ``#rrggbb`` sRGB colour."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    ratio = to_xyz @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(ratio > (6 / 29) ** 3, np.cbrt(ratio), ratio / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_colours(colours: list[str]) -> float:
    """The smallest CIE76 delta E between two of ``colours``."""
    labs = [srgb_to_lab(colour) for colour in colours]
    return min(float(np.linalg.norm(a - b)) for a, b in combinations(labs, 2))


def test_lab_conversion_matches_reference_values() -> None:
    assert srgb_to_lab("#ffffff") == pytest.approx([100, 0, 0], abs=0.05)
    assert srgb_to_lab("#ff0000") == pytest.approx([53.24, 80.09, 67.20], abs=0.05)


def test_twenty_models_get_clearly_different_colours_and_the_first_ten_keep_tab10() -> None:
    colours = list(model_colors([f"m{i}" for i in range(20)]).values())
    assert closest_colours(colours) >= 23
    assert colours[:10] == [to_hex(colormaps["tab10"](index)) for index in range(10)]


def test_colours_depend_on_position_only_and_repeats_get_a_hatch() -> None:
    assert model_colors(["a", "b"])["a"] == model_colors(["a", "z", "y"])["a"] == "#1f77b4"
    many = [f"m{i}" for i in range(3 * len(MODEL_PALETTE) + 5)]
    colours, hatches = model_colors(many), model_hatches(many)
    assert list(colours.values())[:5] == list(model_colors(many[:5]).values())
    assert len({(colours[model], hatches[model]) for model in many}) == len(many)
    assert {hatches[model] for model in many[: len(MODEL_PALETTE)]} == {""}


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the plots module saves during a test, as they were saved."""
    figures: list[Figure] = []
    save = plots._save

    def keep(fig: Figure, out_dir: str | Path, stem: str) -> tuple[Path, Path]:
        figures.append(fig)
        return save(fig, out_dir, stem)

    monkeypatch.setattr(plots, "_save", keep)
    return figures


def at_png_resolution(fig: Figure) -> Figure:
    """``fig`` laid out again as its PNG is, so that its artists' extents are the PNG's."""
    fig.set_dpi(plots.DPI)
    fig.draw_without_rendering()
    return fig


def outside(fig: Figure, artist: Artist) -> bool:
    """Whether ``artist`` leaves the figure (by more than half a pixel)."""
    box, frame = artist.get_window_extent(), fig.bbox.padded(0.5)
    return bool(box.x0 < frame.x0 or box.y0 < frame.y0 or box.x1 > frame.x1 or box.y1 > frame.y1)


def bar_fills(svg: Path) -> dict[int, set[str]]:
    """The fills of the bars tagged ``model-<index>-bar-<value>`` in an SVG, by model index."""
    found: dict[int, set[str]] = {}
    for element in ET.parse(svg).getroot().iter():
        match = re.fullmatch(r"model-(\d+)-bar-\d+", element.get("id", ""))
        if match:
            styles = (child.get("style", "") for child in element.iter())
            fills = {fill for style in styles for fill in re.findall(r"fill: ([^;]+)", style)}
            found.setdefault(int(match.group(1)), set()).update(fills)
    return found


def test_value_bars_hatch_the_models_past_the_palette_and_keep_the_legend_inside(
    tmp_path: Path, saved: list[Figure]
) -> None:
    models = [f"model {index}" for index in range(2 * len(MODEL_PALETTE) + 5)]
    svg = value_bars(toy_analysis(models), "lighting.source.type", tmp_path)[1]
    fills = bar_fills(svg)
    assert sorted(fills) == list(range(len(models)))
    for index, found in fills.items():
        hatched = all(fill.startswith("url(#") for fill in found)
        assert hatched == (index >= len(MODEL_PALETTE)), index
    fig = at_png_resolution(saved[0])
    legend = fig.axes[0].get_legend()
    assert legend is not None
    assert len(legend.get_texts()) == len(models)
    assert not outside(fig, legend)


def test_the_same_analysis_gives_byte_identical_files(
    drawn: dict[str, list[Path]], tmp_path: Path
) -> None:
    again = leaf_heatmap(toy_analysis(), tmp_path)
    for first, second in zip(drawn["leaf_heatmap"], again, strict=True):
        assert first.read_bytes() == second.read_bytes()


def titles(fig: Figure) -> list[Text]:
    """The figure's title and its charts' titles that have text."""
    found = [*fig.texts, *(ax.title for ax in fig.axes)]
    return [text for text in found if text.get_text()]


@pytest.mark.parametrize("count", [4, 20])
def test_titles_fit_in_their_figure_with_long_model_names(
    count: int, tmp_path: Path, saved: list[Figure]
) -> None:
    models = [f"model-{index:02d}-distilled-$720p$-long-context-edition" for index in range(count)]
    drawn = all_plots(toy_analysis(models), tmp_path)
    assert len(saved) == len(drawn)
    for fig in map(at_png_resolution, saved):
        for title in titles(fig):
            assert not outside(fig, title), title.get_text()
        boxes = [title.get_window_extent() for title in titles(fig)]
        assert not any(a.overlaps(b) for a, b in combinations(boxes, 2))
    radar = " ".join(svg_texts(drawn["axis_radar"][1]))
    assert "$720p$" in radar
    assert "\\$" not in radar


@pytest.mark.parametrize("count", [1, 2, 4, 20])
def test_the_heatmaps_long_leaf_labels_leave_its_rows_their_height(
    count: int, tmp_path: Path, saved: list[Figure]
) -> None:
    leaf_heatmap(toy_analysis([f"model {index}" for index in range(count)]), tmp_path)
    fig = at_png_resolution(saved[0])
    cells = fig.axes[0]
    labels = [label for label in cells.get_xticklabels() if label.get_text()]
    assert "lighting › color temperature" in [label.get_text() for label in labels]
    assert not any(outside(fig, label) for label in labels)
    assert cells.get_window_extent().height / fig.dpi / count >= 0.36  # inches a row


def test_labels_are_short_and_model_names_are_literal(drawn: dict[str, list[Path]]) -> None:
    assert short_label("camera.extrinsics.angle") == "extrinsics › angle"
    assert short_label("setup.scene.set_design.props.material") == "props › material"
    assert short_label("lighting.color_temperature") == "lighting › color temperature"
    radar = drawn["axis_radar"][1]
    assert "gamma $x$" in svg_texts(radar)
    assert "Oblique" not in radar.read_text()  # $x$ was not typeset as mathematics


def chart_models(svg: Path) -> list[list[int]]:
    """Per chart of an SVG (matplotlib's ``axes_<n>`` groups), the positions of the models
    whose line it draws, in drawing order."""
    charts = []
    for group in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}g"):
        if re.fullmatch(r"axes_\d+", group.get("id", "")):
            ids = (element.get("id", "") for element in group.iter())
            lines = (re.fullmatch(r"model-(\d+)-line", found) for found in ids)
            charts.append([int(line.group(1)) for line in lines if line])
    return charts


def ranked(analysis: Analysis) -> list[str]:
    overall = analysis.scores[analysis.scores["scope"] == "overall"]
    return list(overall.sort_values("mean", ascending=False)["model"])


@pytest.mark.parametrize("count", [10, 11, 20])
def test_the_radar_draws_ten_models_on_one_chart_and_more_on_one_chart_each(
    count: int, tmp_path: Path
) -> None:
    models = [f"model {index}" for index in range(count)]
    analysis = toy_analysis(models)
    svg = axis_radar(analysis, tmp_path)[1]
    best_first = [models.index(model) for model in ranked(analysis)]
    charts = chart_models(svg)
    if count <= RADAR_OVERLAY_MAX:
        assert charts == [best_first]
    else:
        assert charts == [[position] for position in best_first]
        texts = svg_texts(svg)
        assert f"1. {ranked(analysis)[0]}" in texts
        assert f"dashed grey: the average of the {count} models" in " ".join(texts)
    colours = model_colors(models)
    assert model_mark_colours(svg) == {i: {colours[model]} for i, model in enumerate(models)}
    for chart in charts:
        assert len({colours[models[position]] for position in chart}) == len(chart)


def test_leaf_heatmap_groups_leaves_by_axis_and_annotates(drawn: dict[str, list[Path]]) -> None:
    texts = svg_texts(drawn["leaf_heatmap"][1])
    assert texts[:4] == ["Setup", "Events", "Lighting", "Camera"]
    ordered = sorted(LEAVES, key=lambda leaf: (AXES.index(leaf.split(".")[0]), leaf))
    assert texts[4:12] == [short_label(leaf) for leaf in ordered]
    analysis = toy_analysis()
    leaf = analysis.scores[analysis.scores["scope"] == "leaf"]
    assert sorted(texts[16:48]) == sorted(f"{value:.2f}" for value in leaf["mean"])


def with_every_leaf(analysis: Analysis) -> Analysis:
    """``analysis`` with scores for every leaf of the taxonomy (copies of one leaf's)."""
    scores = analysis.scores
    first = scores[(scores["scope"] == "leaf") & (scores["key"] == LEAVES[0])]
    others = [leaf.id for leaf in load_taxonomy().leaves() if leaf.id not in LEAVES]
    analysis.scores = pd.concat([scores, *(first.assign(key=leaf) for leaf in others)])
    return analysis


def test_leaf_heatmap_says_how_many_unrated_leaves_it_leaves_out(
    drawn: dict[str, list[Path]], tmp_path: Path
) -> None:
    texts = svg_texts(drawn["leaf_heatmap"][1])
    assert "The 68 leaf controls no model was rated on are not drawn" in texts
    every = svg_texts(leaf_heatmap(with_every_leaf(toy_analysis()), tmp_path)[1])
    assert "Mean score per leaf control and model (1-5; grey: no items)" in every
    assert short_label(load_taxonomy().leaves()[-1].id) in every


def test_value_bars_order_values_and_name_the_interval_method(
    drawn: dict[str, list[Path]],
) -> None:
    texts = svg_texts(drawn["value_bars:lighting.source.type"][1])
    scores = toy_analysis().scores
    values = scores[scores["key"].str.startswith("lighting.source.type=")]
    by_value = values.groupby("key")["mean"].mean().sort_values(ascending=False)
    expected = [key.split("=")[1] for key in by_value.index]
    assert [text for text in texts if text in expected] == expected
    title = " ".join(texts)
    assert "95% intervals: percentile bootstrap, 200 resamples of prompts" in title


def test_value_bars_need_the_leaf_and_say_which_leaves_exist(tmp_path: Path) -> None:
    with pytest.raises(NoDataError, match=r"leaves with values: camera\.extrinsics\.angle"):
        value_bars(toy_analysis(), "setup.subjects.hair", tmp_path)


def test_default_value_leaves_pick_the_leaves_with_most_values() -> None:
    assert default_value_leaves(toy_analysis()) == [
        "camera.extrinsics.angle",
        "lighting.source.type",
        "events.portrayal.temporal",
    ]


def test_elo_heatmap_falls_back_to_bradley_terry(tmp_path: Path) -> None:
    analysis = toy_analysis()
    analysis.elo = analysis.elo.iloc[0:0]
    paths = elo_heatmap(analysis, tmp_path)
    assert_png_and_svg(paths)
    texts = svg_texts(paths[1])
    assert any(text.startswith("Bradley-Terry strength per axis") for text in texts)
    assert {f"{value:.1f}" for value in analysis.bradley_terry["elo"]} <= set(texts)
    online = svg_texts(elo_heatmap(toy_analysis(), tmp_path / "online")[1])
    assert any(text.startswith("Online Elo per axis (K = 4, mean over 10") for text in online)


def test_a_figure_without_data_is_a_warning_in_all_plots(tmp_path: Path) -> None:
    analysis = toy_analysis()
    analysis.scores = analysis.scores[analysis.scores["scope"] != "difficulty"]
    with pytest.raises(NoDataError, match="scope 'difficulty'"):
        difficulty_drop(analysis, tmp_path)
    with pytest.warns(UserWarning, match="difficulty_drop not drawn"):
        drawn = all_plots(analysis, tmp_path, value_leaves=[])
    assert sorted(drawn) == ["axis_radar", "elo_heatmap", "leaf_heatmap"]


def test_names_the_font_lacks_stay_text_in_the_svg_and_are_warned_of_once(
    tmp_path: Path,
) -> None:
    names = ["模型甲", "clapper 🎬", "plain"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawn = all_plots(toy_analysis(names), tmp_path)
    messages = [str(warning.message) for warning in caught]
    assert not [message for message in messages if "Glyph" in message]
    (glyphs,) = [message for message in messages if "no glyph" in message]
    assert "(型 模 甲 🎬)" in glyphs  # each character once, in order of code
    assert {"模型甲", "clapper 🎬"} <= set(svg_texts(drawn["axis_radar"][1]))


def test_names_the_font_has_raise_no_glyph_warning(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        all_plots(toy_analysis(["alpha", "beta"]), tmp_path)
