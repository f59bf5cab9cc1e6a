"""The data of a Whetstone experiment as the run saw it: its training and held-out splits (the
samples themselves, so the split is the run's, not drawn again), the feature transform fitted on
the training split, and the resampling the run asked for.

`load()` gives the raw samples; `transform(x, fitted)` puts raw samples through the fitted
transform (as the model takes them); `resample(x, y, config, generator)` evens out the classes or
draws the bootstrap sample as the run's settings say; `draw` and `augment` augment images as
Whetstone does.
"""

import json
import re
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
    replacement, seeded by `bootstrap`) when it is set, then every class resampled to the largest class's size
    (oversample) or the smallest's (undersample) when `rebalance` says so."""
    if config.get("bootstrap") is not None:
        draw = torch.Generator().manual_seed(config["bootstrap"])
        picked = torch.randint(len(y), (len(y),), generator=draw)
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


AUGMENT_PARAMS = 16
MASK = 0xFFFFFFFF


def draw(pipeline, n, height, width, generator):
    """Each of `n` samples' augmentation parameters [n, 16], drawn as Whetstone's `augment::draw`
    draws them: the inverse map (a, b, c, d) and offset of the geometry, brightness, contrast,
    saturation, hue, noise, and the cutout's rectangle. Every augmentation draws its numbers whether
    or not it applies; mixup, which mixes samples, is the training step's."""
    w, h = float(width), float(height)
    m = [torch.ones(n), torch.zeros(n), torch.zeros(n), torch.ones(n)]
    t = [torch.zeros(n), torch.zeros(n)]
    brightness, contrast, saturation, hue, noise = torch.zeros(n), torch.ones(n), torch.ones(n), torch.zeros(n), torch.zeros(n)
    cutout = [torch.zeros(n) for _ in range(4)]

    def compose(apply, k):
        new = [m[0] * k[0] + m[1] * k[2], m[0] * k[1] + m[1] * k[3], m[2] * k[0] + m[3] * k[2], m[2] * k[1] + m[3] * k[3]]
        for i in range(4):
            m[i] = torch.where(apply, new[i], m[i])

    for a in pipeline:
        kind = a["type"]
        if kind == "mixup":
            continue
        u = torch.rand(n, 4, generator=generator)
        apply, u1, u2, u3 = u[:, 0] < a["p"], u[:, 1], u[:, 2], u[:, 3]
        strength = next((a[k] for k in ("degrees", "amount", "fraction", "std", "size") if a.get(k) is not None), 0.0)

        def sym(v, r):
            return (2 * v - 1) * r

        one, zero = torch.ones(n), torch.zeros(n)
        if kind == "flip_horizontal":
            compose(apply, [-one, zero, zero, one])
        elif kind == "flip_vertical":
            compose(apply, [one, zero, zero, -one])
        elif kind == "rotate":
            angle = torch.deg2rad(sym(u1, strength))
            s, c = torch.sin(angle), torch.cos(angle)
            compose(apply, [c, -s, s, c])
        elif kind == "scale":
            zoom = 1 / (1 + sym(u1, strength))
            compose(apply, [zoom, zero, zero, zoom])
        elif kind == "translate":
            t[0] = torch.where(apply, t[0] - sym(u1, strength) * w, t[0])
            t[1] = torch.where(apply, t[1] - sym(u2, strength) * h, t[1])
        elif kind == "crop":
            cut = strength * u1
            compose(apply, [1 - cut, zero, zero, 1 - cut])
            t[0] = torch.where(apply, t[0] + sym(u2, cut / 2) * w, t[0])
            t[1] = torch.where(apply, t[1] + sym(u3, cut / 2) * h, t[1])
        elif kind == "brightness":
            brightness = torch.where(apply, brightness + sym(u1, strength), brightness)
        elif kind == "contrast":
            contrast = torch.where(apply, contrast * (1 + sym(u1, strength)), contrast)
        elif kind == "saturation":
            saturation = torch.where(apply, saturation * (1 + sym(u1, strength)).clamp(min=0), saturation)
        elif kind == "hue":
            hue = torch.where(apply, hue + torch.deg2rad(sym(u1, strength)), hue)
        elif kind == "noise":
            noise = torch.where(apply, torch.full((n,), float(strength)), noise)
        elif kind == "cutout":
            sx, sy, cx, cy = strength * w, strength * h, u1 * w, u2 * h
            box = [cx - sx / 2, cy - sy / 2, cx + sx / 2, cy + sy / 2]
            cutout = [torch.where(apply, box[i], cutout[i]) for i in range(4)]
        else:
            raise ValueError(f"unknown augmentation {kind!r}")
    return torch.stack([*m, *t, brightness, contrast, saturation, hue, noise, *cutout, torch.zeros(n)], 1)


def encode(texts, vocabulary=None):
    """Texts as the token ids a text model reads [n, length], by Whetstone's rules
    (`data::text::Vocabulary::encode`): characters, or words (runs of letters and digits,
    lower-cased); lower-cased first when the vocabulary says so; id i + 2 for the vocabulary's
    i-th token, 1 for any other, cut to the length or padded with 0."""
    vocabulary = vocabulary or experiment()["vocabulary"]
    ids = {token: i + 2 for i, token in enumerate(vocabulary["tokens"])}
    length = vocabulary["max_len"]
    out = torch.zeros(len(texts), length)
    for row, text in enumerate(texts):
        if vocabulary.get("lowercase"):
            text = text.lower()
        if vocabulary["level"] == "words":
            tokens = [w.lower() for w in re.split(r"[^\w]|_", text) if w]
        else:
            tokens = list(text)
        for i, token in enumerate(tokens[:length]):
            out[row, i] = ids.get(token, 1)
    return out


TEXT_AUGMENTATIONS = ("delete_tokens", "swap_tokens", "insert_tokens", "mask_tokens")


def augment_text(x, pipeline, vocab, generator):
    """Whetstone's token augmentations (`augment::text`) of a batch of texts [n, length] of token
    ids (padding 0 after each text's tokens): each with probability p per text, every token of it
    left out, swapped with the next, preceded by a random token of the vocabulary, or replaced by the
    unknown token (1) with probability `rate`. The same rules as Whetstone's, drawn from PyTorch's
    generator."""
    out = x.clone()
    length = x.shape[1]
    for row in range(x.shape[0]):
        tokens = [t for t in x[row].tolist() if t != 0]
        for a in pipeline:
            if torch.rand((), generator=generator).item() >= a["p"]:
                continue
            rate = a["rate"]
            coins = torch.rand(2 * len(tokens) + 1, generator=generator).tolist()
            if a["type"] == "delete_tokens":
                kept = [t for t, c in zip(tokens, coins) if c >= rate]
                tokens = kept if kept else tokens[:1]
            elif a["type"] == "swap_tokens":
                i = 0
                while i + 1 < len(tokens):
                    if coins[i] < rate:
                        tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
                        i += 1
                    i += 1
            elif a["type"] == "insert_tokens" and vocab > 2:
                picks = torch.randint(2, vocab, (len(tokens),), generator=generator).tolist()
                grown = []
                for t, c, pick in zip(tokens, coins, picks):
                    if c < rate:
                        grown.append(pick)
                    grown.append(t)
                tokens = grown[:length]
            elif a["type"] == "mask_tokens":
                tokens = [1 if c < rate else t for t, c in zip(tokens, coins)]
        out[row] = torch.tensor(tokens + [0] * (length - len(tokens)), dtype=x.dtype)
    return out


def pcg_hash(v):
    """Whetstone's PCG output hash (`rng::pcg_hash`) of 32-bit values held in int64."""
    state = (v * 747796405 + 2891336453) & MASK
    word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) & MASK
    return ((word >> 22) ^ word) & MASK


def counter_normal(seed, index):
    """Whetstone's standard normal number of element `index` under `seed`: Box–Muller on two
    counter-based uniforms (`rng::counter_uniform`), the same on every device."""
    key = pcg_hash(torch.tensor(seed & MASK, dtype=torch.int64, device=index.device))

    def uniform(i):
        return (pcg_hash((i & MASK) ^ key) >> 8).to(torch.float32) / 16777216.0

    u1, u2 = uniform(2 * index), uniform(2 * index + 1)
    return torch.sqrt(-2.0 * torch.log(1.0 - u1)) * torch.cos(6.283185307179586 * u2)


def augment(x, q, seed):
    """Images [n, c, h, w] in [0, 1] augmented by their parameters q [n, 16] (from `draw`), as
    Whetstone's `augment::apply`: each output pixel sampled bilinearly (zero outside) where the
    inverse map sends it, brightness then contrast about mid-grey, for three channels saturation and
    hue, Gaussian noise (Whetstone's own draws under `seed`), the cutout set to 0, all in [0, 1]."""
    n, c, h, w = x.shape
    on = {"dtype": torch.float32, "device": x.device}
    ys, xs = torch.meshgrid(torch.arange(h, **on), torch.arange(w, **on), indexing="ij")
    ox, oy = xs + 0.5 - w / 2, ys + 0.5 - h / 2
    col = lambda k: q[:, k].reshape(n, 1, 1)  # noqa: E731
    ix = col(0) * ox + col(1) * oy + col(4) + w / 2 - 0.5
    iy = col(2) * ox + col(3) * oy + col(5) + h / 2 - 0.5
    grid = torch.stack([(2 * ix + 1) / w - 1, (2 * iy + 1) / h - 1], -1)
    v = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    v = ((v + col(6)[:, None] - 0.5) * col(7)[:, None] + 0.5).clamp(0, 1)
    if c == 3:
        grey = 0.299 * v[:, 0:1] + 0.587 * v[:, 1:2] + 0.114 * v[:, 2:3]
        v = grey + (v - grey) * col(8)[:, None]
        s, co = torch.sin(q[:, 9]).reshape(n, 1, 1), torch.cos(q[:, 9]).reshape(n, 1, 1)
        third = (1 - co) / 3
        same, plus, minus = co + third, third + s / 3**0.5, third - s / 3**0.5
        r, g, b = v[:, 0], v[:, 1], v[:, 2]
        v = torch.stack(
            [same * r + minus * g + plus * b, plus * r + same * g + minus * b, minus * r + plus * g + same * b], 1
        ).clamp(0, 1)
    index = torch.arange(n * c * h * w, dtype=torch.int64, device=x.device).reshape(n, c, h, w)
    v = (v + col(10)[:, None] * counter_normal(seed, index)).clamp(0, 1)
    fx, fy = xs + 0.5, ys + 0.5
    cut = (fx >= col(11)) & (fx < col(13)) & (fy >= col(12)) & (fy < col(14))
    return torch.where(cut[:, None], torch.zeros_like(v), v)
