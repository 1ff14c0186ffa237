"""Figures of an analysis, each written as PNG and SVG with the same stem.

Conventions shared by every figure:

- a model has one colour everywhere (``model_colors``: by its position in
  ``Analysis.models``, so analyses of the same models share colours), and its marks carry
  the SVG id ``model-<position>-<mark>``, so they can be found in the SVG; past the
  ``MODEL_PALETTE``'s 20 colours the colours repeat, and the per-value bars, whose legend
  is the only key to the models, hatch each repeat (``model_hatches``); where more than
  ``RADAR_OVERLAY_MAX`` models would share a chart (the radar), each gets a chart of its own;
- models are ranked by overall mean score, best first; scores are on the 1-5 scale;
- leaf ids are shortened to their last two parts, ``group › leaf``;
- titles say what is shown, and the interval method where intervals are drawn (taken from
  ``Analysis.settings``: ``ci_level`` and ``ci_method``); on saving, each is wrapped to the
  width it has, measured in its font after the layout, so that none leaves its figure;
- files are reproducible byte for byte (no dates or software names in the metadata, a fixed
  SVG id salt); figures never go through pyplot, so no global figure state is kept.

A figure whose rows are missing from the analysis raises ``NoDataError``; ``all_plots``
turns that into a warning naming the figure and draws the others.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from scine.taxonomy import AXES, load_taxonomy

from .results import Analysis

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.projections.polar import PolarAxes
    from matplotlib.text import Text

__all__ = [
    "MODEL_PALETTE",
    "VALUE_LEAVES",
    "NoDataError",
    "all_plots",
    "axis_radar",
    "default_value_leaves",
    "difficulty_drop",
    "elo_heatmap",
    "leaf_heatmap",
    "model_colors",
    "model_hatches",
    "short_label",
    "value_bars",
]

VALUE_LEAVES = (
    "lighting.source.type",
    "camera.extrinsics.angle",
    "camera.creative_intent.shot_size",
    "events.portrayal.temporal",
)
"""Candidate leaves for ``all_plots``' per-value bars (the paper discusses their values)."""
MODEL_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#b9c3ff",
    "#6e5f00",
    "#006e5a",
    "#00f0b4",
    "#ffb4aa",
    "#b9006e",
    "#fac887",
    "#64f005",
    "#b4871e",
    "#2341ff",
)
"""Model colours by position: matplotlib's tab10, then ten colours each picked (among sRGB
colours of CIELAB lightness 40-85 and chroma 30 or more) as far as possible, by CIEDE2000,
from every colour before it. Any two are at least 23 apart in CIELAB (CIE76 delta E);
tab20, whose light and dark shades of one hue look alike in bars, has two 17 apart."""
MODEL_HATCHES = ("", "...", "xxx", "ooo")
"""Bar hatches by round of the palette: a model's bars are hatched when its position is
past the palette's length; after the last hatch they repeat."""
RADAR_OVERLAY_MAX = 10
"""The radar draws up to this many models on one chart (more polygons hide each other);
more get one small chart each."""
RADAR_COLUMNS = 5
"""Small radar charts a row."""
LEGEND_ROWS = 20
"""A legend of models takes a new column after this many (more would leave the figure)."""
ANNOTATE_MAX = 160
"""Heatmap cells are annotated with their numbers when there are at most this many."""
DPI = 150
TITLE_MARGIN = 0.2
"""Inches of a title's room kept free (half on each side), so that text drawn at another
resolution than the one measured still fits."""


class NoDataError(ValueError):
    """The analysis has no rows for the figure asked for; the message says which."""


def model_colors(models: Sequence[str]) -> dict[str, str]:
    """One hex colour per model by position in ``MODEL_PALETTE``, repeating past its end."""
    return {
        model: MODEL_PALETTE[position % len(MODEL_PALETTE)] for position, model in enumerate(models)
    }


def model_hatches(models: Sequence[str]) -> dict[str, str]:
    """One bar hatch per model by position: none on the palette's first round, then one
    ``MODEL_HATCHES`` pattern per repeat of its colours."""
    return {
        model: MODEL_HATCHES[position // len(MODEL_PALETTE) % len(MODEL_HATCHES)]
        for position, model in enumerate(models)
    }


def short_label(node_id: str) -> str:
    """``camera.extrinsics.angle`` -> ``extrinsics › angle`` (underscores become spaces)."""
    parts = node_id.replace("_", " ").split(".")
    return " › ".join(parts[-2:])


def axis_radar(analysis: Analysis, out_dir: str | Path) -> tuple[Path, Path]:
    """Per-axis mean score per model on a 1-5 radial scale: one polygon per model on one
    chart up to ``RADAR_OVERLAY_MAX`` models; beyond, one small chart per model, best first,
    each with the models' average as a dashed grey outline."""
    means = _axis_means(analysis)
    with _style():
        if len(means) <= RADAR_OVERLAY_MAX:
            fig = _radar_overlay(analysis, means)
        else:
            fig = _radar_panels(analysis, means)
        return _save(fig, out_dir, "axis_radar")


def _axis_means(analysis: Analysis) -> pd.DataFrame:
    """Models (ranked) x axes (taxonomy order) mean scores."""
    frame = _scope(analysis, "axis")
    axes = _key_order("axis", frame["key"].unique())
    means = frame.pivot(index="model", columns="key", values="mean")
    return means.reindex(index=_ranked(analysis, means.index), columns=axes).astype(float)


def _radar_overlay(analysis: Analysis, means: pd.DataFrame) -> Figure:
    """Every model's polygon on one chart, with a legend in rank order."""
    colours = model_colors(analysis.models)
    fig = _new_figure(7.0, 5.5)
    ax = _polar(fig, (1, 1, 1), list(means.columns))
    for model, values in means.iterrows():
        name = str(model)
        tag = _tag(analysis, name)
        _polygon(ax, values, colours[name], tag, linewidth=2, marker="o", label=_text(name))
    ax.tick_params(axis="x", pad=10)
    title = "Mean score per axis and model (1-5; means over items, no intervals)"
    ax.set_title(title, pad=16)
    ax.legend(loc="upper left", bbox_to_anchor=(1.08, 1.0), frameon=False)
    return fig


def _radar_panels(analysis: Analysis, means: pd.DataFrame) -> Figure:
    """One small chart per model, best first, ``RADAR_COLUMNS`` a row, each with the
    average of the models' means as a dashed grey outline."""
    colours = model_colors(analysis.models)
    rows = math.ceil(len(means) / RADAR_COLUMNS)
    fig = _new_figure(2.4 * RADAR_COLUMNS, 2.6 * rows + 0.7)
    average = means.mean(axis=0)
    for rank, (model, values) in enumerate(means.iterrows(), 1):
        name = str(model)
        ax = _polar(fig, (rows, RADAR_COLUMNS, rank), list(means.columns))
        ax.tick_params(labelsize=7)
        position = analysis.models.index(name)
        _polygon(ax, average, "#8c8c8c", f"average-{position}", fill=False, linewidth=1.2, ls="--")
        _polygon(ax, values, colours[name], _tag(analysis, name), linewidth=2, marker="o", ms=4)
        ax.set_title(f"{rank}. {name}", fontsize=9, pad=12, parse_math=False)
    fig.suptitle(
        "Mean score per axis, one chart per model, best first (1-5; means over items, "
        f"no intervals; dashed grey: the average of the {len(means)} models)",
        fontsize=10,
    )
    return fig


def _polar(fig: Figure, slot: tuple[int, int, int], axes: list[str]) -> PolarAxes:
    """A polar chart in ``slot`` (rows, columns, index): first axis at the top, clockwise,
    radial scale 1-5 labelled between the first two axes."""
    import numpy as np
    from matplotlib.projections.polar import PolarAxes

    ax = fig.add_subplot(*slot, projection="polar")
    assert isinstance(ax, PolarAxes)
    ax.set_theta_offset(math.pi / 2)
    ax.set_theta_direction(-1)
    angles = np.linspace(0.0, 2 * math.pi, len(axes), endpoint=False)
    ax.set_xticks(angles, labels=[axis.capitalize() for axis in axes])
    ax.set_ylim(1, 5)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_rlabel_position(180 / len(axes))  # between the first two axes, off their spokes
    return ax


def _polygon(
    ax: PolarAxes, values: pd.Series, colour: str, tag: str, fill: bool = True, **line: Any
) -> None:
    """One closed polygon of per-axis values (in the chart's axis order) drawn with ``line``'s
    styles; its line's SVG id is ``<tag>-line``, its light fill's ``<tag>-area``."""
    import numpy as np

    angles = np.linspace(0.0, 2 * math.pi, len(values), endpoint=False)
    closed = np.append(angles, angles[0])
    points = np.append(values.to_numpy(dtype=float), float(values.iloc[0]))
    (drawn,) = ax.plot(closed, points, color=colour, **line)
    drawn.set_gid(f"{tag}-line")
    if fill:
        for patch in ax.fill(closed, points, color=colour, alpha=0.08):
            patch.set_gid(f"{tag}-area")


def leaf_heatmap(analysis: Analysis, out_dir: str | Path) -> tuple[Path, Path]:
    """Models x leaves mean score, leaves grouped by axis, colour scale 1-5; the taxonomy's
    leaves no model was rated on are left out (at 76 columns the rated ones would drown
    among grey ones), and the title says how many."""
    from matplotlib import colormaps

    frame = _scope(analysis, "leaf")
    leaves = _key_order("leaf", frame["key"].unique())
    pivot = frame.pivot(index="model", columns="key", values="mean")
    models = _ranked(analysis, pivot.index)
    matrix = pivot.reindex(index=models, columns=leaves).to_numpy(dtype=float)
    width = min(max(6.0, 0.3 * len(leaves) + 3.0), 40.0)
    with _style():
        fig = _new_figure(width, 0.38 * len(models) + 2.4)
        ax = fig.add_subplot()
        cmap = colormaps["viridis"].with_extremes(bad="#d9d9d9")
        image = ax.imshow(matrix, cmap=cmap, vmin=1, vmax=5, aspect="auto", interpolation="none")
        ax.set_xticks(
            range(len(leaves)), labels=[short_label(leaf) for leaf in leaves], rotation=90
        )
        ax.set_yticks(range(len(models)), labels=[_text(model) for model in models])
        _axis_bands(ax, [leaf.split(".", 1)[0] for leaf in leaves])
        # room below the cells for the longest leaf label, standing on end
        fig.set_figheight(0.38 * len(models) + 1.0 + _tallest(fig, ax.get_xticklabels()))
        if matrix.size <= ANNOTATE_MAX:
            _annotate(ax, matrix, "{:.2f}", lambda value: value < 3.6)
        fig.colorbar(image, ax=ax, label="mean score (1-5)", shrink=0.9, pad=0.01)
        unrated = len(_unrated_leaves(analysis))
        left_out = (
            f"\nThe {unrated} leaf controls no model was rated on are not drawn" if unrated else ""
        )
        title = f"Mean score per leaf control and model (1-5; grey: no items){left_out}"
        ax.set_title(title, pad=22)
        return _save(fig, out_dir, "leaf_heatmap")


def value_bars(analysis: Analysis, leaf_id: str, out_dir: str | Path) -> tuple[Path, Path]:
    """Per value of one leaf, one bar per model (from 1) with its bootstrap interval; each
    value is labelled with its number of prompts (the most of any model)."""
    import numpy as np

    scores = _scope(analysis, "value")
    frame = scores[scores["key"].str.startswith(f"{leaf_id}=")]
    if frame.empty:
        leaves = sorted({key.split("=", 1)[0] for key in scores["key"]})
        raise NoDataError(
            f"no scores of scope 'value' for leaf {leaf_id!r}; leaves with values: "
            f"{', '.join(leaves)}"
        )
    frame = frame.assign(value=frame["key"].str.split("=", n=1).str[1])
    order = frame.groupby("value")["mean"].mean().sort_values(ascending=False, kind="stable")
    values = list(order.index)
    models = _ranked(analysis, frame["model"].unique())
    colours = model_colors(analysis.models)
    hatches = model_hatches(analysis.models)
    width = 0.8 / len(models)
    size = min(max(7.5, 0.35 * len(values) * len(models) + 2.5), 30.0)
    with _style():
        fig = _new_figure(size, 4.8)
        ax = fig.add_subplot()
        for slot, model in enumerate(models):
            rows = frame[frame["model"] == model].set_index("value").reindex(values)
            x = np.arange(len(values)) + (slot - (len(models) - 1) / 2) * width
            tag = f"{_tag(analysis, model)}-bar"
            hatch = hatches[model] or None
            alpha = 0.45 if hatch else 1.0
            _bars(ax, x, rows, width, colours[model], _text(model), tag, hatch, alpha)
        prompts = frame.groupby("value")["prompts"].max()
        labels = [f"{value.replace('_', ' ')}\n({_prompts(prompts[value])})" for value in values]
        ax.set_xticks(range(len(values)), labels=labels)
        if len(values) > 5:
            ax.tick_params(axis="x", labelrotation=35)
        ax.set_ylim(1, 5)
        ax.set_ylabel("mean score (1-5)")
        ax.set_title(
            f"{short_label(leaf_id)}: mean score per value and model (bars start at 1)\n"
            f"{_ci_text(analysis)}"
        )
        columns = math.ceil(len(models) / LEGEND_ROWS)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, ncols=columns)
        return _save(fig, out_dir, f"value_bars-{leaf_id}")


def difficulty_drop(analysis: Analysis, out_dir: str | Path) -> tuple[Path, Path]:
    """Per model, the mean on basic and on advanced prompts with intervals, and the drop."""
    import numpy as np
    from matplotlib.patches import Patch

    frame = _scope(analysis, "difficulty")
    missing = {"basic", "advanced"} - set(frame["key"])
    if missing:
        raise NoDataError(
            f"scores of scope 'difficulty' lack the key(s) {', '.join(sorted(missing))}"
        )
    models = _ranked(analysis, frame["model"].unique())
    colours = model_colors(analysis.models)
    x = np.arange(len(models))
    size = max(7.5, 0.9 * len(models) + 2.5)
    with _style():
        fig = _new_figure(size, 4.8)
        ax = fig.add_subplot()
        for model, position in zip(models, x, strict=True):
            rows = frame[frame["model"] == model].set_index("key").reindex(["basic", "advanced"])
            tag = _tag(analysis, model)
            _bars(ax, [position - 0.2], rows.iloc[:1], 0.38, colours[model], None, f"{tag}-basic")
            _bars(
                ax,
                [position + 0.2],
                rows.iloc[1:],
                0.38,
                colours[model],
                None,
                f"{tag}-advanced",
                hatch="//",
                alpha=0.45,
            )
            basic, advanced = rows["mean"].to_numpy(dtype=float)
            if not math.isnan(basic - advanced):
                top = np.nanmax(rows[["mean", "ci_high"]].to_numpy(dtype=float))
                ax.text(
                    float(position),
                    min(top + 0.08, 4.9),
                    f"{advanced - basic:+.2f}".replace("-", "\u2212"),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                )
        ax.set_xticks(x, labels=[_text(model) for model in models])
        if len(models) > 6:
            ax.tick_params(axis="x", labelrotation=35)
        ax.set_ylim(1, 5)
        ax.set_ylabel("mean score (1-5)")
        ax.legend(
            handles=[
                Patch(facecolor="#777777", label="basic prompts"),
                Patch(facecolor="#777777", alpha=0.45, hatch="//", label="advanced prompts"),
            ],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
        )
        ax.set_title(
            "Basic vs advanced prompts: mean score per model (bars start at 1; numbers:"
            f" advanced \u2212 basic)\n{_ci_text(analysis)}"
        )
        return _save(fig, out_dir, "difficulty_drop")


def elo_heatmap(
    analysis: Analysis,
    out_dir: str | Path,
    source: Literal["auto", "elo", "bradley_terry"] = "auto",
) -> tuple[Path, Path]:
    """Models x axes Elo, annotated: the online Elo frame, or the Bradley-Terry ``elo``
    column (``source="auto"``: online Elo unless that frame is empty)."""
    import numpy as np
    from matplotlib import colormaps

    if source == "auto":
        source = "elo" if not analysis.elo.empty else "bradley_terry"
    frame = analysis.elo if source == "elo" else analysis.bradley_terry
    if frame.empty:
        raise NoDataError(f"the analysis has no rows in its {source!r} frame")
    scopes = _key_order("axis", [s for s in frame["scope"].unique() if s != "all"])
    scopes += ["all"] if "all" in set(frame["scope"]) else []
    pivot = frame.pivot(index="model", columns="scope", values="elo")
    models = _ranked(analysis, pivot.index)
    matrix = pivot.reindex(index=models, columns=scopes).to_numpy(dtype=float)
    spread = max(float(np.nanmax(np.abs(matrix - 1000.0))), 1.0)
    size = 1.1 * len(scopes) + 3.5
    with _style():
        fig = _new_figure(size, max(2.8, 0.38 * len(models) + 2.0))
        ax = fig.add_subplot()
        cmap = colormaps["RdBu"].with_extremes(bad="#d9d9d9")
        image = ax.imshow(
            matrix,
            cmap=cmap,
            vmin=1000 - spread,
            vmax=1000 + spread,
            aspect="auto",
            interpolation="none",
        )
        labels = ["overall" if scope == "all" else scope.capitalize() for scope in scopes]
        ax.set_xticks(range(len(scopes)), labels=labels)
        ax.set_yticks(range(len(models)), labels=[_text(model) for model in models])
        _annotate(ax, matrix, "{:.1f}", lambda value: abs(value - 1000) > 0.6 * spread)
        fig.colorbar(image, ax=ax, label="Elo (1000 = average)", shrink=0.9)
        ax.set_title(_elo_title(analysis, source))
        return _save(fig, out_dir, "elo_heatmap")


def default_value_leaves(analysis: Analysis) -> list[str]:
    """The ``VALUE_LEAVES`` that have value scores, the one with most values first."""
    scores = analysis.scores[analysis.scores["scope"] == "value"]
    leaves = scores["key"].str.split("=", n=1).str[0]
    counts = scores.assign(leaf=leaves).groupby("leaf")["key"].nunique()
    present = [leaf for leaf in VALUE_LEAVES if leaf in counts.index]
    return sorted(present, key=lambda leaf: -int(counts[leaf]))


def all_plots(
    analysis: Analysis, out_dir: str | Path, value_leaves: Sequence[str] | None = None
) -> dict[str, list[Path]]:
    """Every figure into ``out_dir``: name -> [png, svg]. Per-value bars for ``value_leaves``
    (default: ``default_value_leaves``) are named ``value_bars:<leaf id>``. A figure without
    data is skipped with a warning saying why."""
    leaves = default_value_leaves(analysis) if value_leaves is None else list(value_leaves)
    makers: dict[str, Callable[[], tuple[Path, Path]]] = {
        "axis_radar": partial(axis_radar, analysis, out_dir),
        "leaf_heatmap": partial(leaf_heatmap, analysis, out_dir),
        **{f"value_bars:{leaf}": partial(value_bars, analysis, leaf, out_dir) for leaf in leaves},
        "difficulty_drop": partial(difficulty_drop, analysis, out_dir),
        "elo_heatmap": partial(elo_heatmap, analysis, out_dir),
    }
    missing = _missing_glyphs(analysis.models)
    if missing:
        warnings.warn(
            f"model names use characters the plotting font has no glyph for ({' '.join(missing)}):"
            " the PNG figures draw boxes for them; the SVG figures, and the report, show them in"
            " the viewer's fonts",
            stacklevel=2,
        )
    written: dict[str, list[Path]] = {}
    for name, make in makers.items():
        try:
            written[name] = list(make())
        except NoDataError as missing:
            warnings.warn(f"figure {name} not drawn: {missing}", stacklevel=2)
    return written


# -- helpers ---------------------------------------------------------------------------------


@contextmanager
def _style() -> Iterator[None]:
    """Matplotlib settings of every figure. SVG text stays text, so a viewer's fonts show the
    characters the plotting font lacks (CJK, emoji); ``all_plots`` warns of those once."""
    import matplotlib

    with (
        warnings.catch_warnings(),
        matplotlib.rc_context(
            {
                "svg.fonttype": "none",
                "svg.hashsalt": "scine",
                "font.size": 9.0,
                "axes.titlesize": 10.0,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        ),
    ):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        yield


def _missing_glyphs(texts: Iterable[str]) -> list[str]:
    """The characters of ``texts`` the plotting font has no glyph for, in order of code."""
    from matplotlib import font_manager

    with _style():
        font = font_manager.get_font(font_manager.findfont(font_manager.FontProperties()))
    charmap = font.get_charmap()
    return sorted({char for text in texts for char in text if ord(char) not in charmap})


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _tallest(fig: Figure, texts: Iterable[Text]) -> float:
    """The height in inches of the tallest of ``texts`` as drawn (a label on end: its length)."""
    return max((text.get_window_extent().height for text in texts), default=0.0) / fig.dpi


def _save(fig: Figure, out_dir: str | Path, stem: str) -> tuple[Path, Path]:
    _fit_titles(fig)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{stem}.png", folder / f"{stem}.svg"
    fig.savefig(png, dpi=DPI, metadata={"Software": None})
    fig.savefig(svg, metadata={"Date": None, "Creator": None})
    return png, svg


def _scope(analysis: Analysis, scope: str) -> pd.DataFrame:
    frame = analysis.scores[analysis.scores["scope"] == scope]
    frame = frame[frame["model"].isin(analysis.models)]
    if frame.empty:
        raise NoDataError(f"the analysis has no scores of scope {scope!r} for its models")
    return frame


def _key_order(scope: str, keys: Iterable[object]) -> list[str]:
    """Axes in taxonomy order, basic before advanced, leaves by axis then id, others sorted."""
    found = [str(key) for key in keys]
    if scope == "difficulty":
        return sorted(found, key=lambda key: (key != "basic", key != "advanced", key))
    return sorted(found, key=lambda key: (_axis_rank(key.split(".", 1)[0]), key))


def _axis_rank(axis: str) -> int:
    return AXES.index(axis) if axis in AXES else len(AXES)


def _unrated_leaves(analysis: Analysis) -> list[str]:
    """The taxonomy's leaf controls no model of the analysis was rated on (the leaf heatmap
    leaves them out), by axis then id."""
    scores = analysis.scores
    leaves = scores[(scores["scope"] == "leaf") & scores["model"].isin(analysis.models)]
    rated = set(leaves["key"])
    every = (leaf.id for leaf in load_taxonomy().leaves())
    return _key_order("leaf", (leaf for leaf in every if leaf not in rated))


def _ranked(analysis: Analysis, present: Iterable[object]) -> list[str]:
    """The analysis' models that are ``present``, by overall mean score, best first."""
    have = {str(model) for model in present}
    overall = analysis.scores[analysis.scores["scope"] == "overall"]
    means = dict(zip(overall["model"], overall["mean"].astype(float), strict=True))

    def rank(model: str) -> tuple[float, int]:
        mean = means.get(model, math.nan)
        return (-mean if not math.isnan(mean) else math.inf, analysis.models.index(model))

    return sorted((model for model in analysis.models if model in have), key=rank)


def _tag(analysis: Analysis, model: str) -> str:
    return f"model-{analysis.models.index(model)}"


def _text(label: str) -> str:
    """A label as plain text: matplotlib would read ``$...$`` as mathematics."""
    return label.replace("$", r"\$")


def _prompts(count: int) -> str:
    return f"{count} prompt" if count == 1 else f"{count} prompts"


def _fit_titles(fig: Figure) -> None:
    """Wrap the lines of every title to the room it has, measured after a layout: centred
    where it stands, inside the figure and, in a grid of charts, inside its column."""
    fig.draw_without_rendering()
    frame = fig.bbox
    titles = [
        (text, float(text.get_transform().transform(text.get_position())[0]), frame.width)
        for text in fig.texts
    ]
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        columns = 1 if spec is None else spec.get_gridspec().ncols
        titles.append((ax.title, (ax.bbox.x0 + ax.bbox.x1) / 2, frame.width / columns))
    for text, centre, column in titles:
        room = min(column, 2 * (centre - frame.x0), 2 * (frame.x1 - centre))
        title = text.get_text()
        fits = partial(_fits, text, room - TITLE_MARGIN * fig.dpi)
        text.set_text("\n".join(_wrap(line, fits) for line in title.split("\n")))


def _fits(text: Text, room: float, line: str) -> bool:
    """Whether ``line``, drawn in ``text``'s font, is at most ``room`` pixels wide."""
    text.set_text(line)
    return float(text.get_window_extent().width) <= room


def _wrap(line: str, fits: Callable[[str], bool]) -> str:
    """``line`` wrapped at the most characters a line can take and still fit."""
    import textwrap

    for columns in range(len(line), 1, -1):
        parts = textwrap.wrap(line, columns)
        if all(fits(part) for part in parts):
            return "\n".join(parts)
    return "\n".join(textwrap.wrap(line, 1))


def _ci_text(analysis: Analysis) -> str:
    level = float(analysis.settings.get("ci_level", 0.95))
    method = analysis.settings.get("ci_method", "percentile bootstrap over prompts")
    return f"{level:.0%} intervals: {method}"


def _elo_title(analysis: Analysis, source: str) -> str:
    if source == "elo":
        k = analysis.settings.get("elo_k", "?")
        orderings = analysis.settings.get("elo_orderings", "?")
        k_text = f"{k:g}" if isinstance(k, int | float) else str(k)
        return f"Online Elo per axis (K = {k_text}, mean over {orderings} seeded match orderings)"
    return "Bradley-Terry strength per axis on the Elo scale (1000 + 400 log10 strength)"


def _bars(
    ax: Axes,
    x: npt.ArrayLike,
    rows: pd.DataFrame,
    width: float,
    colour: str,
    label: str | None,
    tag: str,
    hatch: str | None = None,
    alpha: float = 1.0,
) -> None:
    """Bars from 1 to each row's mean with asymmetric error bars (none where NaN); the bars'
    SVG ids are ``<tag>-<index>``."""
    import numpy as np

    means = rows["mean"].to_numpy(dtype=float)
    low = np.nan_to_num(means - rows["ci_low"].to_numpy(dtype=float))
    high = np.nan_to_num(rows["ci_high"].to_numpy(dtype=float) - means)
    bars = ax.bar(
        x,
        means - 1,
        width,
        bottom=1,
        color=colour,
        label=label,
        hatch=hatch,
        alpha=alpha,
        edgecolor=colour,
        linewidth=0.6,
    )
    for index, patch in enumerate(bars.patches):
        patch.set_gid(f"{tag}-{index}")
    ax.errorbar(
        x,
        means,
        yerr=np.vstack([low, high]),
        fmt="none",
        ecolor="#222222",
        elinewidth=0.8,
        capsize=2,
    )


def _annotate(
    ax: Axes, matrix: npt.NDArray[np.float64], fmt: str, light: Callable[[float], bool]
) -> None:
    """Write each finite cell's number, in white where ``light(value)`` (dark cells)."""
    import numpy as np

    for (row, col), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            colour = "white" if light(float(value)) else "black"
            ax.text(col, row, fmt.format(value), ha="center", va="center", fontsize=7, color=colour)


def _axis_bands(ax: Axes, axes_of_columns: list[str]) -> None:
    """White separators between axes and the axis names above the columns."""
    starts = [
        i for i, axis in enumerate(axes_of_columns) if i == 0 or axis != axes_of_columns[i - 1]
    ]
    ends = [*starts[1:], len(axes_of_columns)]
    for start in starts[1:]:
        ax.axvline(start - 0.5, color="white", linewidth=3)
    top = ax.secondary_xaxis("top")
    centres = [(start + end - 1) / 2 for start, end in zip(starts, ends, strict=True)]
    top.set_xticks(centres, labels=[axes_of_columns[s].capitalize() for s in starts])
    top.tick_params(length=0)
    top.spines["top"].set_visible(False)
