"""The model of a Whetstone experiment as a PyTorch module.

Its parameters are named and shaped as in the `model.safetensors` file Whetstone writes, so
`load` reads such a file as it is, and `save` writes one that Whetstone's "Load file…" opens.
The model takes samples of shape INPUT as the run's layers saw them: after the run's feature
transform, when it had one (kept in the file's header under "features").
"""

import json
import math

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn


def initialise(weight, init, fan_in, fan_out):
    """Whetstone's initialisation: He (normal, std √(2/fan_in)) or Xavier (uniform within
    ±√(6/(fan_in + fan_out)))."""
    with torch.no_grad():
        if init == "he":
            weight.normal_(0.0, math.sqrt(2.0 / fan_in))
        else:
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            weight.uniform_(-limit, limit)
