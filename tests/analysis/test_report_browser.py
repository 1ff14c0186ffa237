"""The report in a real browser: a long, wide score table keeps its header row and its row
labels in view while it is scrolled to its far corner."""

from __future__ import annotations

from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

from scine.analysis.pipeline import AnalysisSettings, analyze, write_outputs  # noqa: E402
from scine.analysis.simulate import SimulationConfig, simulate, write_simulation  # noqa: E402
from scine.analysis.table import load_study  # noqa: E402
from tests.browser import chromium  # noqa: E402

SCROLL_TO_THE_FAR_CORNER = """() => {
    document.querySelectorAll("details").forEach((d) => { d.open = true; });
    const boxes = [...document.querySelectorAll("div.scroll")].filter(
        (box) => box.scrollHeight > box.clientHeight && box.scrollWidth > box.clientWidth);
    if (boxes.length === 0) return null;
    const box = boxes[0];
    box.scrollIntoView();
    box.scrollTop = box.scrollHeight;
    box.scrollLeft = box.scrollWidth;
    const rows = box.querySelectorAll("tbody tr");
    const rect = (element) => element.getBoundingClientRect();
    return {
        box: rect(box),
        corner: rect(box.querySelector("thead th")),
        lastHeader: rect(box.querySelector("thead th:last-child")),
        lastLabel: rect(rows[rows.length - 1].querySelector("td")),
    };
}"""


def test_scrolled_score_tables_keep_their_labels_in_view(tmp_path: Path) -> None:
    study = tmp_path / "study"
    write_simulation(simulate(SimulationConfig(models=12, prompts=40, seed=1)), study)
    analysis = analyze(load_study(study), AnalysisSettings(n_boot=0))
    report = write_outputs(analysis, tmp_path / "out", {}, plots=False)["report"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 900, "height": 700})
        page.goto(report.as_uri())
        found = page.evaluate(SCROLL_TO_THE_FAR_CORNER)
        browser.close()
    assert found is not None, "no table both taller and wider than its box"
    box, corner, last_header, last_label = (
        found[key] for key in ("box", "corner", "lastHeader", "lastLabel")
    )
    inside = 1.0  # pixels of rounding
    assert abs(corner["top"] - box["top"]) <= inside
    assert abs(corner["left"] - box["left"]) <= inside
    assert abs(last_header["top"] - box["top"]) <= inside
    assert abs(last_label["left"] - box["left"]) <= inside
    assert last_label["bottom"] <= box["bottom"] + inside
