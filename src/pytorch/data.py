"""The data of a Whetstone experiment as the run saw it: its training and held-out splits (the
samples themselves, so the split is the run's, not drawn again), the feature transform fitted on
the training split, and the resampling the run asked for.

`load()` gives the raw samples; `transform(x, fitted)` puts raw samples through the fitted
transform (as the model takes them); `resample(x, y, config, generator)` evens out the classes or
draws the bootstrap sample as the run's settings say.
"""

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent


def experiment(folder=HERE):
    """The experiment's settings (experiment.json): the data set's name, the model spec, the
    training settings, the class names and the fitted feature transform."""
    return json.loads((Path(folder) / "experiment.json").read_text())


def load(folder=HERE):
    """The training and held-out splits, each as (x, y): raw samples [n, *shape] and class indices
    [n]."""
    path = Path(folder) / "data.safetensors"
    tensors = load_file(path)
    with safe_open(path, framework="pt") as f:
        divisor = float(f.metadata().get("divisor", "1"))

    def split(name):
        x = tensors[f"{name}.x"]
        x = x.float() / divisor if x.dtype == torch.uint8 else x
        return x, tensors[f"{name}.y"]

    return split("train"), split("val")


def transform(x, fitted):
    """Raw samples through the fitted feature transform (None: none), as the model takes them."""
    if not fitted:
        return x
    if fitted.get("image"):
        return image_transform(x, fitted["image"])
    if fitted.get("columns"):
        return table_transform(x, fitted)
    return x


def image_transform(x, fit):
    """Images [n, c, h, w]: greyscale (luminance for three channels, else the channels' mean), an
    edge channel (the Sobel gradient's magnitude of the grey image, edges clamped, over 4), then
    each output channel standardised by its fitted mean and standard deviation."""
    if x.shape[1] == 3:
        grey = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    else:
        grey = x.mean(1)
    parts = [grey[:, None] if fit["grayscale"] else x]
    if fit["edges"]:
        padded = F.pad(grey[:, None], (1, 1, 1, 1), mode="replicate")
        sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=x.device)
        gx = F.conv2d(padded, sobel[None, None])
        gy = F.conv2d(padded, sobel.t()[None, None])
        parts.append(torch.sqrt(gx * gx + gy * gy) / 4.0)
    out = torch.cat(parts, 1)
    mean = torch.tensor(fit["mean"], device=x.device).reshape(1, -1, 1, 1)
    std = torch.tensor(fit["std"], device=x.device).reshape(1, -1, 1, 1)
    return (out - mean) / std


def table_transform(x, fitted):
    """Table rows [n, columns] (NaN where a value is missing): each column filled in, then one-hot
    codes for a categorical column, or (numeric) a signed log where asked and (v − shift) / scale;
    then the products of pairs of outputs (polynomial features)."""
    outputs = []
    for k, column in enumerate(fitted["columns"]):
        v = x[:, k]
        v = torch.where(torch.isnan(v), torch.full_like(v, column["fill"]), v)
        if column.get("one_hot"):
            outputs.extend((v == j).float() for j in range(len(column["one_hot"])))
            continue
        if column["log"]:
            v = torch.sign(v) * torch.log1p(v.abs())
        outputs.append((v - column["shift"]) / column["scale"])
    out = torch.stack(outputs, 1)
    products = fitted.get("products") or []
    if products:
        out = torch.cat([out, torch.stack([out[:, a] * out[:, b] for a, b in products], 1)], 1)
    return out


def resample(x, y, config, generator):
    """The training split as the run trains on it: a bootstrap sample (as many samples, drawn with
    replacement) when `bootstrap` is set, then every class resampled to the largest class's size
    (oversample) or the smallest's (undersample) when `rebalance` says so."""
    if config.get("bootstrap") is not None:
        picked = torch.randint(len(y), (len(y),), generator=generator)
        x, y = x[picked], y[picked]
    rebalance = config.get("rebalance")
    if rebalance in ("oversample", "undersample"):
        classes = [torch.nonzero(y == c).flatten() for c in y.unique()]
        sizes = [len(c) for c in classes]
        target = max(sizes) if rebalance == "oversample" else min(sizes)
        picked = []
        for members in classes:
            order = members[torch.randperm(len(members), generator=generator)]
            extra = members[torch.randint(len(members), (max(0, target - len(members)),), generator=generator)]
            picked.append(torch.cat([order, extra])[:target])
        picked = torch.cat(picked)
        x, y = x[picked], y[picked]
    return x, y


def class_weights(y, classes):
    """Each class's weight in the loss when the run weights classes: n / (classes · count), 0 for a
    class with no sample."""
    counts = torch.bincount(y, minlength=classes).float()
    return torch.where(counts > 0, len(y) / (classes * counts.clamp(min=1)), torch.zeros_like(counts))
