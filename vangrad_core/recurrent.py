"""Vanishing gradients through time: a recurrent network trained live, with dL/dh_t for every t.

The problem was first found in recurrent networks (Hochreiter 1991; Bengio, Simard &
Frasconi 1994). A recurrent network unrolled over T steps is a T-layer network whose
layers share one weight matrix, so the gradient of a loss at the last step reaches the
hidden state h_t only through the T − t Jacobians in between,

    dL/dh_t = (∂h_{t+1}/∂h_t)ᵀ ⋯ (∂h_T/∂h_{T−1})ᵀ dL/dh_T,   ∂h_s/∂h_{s−1} = diag(φ'(a_s)) W_hh

for the plain RNN h_s = φ(a_s), a_s = W_ih x_s + W_hh h_{s−1} + b. When those Jacobians
shrink vectors, the first inputs have no say in learning; when they stretch them, the
gradient explodes. Pascanu, Mikolov & Bengio (2013) bound the product by
(γ ‖W_hh‖₂)^(T−t), γ the largest value of φ' (`pascanu_bound`), and tame explosions by
clipping the gradient's norm. The LSTM (Hochreiter & Schmidhuber 1997) carries a cell
state additively, c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t, so along c the gradient is multiplied
by the forget gate f_t, which can learn to sit near 1; the GRU's update gate does the same.

What is here (no Streamlit):
- `RecurrentConfig`: everything that decides a run (a `Settings`: validation, URL codec).
- Two tasks whose answer needs the start of the sequence (`make_task`, `training_batches`):
  the adding problem, and remember the first symbol.
- `RecurrentNetwork`: one recurrent layer (plain RNN, LSTM or GRU), then a Linear layer
  reading the last hidden state. Its four recurrent tensors have exactly the layout of
  `nn.RNN`/`nn.LSTM`/`nn.GRU`'s `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`.
- `RecurrentTrainer`: `.step(n)`, `.metrics`, `.time_gradients` (dL/dh_t per step and t,
  with what explains it), `.spectrum`.
- `pascanu_bound`. (The classic experiment on it, `experiments.long_range_memory`, runs
  the configs `lessons.MEMORY_RUN` describes.)

How dL/dh_t is measured, and what it costs. The fused kernels behind `nn.RNN` and
`nn.LSTM` (one call for all T steps; the LSTM's is a single oneDNN operation on CPU) keep
their hidden states to themselves, and the gradient of their `output` at step t is only
the part of dL/dh_t that flows out at step t — with the loss at step T, zero for t < T.
The total derivative needs every h_t as a node of the graph. We add a *probe*: a zero
tensor p of shape (T, batch, hidden) whose gradient is dL/dh_t.
- Plain RNN (tanh, relu) and LSTM: h_{t−1} reaches the loss only through the term
  W_hh h_{t−1} in step t's pre-activations (or gates). The kernel also reads the input
  x_t through W_ih: so we feed it [x_t, p_{t−1}] with input weights [W_ih, W_hh]. The
  forward pass is unchanged (p = 0) and dL/dp_{t−1} = W_hhᵀ dL/da_t = dL/dh_{t−1}
  exactly; p_T is added to h_T before the output layer.
- GRU (h_{t−1} also passes straight through, z_t ⊙ h_{t−1}) and the sigmoid RNN (which
  has no fused kernel): an unrolled loop of cells, h_t = cell(x_t, h_{t−1}) + p_t.
Steps that are not recorded (long runs keep every k-th) run the plain fused kernel.

Measured (`python -m bench.recurrent`: T = 50, hidden 64, batch 32, Adam, one thread,
dL/dh_t recorded at every step, test evaluations included; four runs on a shared,
noisy machine), the trainer's steps per second over a bare loop on PyTorch's fused
module: plain tanh RNN 0.61–0.75, LSTM 0.66–0.70, GRU 0.61–0.66; the sigmoid RNN,
which has no fused kernel to compare with, 0.49–0.64 of the fused tanh RNN's. The
probe costs the fused kernel a wider input (its gradient, and the weight gradient of
the extra columns, which is 0). The obvious alternative, an unrolled loop of
nn.LSTMCell, runs at 0.39–0.42 of nn.LSTM; nn.GRUCell at 0.75–0.94 of nn.GRU, whose CPU
kernel is itself a loop of small operations.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import torch
from torch import nn

from .activations import ACTIVATION_TABLE
from .config import ACTIVATION_LABELS, MAX_SEED, TRAINING_FIELDS
from .settings import Field, Rule, Settings
from .trainer import METRIC_COLUMNS, Optimizer, SteppedRun, coarser, grown, not_finite_words, test_every

CELLS = ("rnn", "lstm", "gru")
RNN_ACTIVATIONS = ("tanh", "sigmoid", "relu")
RECURRENT_INITS = ("default", "orthogonal", "identity", "scaled_normal")
TASKS = ("adding", "first_symbol")
# length × batch × hidden: what one step's forward pass keeps for its backward pass
# (an LSTM keeps about 8 floats per unit per step per sequence: 2²² of them is ~130 MB)
MAX_CELLS = 2**22

ALPHABET = 8  # first_symbol: the symbols; guessing is right 1 time in 8
# the test loss of a network that ignores its input: always answering the mean, 1, whose
# squared error is the sum's variance, 1/6 (adding); a uniform guess, ln 8 (first_symbol)
GUESS_LOSS = {"adding": 1 / 6, "first_symbol": math.log(ALPHABET)}
ADDING_TOLERANCE = 0.04  # adding: a prediction within this of the target counts as right
# answering 1 (the mean sum) on the adding problem: the sum of two uniform numbers is within
# the tolerance of 1 this often (its density is a triangle peaking at 1)
GUESS_WITHIN = 1 - (1 - ADDING_TOLERANCE) ** 2
# what a task's loss (task_loss) and "accuracy" (count_correct) are, in the pages' words
TASK_LOSS_NAME = {"adding": "squared error", "first_symbol": "cross-entropy"}
TASK_ACCURACY_NAME = {"adding": f"sums within ±{ADDING_TOLERANCE:g}", "first_symbol": "accuracy"}
N_TEST = 512  # test sequences

# The H×H blocks stacked in weight_ih's and weight_hh's rows (and the biases'), in PyTorch's order
BLOCKS = {"rnn": ("recurrent",), "lstm": ("input", "forget", "cell", "output"), "gru": ("reset", "update", "new")}

TIME_COLUMNS = (
    "step",
    "t",
    "grad_rms",
    "mean_derivative",
    "jacobian_gain",
    "forget_gate",
    "update_gate",
    "most_open_gate",
)
STATISTIC = {name: i for i, name in enumerate(TIME_COLUMNS[2:])}  # what time_statistics' columns hold
SPECTRUM_COLUMNS = ("step", "block", "spectral_radius", "spectral_norm")
MAX_TIME_ROWS = 50_000  # rows of time_gradients kept at most (~5 MB with their frame)

FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field(
            "cell",
            "Recurrent cell",
            "Network",
            choices=CELLS,
            labels={"rnn": "plain RNN", "lstm": "LSTM", "gru": "GRU"},
            help="Plain RNN: h_t = φ(W_ih x_t + W_hh h_{t−1} + b). LSTM: a cell state kept by a forget gate "
            "and written through an input gate. GRU: an update gate mixes the old state with a new one.",
        ),
        Field(
            "activation",
            "Activation (plain RNN)",
            "Network",
            choices=RNN_ACTIVATIONS,
            labels=ACTIVATION_LABELS,
            help="The plain RNN's φ. LSTM and GRU ignore it: their gates are sigmoids and their states tanh.",
        ),
        Field(
            "length",
            "Sequence length T (time steps)",
            "Task",
            "int",
            low=2,
            high=200,
            stops=(2, 5, 10, 20, 30, 50, 75, 100, 150, 200),
            help="How many inputs the network reads before it answers: the gradient travels back through T steps.",
        ),
        Field(
            "hidden",
            "Hidden units",
            "Network",
            "int",
            low=2,
            high=256,
            stops=(2, 4, 8, 16, 32, 64, 128, 256),
        ),
        Field(
            "init",
            "Recurrent weights' initialization",
            "Network",
            choices=RECURRENT_INITS,
            labels={
                "default": "PyTorch default: U(−1/√H, 1/√H)",
                "orthogonal": "orthogonal (every singular value 1)",
                "identity": "identity, zero biases (IRNN, for ReLU)",
                "scaled_normal": "Gaussian with a chosen spectral radius",
            },
            help="Sets W_hh (for LSTM and GRU each gate's H×H block). Every choice but the default also sets "
            "the biases to 0. Identity is Le, Jaitly & Hinton's IRNN (2015): with ReLU, the state is copied "
            "forward and the gradient backward unchanged at first.",
        ),
        Field(
            "spectral_radius",
            "Spectral radius (Gaussian init only)",
            "Network",
            "float",
            low=0.1,
            high=3.0,
            step=0.1,
            help="Used only by the 'Gaussian with a chosen spectral radius' initialization: W_hh's largest "
            "|eigenvalue|. Below 1 a linear RNN forgets, above 1 it blows up; tanh and sigmoid shrink it further.",
        ),
        Field(
            "forget_bias",
            "LSTM forget-gate bias",
            "Network",
            "int",
            low=0,
            high=1,
            stops=(0, 1),
            help="The LSTM's forget-gate bias, whatever the initialization: 1 keeps the gate open (σ(1) ≈ 0.73) "
            "at the start, as Jozefowicz, Zaremba & Sutskever (2015) advise. Plain RNN and GRU ignore it.",
        ),
        *(
            dataclasses.replace(field, label="Batch size (sequences per step)") if field.name == "batch_size" else field
            for field in TRAINING_FIELDS
        ),
        Field(
            "task",
            "Task",
            "Task",
            choices=TASKS,
            labels={"adding": "adding problem", "first_symbol": "remember the first symbol"},
            help="Adding problem: read T random numbers in [0, 1], two of them marked (one in the first half, "
            f"one in the second); answer their sum (right when within {ADDING_TOLERANCE}; answering 1 always "
            f"is right 8% of the time). Remember the first symbol: read T symbols (one of {ALPHABET}, at random), "
            f"then name the first (guessing is right 1 time in {ALPHABET}). Here the only clue is T − 1 steps "
            "back: an LSTM with forget bias 1 stays at chance from T ≈ 20 on, while a tanh RNN trained with "
            "Adam sometimes learns to latch the symbol.",
        ),
        Field("seed", "Seed", "Task", "int", low=0, high=MAX_SEED, step=1),
    )
}


@dataclasses.dataclass(frozen=True)
class RecurrentConfig(Settings):
    """Everything that decides a recurrent run; the same config gives the same numbers.

    The defaults are the first demo: a tanh RNN on the adding problem over T = 50 steps,
    whose gradient at step 1 is 3e-11 of the one at step 50 and which stays at chance;
    switch the cell to LSTM and it learns the task (see `long_range_memory`)."""

    FIELDS = FIELDS
    # Fields a cell does not use (activation for LSTM/GRU, forget_bias for RNN/GRU,
    # spectral_radius for the other inits) are kept and ignored, never refused: a link
    # that switches the cell keeps the rest. The one rule is about memory.
    RULES = (
        Rule(
            lambda c: c.length * c.batch_size * c.hidden <= MAX_CELLS,
            f"length × batch size × hidden units must be at most {MAX_CELLS:,} (the memory one run may take): "
            "lower the batch size, the length or the hidden units",
            fallback="batch_size",
        ),
    )

    cell: str = "rnn"
    activation: str = "tanh"
    length: int = 50
    hidden: int = 64
    init: str = "default"
    spectral_radius: float = 1.0
    forget_bias: int = 1
    grad_clip: float = 0.0
    optimizer: str = "adam"
    learning_rate: float = 0.01
    batch_size: int = 32
    steps: int = 1000
    task: str = "adding"
    seed: int = 0


# ---- tasks -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SequenceTask:
    """A task's test split. Inputs are float32 of shape (T, sequences, input_size), time
    first as PyTorch's recurrent kernels take them; targets are int64 symbols
    (first_symbol) or float32 sums (adding)."""

    name: str
    input_size: int
    output_size: int
    chance_accuracy: float  # what answering without looking at the input scores
    x_test: torch.Tensor
    y_test: torch.Tensor


def draw_sequences(config: RecurrentConfig, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n sequences of the config's task and their targets, from `generator`.

    first_symbol: T symbols drawn uniformly (one-hot inputs); the target is the first
    (Bengio et al.'s "latching" and Hochreiter & Schmidhuber's experiment 2 are of this
    kind: nothing between the clue and the answer helps).
    adding (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015): each input is a
    pair (value, marker) with values uniform in [0, 1]; one marker in the first half of
    the sequence, one in the second; the target is the sum of the two marked values. The
    first marked value lies at least T/2 steps before the answer is due."""
    T = config.length
    if config.task == "first_symbol":
        symbols = torch.randint(ALPHABET, (T, n), generator=generator)
        return nn.functional.one_hot(symbols, ALPHABET).float(), symbols[0]
    values = torch.rand((T, n), generator=generator)
    first = torch.randint(0, T // 2, (n,), generator=generator)
    second = torch.randint(T // 2, T, (n,), generator=generator)
    sequence = torch.arange(n)
    markers = torch.zeros(T, n)
    markers[first, sequence] = 1.0
    markers[second, sequence] = 1.0
    return torch.stack([values, markers], 2), values[first, sequence] + values[second, sequence]


def make_task(config: RecurrentConfig) -> SequenceTask:
    """The test split: N_TEST sequences from the seed's own generator."""
    x_test, y_test = draw_sequences(config, N_TEST, torch.Generator().manual_seed(config.seed + 7919))
    if config.task == "first_symbol":
        return SequenceTask(config.task, ALPHABET, ALPHABET, 1 / ALPHABET, x_test, y_test)
    # answering 1 (the mean) is right when the sum, triangular on [0, 2], is within the tolerance of 1
    chance = 1 - (1 - ADDING_TOLERANCE) ** 2
    return SequenceTask(config.task, 2, 1, chance, x_test, y_test)


def training_batches(config: RecurrentConfig) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The training split: a fresh batch of sequences every step, from the seed's own
    generator (the tasks are synthetic, so no sequence is seen twice and nothing can be
    learnt by heart); the same batches, in the same order, for the same config."""
    generator = torch.Generator().manual_seed(config.seed + 104729)
    while True:
        yield draw_sequences(config, config.batch_size, generator)


def task_loss(task: str, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The mean over the batch: cross-entropy (first_symbol) or squared error (adding)."""
    if task == "first_symbol":
        return nn.functional.cross_entropy(prediction, target)
    return nn.functional.mse_loss(prediction[:, 0], target)


def count_correct(task: str, prediction: torch.Tensor, target: torch.Tensor) -> int:
    if task == "first_symbol":
        return int((prediction.argmax(1) == target).sum())
    return int(((prediction[:, 0] - target).abs() < ADDING_TOLERANCE).sum())


# ---- the network -------------------------------------------------------------------


class RecurrentNetwork(nn.Module):
    """One recurrent layer reading the sequence, then a Linear layer reading its last
    hidden state h_T. `weight_ih` (G·H × inputs), `weight_hh` (G·H × H), `bias_ih`,
    `bias_hh` (G·H) stack G = 1 (RNN), 4 (LSTM: input, forget, cell, output) or 3 (GRU:
    reset, update, new) blocks, as PyTorch's recurrent modules do."""

    def __init__(self, config: RecurrentConfig, input_size: int, output_size: int):
        super().__init__()
        self.cell, self.activation, self.hidden = config.cell, config.activation, config.hidden
        rows = len(BLOCKS[config.cell]) * config.hidden
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, config.hidden))
        self.bias_ih = nn.Parameter(torch.empty(rows))
        self.bias_hh = nn.Parameter(torch.empty(rows))
        self.head = nn.Linear(config.hidden, output_size)

    @property
    def has_fused_kernel(self) -> bool:
        """PyTorch has one for every cell here but the sigmoid RNN."""
        return not (self.cell == "rnn" and self.activation == "sigmoid")

    @property
    def probe_through_input(self) -> bool:
        """Whether the fused kernel can carry the probe (see the module's docstring)."""
        return self.cell == "lstm" or (self.cell == "rnn" and self.has_fused_kernel)

    def forward(self, x: torch.Tensor, probe: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The prediction from h_T, and every hidden state h_1..h_T as (T, batch, H).

        `probe`: None, or zeros of shape (T, batch, H) requiring grad; then the gradient
        of a loss with respect to probe[t − 1] is dL/dh_t, the total derivative."""
        if probe is not None and self.probe_through_input:
            return self._fused_with_probe(x, probe)
        if probe is None and self.has_fused_kernel:
            states = self._fused(x)
        else:
            states = self._unrolled(x, probe)
        return self.head(states[-1]), states

    def _fused(self, inputs: torch.Tensor, weight_ih: torch.Tensor | None = None) -> torch.Tensor:
        """All T steps in one call of the kernel behind nn.RNN / nn.LSTM / nn.GRU: the
        functions torch.rnn_tanh, torch.lstm, ... (torch._VF's), which take the weights
        as a list. Returns the hidden states, (T, batch, H)."""
        h0 = inputs.new_zeros(1, inputs.shape[1], self.hidden)
        weights = [self.weight_ih if weight_ih is None else weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]
        # has biases, layers, dropout, train, bidirectional, batch first
        flags = (True, 1, 0.0, self.training, False, False)
        if self.cell == "lstm":
            return torch.lstm(inputs, (h0, h0), weights, *flags)[0]
        if self.cell == "gru":
            return torch.gru(inputs, h0, weights, *flags)[0]
        kernel = torch.rnn_tanh if self.activation == "tanh" else torch.rnn_relu
        return kernel(inputs, h0, weights, *flags)[0]

    def _fused_with_probe(self, x: torch.Tensor, probe: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The fused kernel reads [x_t, p_{t−1}] with input weights [W_ih, W_hh], so that
        p_{t−1} reaches the loss exactly as h_{t−1} does; p_T is added to h_T. (The copy of
        W_hh is detached: its weight gradient would be a sum of products with p = 0.)"""
        earlier = torch.cat([probe.new_zeros(1, *probe.shape[1:]), probe[:-1]])  # nothing probes h_0
        weight_ih = torch.cat([self.weight_ih, self.weight_hh.detach()], 1)
        states = self._fused(torch.cat([x, earlier], 2), weight_ih)
        return self.head(states[-1] + probe[-1]), states

    def _unrolled(self, x: torch.Tensor, probe: torch.Tensor | None = None) -> torch.Tensor:
        """A Python loop over the steps (GRU and sigmoid RNN): h_t = cell(x_t, h_{t−1}) + p_t."""
        if self.cell == "rnn":
            function, weight_hh_t = ACTIVATION_FUNCTIONS[self.activation], self.weight_hh.t()
            drive = nn.functional.linear(x, self.weight_ih, self.bias_ih + self.bias_hh)  # all steps' inputs at once

            def step(t: int, h: torch.Tensor) -> torch.Tensor:
                return function(torch.addmm(drive[t], h, weight_hh_t))
        else:

            def step(t: int, h: torch.Tensor) -> torch.Tensor:
                return torch.gru_cell(x[t], h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

        h = x.new_zeros(x.shape[1], self.hidden)
        states = []
        for t in range(len(x)):
            h = step(t, h)
            if probe is not None:
                h = h + probe[t]
            states.append(h)
        return torch.stack(states)

    def rows(self, name: str) -> slice:
        """The rows of a block (see BLOCKS) in weight_ih, weight_hh and the biases."""
        i = BLOCKS[self.cell].index(name)
        return slice(i * self.hidden, (i + 1) * self.hidden)

    def block(self, name: str) -> torch.Tensor:
        """One H×H block of weight_hh by name (see BLOCKS)."""
        return self.weight_hh[self.rows(name)]


ACTIVATION_FUNCTIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


def activation_derivative(activation: str, h: torch.Tensor) -> torch.Tensor:
    """φ'(a) from the output h = φ(a), as autograd takes it (ReLU's is 0 at 0)."""
    if activation == "tanh":
        return 1 - h * h
    if activation == "sigmoid":
        return h * (1 - h)
    return (h > 0).to(h.dtype)


def build_recurrent_model(config: RecurrentConfig, task: SequenceTask | None = None) -> RecurrentNetwork:
    """The network for a config; the same config gives the same weights, drawn from its
    own generator (never the global one).

    Everything starts as PyTorch's default, U(−1/√H, 1/√H) (the output layer's too: for
    nn.Linear with H inputs that is its default). Then `init` sets each H×H block of
    W_hh (and, but for `default`, zeroes the recurrent biases); W_ih keeps the default.
    For an LSTM the forget gate's bias is then `forget_bias` (in bias_ih; bias_hh's part 0)."""
    task = task or make_task(config)
    model = RecurrentNetwork(config, task.input_size, task.output_size)
    generator = torch.Generator().manual_seed(config.seed)
    H = config.hidden
    bound = 1 / math.sqrt(H)
    with torch.no_grad():
        for parameter in model.parameters():  # registration order: ih, hh, biases, head
            parameter.uniform_(-bound, bound, generator=generator)
        if config.init != "default":
            model.bias_ih.zero_()
            model.bias_hh.zero_()
            for name in BLOCKS[config.cell]:
                model.block(name).copy_(_recurrent_block(config, generator))
        if config.cell == "lstm":
            model.bias_ih[model.rows("forget")] = config.forget_bias
            model.bias_hh[model.rows("forget")] = 0.0
    return model


def _recurrent_block(config: RecurrentConfig, generator: torch.Generator) -> torch.Tensor:
    """One H×H block of W_hh as `init` (not `default`) asks; scaled_normal's spectral
    radius is exact (up to float32 rounding): a Gaussian divided by its own radius."""
    H = config.hidden
    if config.init == "identity":
        return torch.eye(H)
    if config.init == "orthogonal":
        return nn.init.orthogonal_(torch.empty(H, H), generator=generator)
    gaussian = torch.randn(H, H, generator=generator, dtype=torch.float64)
    radius = torch.linalg.eigvals(gaussian).abs().max()
    return (gaussian * (config.spectral_radius / radius)).float()


def recurrent_spectrum(model: RecurrentNetwork, step: int) -> pd.DataFrame:
    """Each H×H block of W_hh: its spectral radius (largest |eigenvalue|: how a linear
    RNN's state grows or fades over many steps) and spectral norm (largest singular
    value: the most one step can stretch a vector), columns SPECTRUM_COLUMNS."""
    rows = []
    with torch.no_grad():
        for name in BLOCKS[model.cell]:
            block = model.block(name).double()
            if not torch.isfinite(block).all():  # (LAPACK would print errors and answer NaN)
                rows.append((step, name, math.nan, math.nan))
                continue
            radius = float(torch.linalg.eigvals(block).abs().max())
            norm = float(torch.linalg.matrix_norm(block, ord=2))
            rows.append((step, name, radius, norm))
    return pd.DataFrame(rows, columns=list(SPECTRUM_COLUMNS))


# ---- what explains the gradient at each step ------------------------------------------


@torch.no_grad()
def time_statistics(
    model: RecurrentNetwork, x: torch.Tensor, states: torch.Tensor, state_gradients: torch.Tensor
) -> np.ndarray:
    """One row per step t = 1..T, columns STATISTIC, from a batch's inputs x, its
    hidden states and dL/dh_t (all (T, batch, ·)); NaN where a column does not apply.

    - grad_rms: the root mean square of dL/dh_t over the batch and the units.
    - mean_derivative (RNN): the mean of φ'(a_t) over the batch and the units.
    - jacobian_gain (RNN): the root mean square singular value of the step's Jacobian
      J_t = ∂h_t/∂h_{t−1} = diag(φ'(a_t)) W_hh, ‖J_t‖_F / √H, averaged over the batch. It
      is the factor by which one step back multiplies the size of a gradient pointing
      in a random direction (E‖J_tᵀ v‖² = ‖J_t‖_F² ‖v‖² / H), the recurrent twin of the
      mean-field χ₁ in `theory`; the spectral norm ‖J_t‖₂ (Pascanu et al.'s worst case)
      would need an SVD per sequence and step, this costs one product. So
      grad_rms[t − 1] ≈ jacobian_gain[t] · grad_rms[t] while the gradient's direction is
      unrelated to J_t; over many steps it turns toward the directions the Jacobians
      stretch most, and decays a little slower (the default config at step 0: gain
      0.57, measured ×0.61 a step).
    - forget_gate (LSTM): the mean of f_t; along the cell state the gradient is multiplied
      by it: dL/dc_{t−1} = f_t ⊙ dL/dc_t + (the paths through h_{t−1}).
    - update_gate (GRU): the mean of z_t, the share of h_{t−1} kept in h_t
      (h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}, PyTorch's convention).
    - most_open_gate (LSTM, GRU): that gate's mean over the batch in its most open unit.
      The gradient goes back along the units that keep their memory, and they can be
      few: a trained LSTM on the adding problem had forget gates averaging 0.53 over its
      32 units and 1.00 in its most open one, which carried the gradient to t = 1.
    """
    T, H = len(states), model.hidden
    table = np.full((T, len(STATISTIC)), np.nan)
    rms = state_gradients.double().square().mean((1, 2)).sqrt()  # in float64, tiny values stay
    table[:, STATISTIC["grad_rms"]] = rms.numpy()
    if model.cell == "rnn":
        derivative = activation_derivative(model.activation, states)
        row_norms = model.weight_hh.double().square().sum(1)  # ‖J_t‖_F² = Σ_i φ'_i² ‖row i of W_hh‖²
        gain = (derivative.double().square() @ row_norms / H).sqrt()  # float64: huge weights stay finite
        table[:, STATISTIC["mean_derivative"]] = derivative.mean((1, 2)).numpy()
        table[:, STATISTIC["jacobian_gain"]] = gain.mean(1).numpy()
    else:  # a gate at every step at once, from the inputs and the previous hidden states
        previous = torch.cat([states.new_zeros(1, *states.shape[1:]), states[:-1]])
        name, column = ("forget", "forget_gate") if model.cell == "lstm" else ("update", "update_gate")
        rows = model.rows(name)
        gate = torch.sigmoid(
            nn.functional.linear(x, model.weight_ih[rows], model.bias_ih[rows])
            + nn.functional.linear(previous, model.weight_hh[rows], model.bias_hh[rows])
        )
        table[:, STATISTIC[column]] = gate.mean((1, 2)).numpy()
        table[:, STATISTIC["most_open_gate"]] = gate.mean(1).amax(1).numpy()
    return table


def pascanu_bound(model: RecurrentNetwork, length: int) -> pd.DataFrame:
    """Pascanu, Mikolov & Bengio's (2013) bound for the plain RNN,
    ‖∂h_T/∂h_t‖₂ ≤ (γ ‖W_hh‖₂)^(T−t), γ the largest value of φ' (1 for tanh and relu,
    1/4 for sigmoid), for t = 1..T: columns `t`, `bound`. Since
    dL/dh_t = (∂h_T/∂h_t)ᵀ dL/dh_T with the loss at T, grad_rms[t] ≤ bound · grad_rms[T].
    `attrs`: gamma, spectral_norm, spectral_radius of W_hh.

    The bound is loose for a random W_hh: PyTorch's default init has a spectral norm of
    ~1.1 (so the bound grows with T − t) but a spectral radius of ~0.6, and over many
    steps a product of Jacobians shrinks at about the rate of the latter (times φ'): at
    step 0 of the default config the gradient at t = 1 is 3e-11 of the one at T = 50,
    the bound 5e2. It is tight when the Jacobian is a multiple of an orthogonal matrix
    (ReLU units all active, W_hh = ρ I: exactly ρ^(T−t))."""
    if model.cell != "rnn":
        raise ValueError("Pascanu et al.'s bound is for the plain RNN (cell 'rnn')")
    gamma = ACTIVATION_TABLE[model.activation].max_derivative  # γ in Pascanu et al.'s bound
    spectrum = recurrent_spectrum(model, 0).iloc[0]
    t = np.arange(1, length + 1)
    with np.errstate(over="ignore"):  # a huge bound is inf: no bound at all
        bound = (gamma * spectrum["spectral_norm"]) ** (length - t).astype(float)
    frame = pd.DataFrame({"t": t, "bound": bound})
    frame.attrs.update(
        gamma=gamma, spectral_norm=float(spectrum["spectral_norm"]), spectral_radius=float(spectrum["spectral_radius"])
    )
    return frame


# ---- training ----------------------------------------------------------------------


def time_record_every(config: RecurrentConfig) -> int:
    """Every how many steps dL/dh_t is recorded: every step, unless that would keep more
    than MAX_TIME_ROWS rows (T rows a step): T = 200 × 20000 steps keeps every 80th."""
    max_records = max(1, MAX_TIME_ROWS // config.length)
    return max(1, math.ceil(config.steps / max_records))


class RecurrentTrainer(SteppedRun):
    """Trains one RecurrentConfig incrementally: call `step(n)` as often as you like.

    Row s of `metrics` has the loss and accuracy of the batch at optimizer step s (before
    its update) and, every few steps and at the end, the test loss and accuracy measured
    right after that step's update. The rows of `time_gradients` for step s describe the
    gradient computed at step s, with the weights before its update.
    """

    def __init__(self, config: RecurrentConfig, record_every: int | None = None):
        """`record_every`: record dL/dh_t every this many steps (and at the last step),
        e.g. `config.steps` for step 0 and the last only; never more often than
        `time_record_every(config)` (the memory budget), which is the default."""
        self.config = config
        self.task = make_task(config)
        self.model = build_recurrent_model(config, self.task)
        self.parameters = list(self.model.parameters())
        self.optimizer = Optimizer(config, self.parameters)
        self.record_every = max(time_record_every(config), record_every or 1)
        self.eval_every = test_every(config.steps)
        self.step_count = 0
        self.diverged_at: int | None = None
        self.divergence_reason: str | None = None
        self._batches = training_batches(config)
        n_records = config.steps // self.record_every + 2
        self._time = np.full((n_records, config.length, len(STATISTIC)), np.nan)
        self._recorded_steps = np.zeros(n_records, dtype=np.int64)
        self._n_records = 0
        self._metrics = np.full((config.steps, len(METRIC_COLUMNS)), np.nan)
        self._frames: dict[str, tuple[int, pd.DataFrame]] = {}
        self._initial_spectrum = recurrent_spectrum(self.model, 0)
        # Pascanu et al.'s bound for the untrained plain RNN (None for LSTM and GRU)
        self.bound = pascanu_bound(self.model, config.length) if config.cell == "rnn" else None

    def _grow(self, steps: int) -> None:
        every = coarser(self.record_every, time_record_every(self.config))
        if every > self.record_every:  # the longer run, recorded as often, would pass MAX_TIME_ROWS
            kept = np.flatnonzero(self._recorded_steps[: self._n_records] % every == 0)
            self._time, self._recorded_steps = self._time[kept], self._recorded_steps[kept]
            self._n_records = len(kept)
            self.record_every = every
            self._frames.clear()
        n_records = self._room(steps, len(self._time))
        self._time = grown(self._time, n_records)
        self._recorded_steps = grown(self._recorded_steps, n_records, np.zeros(n_records, dtype=np.int64))
        self._metrics = grown(self._metrics, steps)

    @property
    def last_recorded_step(self) -> int:
        return int(self._recorded_steps[self._n_records - 1]) if self._n_records else -1

    def _room_for_one_more(self) -> None:
        n = len(self._time) + 1  # (the room there is belongs to the grid's steps still to come)
        self._time = grown(self._time, n)
        self._recorded_steps = grown(self._recorded_steps, n, np.zeros(n, dtype=np.int64))

    def _one_step(self) -> None:
        config, s = self.config, self.step_count
        last = s == config.steps - 1
        record = self._record_this_step(s)
        x, y = next(self._batches)
        probe = torch.zeros(config.length, x.shape[1], config.hidden, requires_grad=True) if record else None
        prediction, states = self.model(x, probe)
        loss = task_loss(config.task, prediction, y)
        gradients = torch.autograd.grad(loss, self.parameters + ([probe] if record else []))
        weight_gradients = gradients[: len(self.parameters)]

        # Divergence: a step whose loss or gradient is not finite stops the run before its update.
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            reason = f"the loss became {not_finite_words(loss_value)}: the hidden states or the weights blew up"
            return self._diverge(s, reason)
        norm = nn.utils.get_total_norm(weight_gradients)
        if not torch.isfinite(norm):
            return self._diverge(s, "the gradient became Inf or NaN while the loss was still finite: it exploded")
        if record:
            rows = time_statistics(self.model, x, states, gradients[-1])
            # (the weights' gradient would be non-finite too; checked all the same)
            if not np.isfinite(rows[:, STATISTIC["grad_rms"]]).all():
                return self._diverge(s, "the gradient through time became Inf or NaN: it exploded")
            self._time[self._n_records] = rows
            self._recorded_steps[self._n_records] = s
            self._n_records += 1

        for parameter, gradient in zip(self.parameters, weight_gradients, strict=True):
            parameter.grad = gradient
        if config.grad_clip > 0:
            nn.utils.clip_grads_with_norm_(self.parameters, config.grad_clip, norm)
        self.optimizer.step()

        self._metrics[s, :3] = (s, loss_value, count_correct(config.task, prediction.detach(), y) / len(y))
        if s % self.eval_every == 0 or last:
            self._metrics[s, 3:] = self.evaluate()
        self.step_count = s + 1

    def _diverge(self, s: int, reason: str) -> None:
        self.diverged_at = s
        self.divergence_reason = f"{reason}; the run stopped before that step's update"

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float]:
        """Test loss and accuracy, in chunks of at most MAX_CELLS / (T · H) sequences (the
        memory of a training step's states), as few as that allows."""
        loss_sum, correct, finite = 0.0, 0, True
        n = self.task.x_test.shape[1]
        chunk = max(1, MAX_CELLS // (self.config.length * self.config.hidden))
        for start in range(0, n, chunk):
            x, y = self.task.x_test[:, start : start + chunk], self.task.y_test[start : start + chunk]
            prediction, _ = self.model(x)
            loss_sum += float(task_loss(self.config.task, prediction, y)) * len(y)
            correct += count_correct(self.config.task, prediction, y)
            finite = finite and bool(torch.isfinite(prediction).all())
        # (no accuracy from outputs that are no longer numbers, as the feed-forward trainer's)
        return loss_sum / n, correct / n if finite else math.nan

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per optimizer step so far, columns METRIC_COLUMNS (see the class docstring)."""
        n = self.step_count
        cached = self._frames.get("metrics")
        if cached is None or cached[0] != n:
            frame = pd.DataFrame(self._metrics[:n], columns=list(METRIC_COLUMNS)).astype({"step": "int64"})
            self._frames["metrics"] = cached = (n, frame)
        return cached[1]

    @property
    def time_gradients(self) -> pd.DataFrame:
        """One row per recorded step per time step t (1 = the first input), columns
        TIME_COLUMNS (see `time_statistics`); `attrs['record_every']`."""
        n, T = self._n_records, self.config.length
        cached = self._frames.get("time")
        if cached is None or cached[0] != n:
            values = self._time[:n].reshape(n * T, len(STATISTIC))
            frame = pd.DataFrame(
                {
                    "step": np.repeat(self._recorded_steps[:n], T),
                    "t": np.tile(np.arange(1, T + 1), n),
                    **{name: values[:, i] for name, i in STATISTIC.items()},
                }
            )
            frame.attrs["record_every"] = self.record_every
            self._frames["time"] = cached = (n, frame)
        return cached[1]

    @property
    def spectrum(self) -> pd.DataFrame:
        """Spectral radius and norm of each block of W_hh at step 0 and now (the weights
        after `step_count` updates), columns SPECTRUM_COLUMNS."""
        if self.step_count == 0:
            return self._initial_spectrum
        return pd.concat([self._initial_spectrum, recurrent_spectrum(self.model, self.step_count)], ignore_index=True)
