"""The HTML report: self-contained, complete, escaped and reproducible byte for byte."""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path

import pytest

from scine import __version__
from scine.analysis.plots import all_plots, axis_radar
from scine.analysis.report import write_report
from scine.analysis.results import Analysis
from scine.taxonomy import load_taxonomy
from tests.analysis.test_plots import ICC_FORMS, LEAVES, MODELS, toy_analysis

MANIFEST = {
    "scine_version": __version__,
    "taxonomy_version": load_taxonomy().version,
    "study_folder": "/data/study-7",
    "sampling": {"fps": 8, "frames": 16, "seed": 11},
    "judge": {"backend": "offline", "judge_seed": 5},
}


@pytest.fixture(scope="module")
def plots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    return all_plots(toy_analysis(), tmp_path_factory.mktemp("plots"))


@pytest.fixture(scope="module")
def page(plots: dict[str, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "nested" / "report.html"
    written = write_report(toy_analysis(), MANIFEST, plots, out)
    assert written == out
    assert sorted(path.name for path in out.parent.iterdir()) == ["report.html"]
    return out.read_text(encoding="utf-8")


def section(page: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert match, name
    return match.group(1)


def test_the_report_references_no_external_resource(page: str) -> None:
    assert "http://" not in page
    assert "https://" not in page
    references = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert len(references) > 7
    assert all(ref.startswith(("data:", "#")) for ref in references)
    assert "<script" not in page
    assert "<link" not in page


def test_every_figure_is_embedded_as_its_own_file(page: str, plots: dict[str, list[Path]]) -> None:
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert len(images) == len(plots) == 7
    for encoded, (_, svg) in zip(images, plots.values(), strict=True):
        assert base64.b64decode(encoded) == svg.read_bytes()


def test_the_report_names_models_forms_policies_exclusions_and_versions(page: str) -> None:
    text = html.unescape(page)
    for model in MODELS:
        assert model in text
    for form in ICC_FORMS:
        assert f"<td>{form}</td>" in page
    settings = toy_analysis().settings
    for key in ("tie_policy", "correction", "ci_method", "elo"):
        assert settings[key] in text
    assert "<td>unknown video_id</td>" in page
    assert "<td>repeated vote (same rater, video, question)</td>" in page
    assert "5 left out in all" in text
    assert f"<dd>{MANIFEST['taxonomy_version']}</dd>" in page
    assert f"<dd>{__version__}</dd>" in page
    assert "/data/study-7" in text
    assert "manifest sampling.seed = 11; manifest judge.judge_seed = 5" in text
    assert "settings.seed = 7" in text


def test_the_leaderboard_ranks_by_overall_mean_with_formatted_numbers(page: str) -> None:
    analysis = toy_analysis()
    board = html.unescape(section(page, "leaderboard"))
    overall = analysis.scores[analysis.scores["scope"] == "overall"].sort_values(
        "mean", ascending=False
    )
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>(.*?)</td>", board)
    assert [model for _, model in rows] == list(overall["model"])
    best = overall.iloc[0]
    assert f"{best['mean']:.3f}" in board
    assert f"[{best['ci_low']:.3f}, {best['ci_high']:.3f}]" in board
    bt = analysis.bradley_terry
    elo = bt[(bt["model"] == best["model"]) & (bt["scope"] == "camera")]["elo"].iloc[0]
    assert f'<td class="num">{elo:.1f}</td>' in board


def test_the_same_inputs_give_byte_identical_html(
    tmp_path: Path, page: str, plots: dict[str, list[Path]]
) -> None:
    analysis = toy_analysis()
    again = write_report(
        analysis, MANIFEST, all_plots(analysis, tmp_path / "plots"), tmp_path / "r.html"
    )
    assert again.read_bytes() == page.encode("utf-8")


def test_html_in_names_is_escaped(tmp_path: Path) -> None:
    models = ["<script>alert(1)</script>", "a & b", 'quote"d']
    analysis = toy_analysis(models)
    analysis.excluded = {"<b>bold</b> reason": 1}
    page = write_report(analysis, {"note": "<i>x</i>"}, {}, tmp_path / "r.html").read_text()
    for raw in ("<script>", "<b>", "<i>", 'quote"d'):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &amp; b" in page
    assert "quote&#34;d" in page


def test_nothing_excluded_missing_numbers_and_version_mismatch(tmp_path: Path) -> None:
    analysis = toy_analysis()
    analysis.excluded = {}
    analysis.scores.loc[analysis.scores["scope"] == "overall", ["ci_low", "ci_high"]] = math.nan
    manifest = {**MANIFEST, "taxonomy_version": "0123abcd"}
    page = write_report(analysis, manifest, {}, tmp_path / "r.html").read_text()
    assert "Nothing excluded." in page
    assert "No figures were drawn." in page
    assert f"{load_taxonomy().version} (the manifest records 0123abcd)" in page
    board = section(page, "leaderboard")
    assert board.count('<td class="num">–</td>') == len(MODELS)


def test_a_figure_needs_an_svg_or_png(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"figure 'radar': expected a \.svg or \.png"):
        write_report(
            toy_analysis(), MANIFEST, {"radar": [tmp_path / "radar.pdf"]}, tmp_path / "r.html"
        )


def test_png_only_figures_are_embedded_as_png(tmp_path: Path, plots: dict[str, list[Path]]) -> None:
    png = plots["axis_radar"][0]
    page = write_report(toy_analysis(), MANIFEST, {"axis_radar": [png]}, tmp_path / "r.html")
    assert 'src="data:image/png;base64,' in page.read_text()


def captions(page: Path) -> list[str]:
    return re.findall(r"<figcaption>(.*?)</figcaption>", page.read_text(), re.S)


def test_the_radar_caption_says_how_many_models_each_chart_holds(
    tmp_path: Path, plots: dict[str, list[Path]]
) -> None:
    radar = {"axis_radar": plots["axis_radar"]}
    few = write_report(toy_analysis(), MANIFEST, radar, tmp_path / "few.html")
    assert captions(few) == ["Mean score per axis and model (1-5)."]
    many = toy_analysis([f"model {index}" for index in range(20)])
    radar = {"axis_radar": list(axis_radar(many, tmp_path))}
    page = write_report(many, MANIFEST, radar, tmp_path / "many.html")
    assert captions(page) == [
        "Mean score per axis (1-5): one chart per model, best first, each with the average "
        "of the 20 models as a dashed grey outline (more than 10 models on one chart would "
        "hide each other)."
    ]


def test_the_leaf_heatmap_lists_the_leaves_it_leaves_out(page: str) -> None:
    figure = re.search(r'<figure id="figure-leaf_heatmap">(.*?)</figure>', page, re.S)
    assert figure is not None
    text = html.unescape(figure.group(1))
    assert "The 68 leaf controls no model was rated on" in text
    listed = re.findall(r"<dt>(\w+)</dt><dd>(.*?)</dd>", text)
    assert [axis for axis, _ in listed] == ["Setup", "Events", "Lighting", "Camera"]
    named = [leaf for _, leaves in listed for leaf in leaves.split(", ")]
    unrated = [leaf.id for leaf in load_taxonomy().leaves() if leaf.id not in LEAVES]
    assert sorted(named) == sorted(unrated)
    assert len(named) == 68


def test_empty_result_frames_render(tmp_path: Path) -> None:
    full = toy_analysis()
    analysis = Analysis(
        models=full.models,
        scores=full.scores,
        icc=full.icc.iloc[0:0],
        alpha=full.alpha.iloc[0:0],
        wilcoxon=full.wilcoxon.iloc[0:0],
        tiers=[],
        bradley_terry=full.bradley_terry.iloc[0:0],
        elo=full.elo.iloc[0:0],
        correlations=full.correlations.iloc[0:0],
        settings={},
        excluded={},
    )
    page = write_report(analysis, {}, {}, tmp_path / "r.html").read_text()
    assert "No ICC rows." in page
    assert "not recorded in the manifest" in page
    assert "Bradley-Terry Elo" not in section(page, "leaderboard")
