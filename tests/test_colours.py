"""Colours that survive a projector and every viewer: the charts' scales still read in
greyscale and for colour-blind students (their sight simulated as Machado et al. 2009
do, with colorspacious; distances in CAM02-UCS, where 1 is a just-noticeable step)."""

from __future__ import annotations

import numpy as np
import pytest
from colorspacious import cspace_convert
from plotly.colors import hex_to_rgb, sample_colorscale, unlabel_rgb

from vangrad_core.figures.live import PHASE_SCALE
from vangrad_core.figures.style import HEATMAP_SCALE, RUN_COLORS, RUN_DASHES, layer_colors

SIGHTS = {
    "normal": None,
    "deuteranopia": "deuteranomaly",  # at severity 100: the commonest, red-green
    "protanopia": "protanomaly",
    "tritanopia": "tritanomaly",
}


def rgb(colors: list[str]) -> np.ndarray:
    """'#1f77b4' or 'rgb(31, 119, 180)' colours as rows of sRGB in [0, 1]."""
    return np.array([hex_to_rgb(c) if c.startswith("#") else unlabel_rgb(c) for c in colors], float) / 255


def seen(colors: list[str], sight: str) -> np.ndarray:
    """The colours as a viewer with `sight` sees them, in CAM02-UCS (J', a', b')."""
    srgb = rgb(colors)
    if SIGHTS[sight] is not None:
        cvd = {"name": "sRGB1+CVD", "cvd_type": SIGHTS[sight], "severity": 100}
        srgb = np.clip(cspace_convert(srgb, cvd, "sRGB1"), 0, 1)
    return cspace_convert(srgb, "sRGB1", "CAM02-UCS")


def scale(colorscale: str | list[str], n: int = 24) -> list[str]:
    return sample_colorscale(colorscale, np.linspace(0, 1, n).tolist())


@pytest.mark.parametrize("sight", SIGHTS)
def test_layers_go_from_dark_to_light_for_every_viewer_and_in_greyscale(sight):
    """ "Input dark, output bright" is true as lightness alone (what greyscale keeps),
    for every viewer, with the first and last layer far apart."""
    seen_layers = seen(layer_colors(30), sight)
    lightness = seen_layers[:, 0]
    assert (np.diff(lightness) > 0).all(), lightness.round(1)
    assert np.linalg.norm(seen_layers[-1] - seen_layers[0]) > 40


@pytest.mark.parametrize("sight", SIGHTS)
def test_the_gradient_heatmap_and_network_scale_reads_as_lightness_for_every_viewer(sight):
    """The heatmap's and the network picture's scale: a bigger gradient is lighter,
    all along the scale, so "dark = little gradient" holds in greyscale too."""
    lightness = seen(scale(HEATMAP_SCALE), sight)[:, 0]
    assert (np.diff(lightness) > 0).all(), lightness.round(1)
    assert lightness[-1] - lightness[0] > 60


@pytest.mark.parametrize("sight", SIGHTS)
def test_the_phase_diagrams_two_phases_stay_apart_for_every_viewer(sight):
    """Ordered (blue) and chaotic (red) have about the same lightness, so in greyscale
    the phase diagram relies on its written labels and the critical line; in colour,
    every viewer tells them apart, and both are far from the white edge of chaos."""
    ordered, critical, chaotic = seen(scale(PHASE_SCALE, 3), sight)
    assert np.linalg.norm(ordered - chaotic) > 20
    assert min(np.linalg.norm(ordered - critical), np.linalg.norm(chaotic - critical)) > 30


@pytest.mark.parametrize("sight", SIGHTS)
def test_compared_runs_differ_in_colour_for_every_viewer_and_in_dash_in_greyscale(sight):
    seen_runs = seen(list(RUN_COLORS[:2]), sight)
    assert np.linalg.norm(seen_runs[0] - seen_runs[1]) > 20
    assert RUN_DASHES[0] != RUN_DASHES[1]  # greyscale: run B's line is dashed
