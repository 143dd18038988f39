"""Plotly figures: each takes DataFrames (the engine's frames, or curves it computed)
and returns a figure. Nothing here imports torch, Streamlit or the engine's modules
(tests/test_layering.py checks): figures only draw.

Families: `live` (the playground's charts of a run), `teaching` (an activation and
the chain rule), `compare` (runs overlaid), `batchnorm`, `papers` (the classic
experiments), `recurrent` (the gradient through time); `style` holds what they share.
"""

from .batchnorm import mean_and_std, norm_parameters, norm_stages
from .compare import compare_curves, compare_profiles, compare_saturation
from .live import (
    GRADIENT_MEASURES,
    MAX_RIDGES,
    UPDATE_GUIDE,
    activation_ridges,
    decision_boundary,
    derivative_with_inputs,
    distance_from_init,
    forward_variance,
    gradient_heatmap,
    gradient_profile,
    largest_input_share,
    log_span,
    network_picture,
    phase_diagram,
    ridges_height,
    saturation_by_layer,
    signal_variance,
    training_curves,
    update_ratios,
)
from .papers import (
    bn_by_depth,
    bn_variants,
    dying_figure,
    glorot_gradients,
    glorot_saturation,
    he_comparison,
    ioffe_figure,
    isometry_figure,
    selu_figure,
    shattered_figure,
    width_figure,
)
from .recurrent import explained, memory_figure, time_profiles
from .style import TINY, empty_because, layer_colors, thin_steps
from .teaching import activation_and_slope, chain_rule, input_change

__all__ = [
    "GRADIENT_MEASURES",
    "MAX_RIDGES",
    "TINY",
    "UPDATE_GUIDE",
    "activation_and_slope",
    "activation_ridges",
    "bn_by_depth",
    "bn_variants",
    "chain_rule",
    "compare_curves",
    "compare_profiles",
    "compare_saturation",
    "decision_boundary",
    "derivative_with_inputs",
    "distance_from_init",
    "dying_figure",
    "empty_because",
    "explained",
    "forward_variance",
    "glorot_gradients",
    "glorot_saturation",
    "gradient_heatmap",
    "gradient_profile",
    "he_comparison",
    "input_change",
    "ioffe_figure",
    "isometry_figure",
    "largest_input_share",
    "layer_colors",
    "log_span",
    "mean_and_std",
    "memory_figure",
    "network_picture",
    "norm_parameters",
    "norm_stages",
    "phase_diagram",
    "ridges_height",
    "saturation_by_layer",
    "selu_figure",
    "shattered_figure",
    "signal_variance",
    "thin_steps",
    "time_profiles",
    "training_curves",
    "update_ratios",
    "width_figure",
]
