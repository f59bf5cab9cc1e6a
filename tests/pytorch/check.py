"""Checks the PyTorch projects that `examples/export_fixtures.rs` exported: each `.zip` unpacks
(every file's CRC checked) into the files the project promises, its pinned requirements are the
packages installed here, its `data.py` gives the run's held-out samples and puts them through the
fitted feature transform as Whetstone does, its `model.py` loads `model.safetensors` as it is and
gives Whetstone's probabilities on the same inputs (within 1e-4, the same classes), a training step
reaches every parameter, a changed spec builds, and `save` writes the model back as `NAME.resaved.safetensors` for
`export_fixtures verify`; `train.py`'s learning rates are Whetstone's for every schedule.
Usage: check.py FIXTURE_DIR"""
import importlib.metadata
import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


folder = Path(sys.argv[1])
cases = json.loads((folder / "cases.json").read_text())
assert cases, "no cases were exported"
for case in cases:
    name = case["name"]
    project = folder / f"{name}.pytorch"
    with zipfile.ZipFile(folder / f"{name}.pytorch.zip") as archive:
        assert archive.testzip() is None, f"{name}: a file of the project is damaged"
        files = archive.namelist()
        expected_files = ["README.md", "requirements.txt", "experiment.json", "model.py", "data.py", "train.py",
                          "model.safetensors", "data.safetensors"]
        assert files == expected_files, f"{name}: {files}"
        archive.extractall(project)
    for line in (project / "requirements.txt").read_text().split():
        package, version = line.split("==")
        installed = importlib.metadata.version(package)
        assert installed == version, f"{name}: requires {package} {version}, checked with {installed}"

    module = load_module(f"model_{name}", project / "model.py")
    data = load_module(f"data_{name}", project / "data.py")
    model, header = module.load(project / "model.safetensors")
    assert len(header["classes"]) == case["classes"], f"{name}: classes {header['classes']}"

    inputs = np.fromfile(folder / f"{name}.model_inputs.f32", dtype="<f4").reshape([-1, *module.INPUT])
    raw = np.fromfile(folder / f"{name}.inputs.f32", dtype="<f4").reshape([len(inputs), *case["input"]])
    (_, _), (val_x, _) = data.load(project)
    assert np.array_equal(val_x[: len(raw)].numpy(), raw, equal_nan=True), f"{name}: data.py's held-out samples differ"
    fitted = data.experiment(project)["fitted"]
    transformed = data.transform(torch.from_numpy(raw), fitted).numpy()
    worst = float(np.abs(transformed - inputs).max())
    assert worst < 1e-5, f"{name}: data.py's feature transform differs from Whetstone's by up to {worst}"
    expected = np.fromfile(folder / f"{name}.expected.f32", dtype="<f4").reshape(len(inputs), case["classes"])
    with torch.no_grad():
        got = model(torch.from_numpy(inputs)).softmax(1).numpy()
    worst = float(np.abs(got - expected).max())
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, expected {expected.shape}"
    assert worst < 1e-4, f"{name}: PyTorch differs from Whetstone by up to {worst}"
    assert (got.argmax(1) == expected.argmax(1)).all(), f"{name}: a predicted class differs"

    # A model of another spec builds from it (what a search does): a dropout before the last layer.
    changed = json.loads(json.dumps(module.SPEC))
    changed["layers"].insert(len(changed["layers"]) - 1, {"type": "dropout", "rate": 0.1})
    out = module.Model(changed).eval()(torch.from_numpy(inputs))
    assert out.shape == (len(inputs), case["classes"]), f"{name}: a changed spec gives {tuple(out.shape)}"

    # A fresh model trains: every parameter gets a gradient.
    fresh = module.Model().train()
    fresh(torch.from_numpy(inputs)).logsumexp(1).sum().backward()
    missing = [n for n, p in fresh.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"{name}: no gradient reaches {missing}"

    module.save(model, folder / f"{name}.resaved.safetensors", header)
    print(f"ok {name}: {len(inputs)} samples, largest difference {worst:.2e}")

# train.py's learning rate, step by step, against Whetstone's plan for every kind of schedule.
sys.path.insert(0, str(folder / f"{cases[0]['name']}.pytorch"))
train = load_module("train", folder / f"{cases[0]['name']}.pytorch" / "train.py")
for plan in json.loads((folder / "schedules.json").read_text()):
    got = [
        train.rate(plan["schedule"], plan["lr"], step, plan["steps_per_epoch"], plan["epochs"])
        * train.warmup(step, plan["warmup_steps"])
        for step in range(len(plan["rates"]))
    ]
    assert np.allclose(got, plan["rates"], rtol=1e-5, atol=1e-7), f"{plan['schedule']}: {got} against {plan['rates']}"
    print(f"ok schedule {plan['schedule']['type']}: {len(got)} steps")

# data.py's augmentation of the same images by the same parameters and seed as Whetstone's.
for case in json.loads((folder / "augment.json").read_text()):
    name, shape = case["name"], case["shape"]
    read = lambda part: np.fromfile(folder / f"augment.{name}.{part}.f32", dtype="<f4")  # noqa: E731
    x, params, expected = read("x").reshape(shape), read("params").reshape(shape[0], -1), read("expected").reshape(shape)
    data = load_module("data_augment", folder / f"{cases[0]['name']}.pytorch" / "data.py")
    got = data.augment(torch.from_numpy(x), torch.from_numpy(params), case["seed"]).numpy()
    worst = float(np.abs(got - expected).max())
    assert worst < 1e-4, f"augmentation {name}: data.py differs from Whetstone's by up to {worst}"
    drawn = data.draw(case["pipeline"], 64, shape[2], shape[3], torch.Generator().manual_seed(1))
    assert drawn.shape == (64, 16) and torch.isfinite(drawn).all(), f"augmentation {name}: draw gives {drawn.shape}"
    print(f"ok augmentation {name}: {shape[0]} images, largest difference {worst:.2e}")

# data.py's token augmentation follows Whetstone's rules (`augment::text`), its encoding of texts
# gives Whetstone's token ids, and train.py trains a text model with token augmentation.
name = "tokens_transformer"
project = folder / f"{name}.pytorch"
sys.path.insert(0, str(project))


def module_tokens_header(project):
    return load_module("model_tokens_header", project / "model.py").load(project / "model.safetensors")[1]


data = load_module("data_tokens", project / "data.py")
train = load_module("train_tokens", project / "train.py")
word = torch.tensor([[2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 0.0, 0.0]])
draws = torch.Generator().manual_seed(1)
for kind in data.TEXT_AUGMENTATIONS:
    same = data.augment_text(word, [{"type": kind, "p": 1.0, "rate": 0.0}], 20, draws)
    assert torch.equal(same, word), f"{kind} at rate 0 changed {word.tolist()} into {same.tolist()}"
for _ in range(50):
    kept = [t for t in data.augment_text(word, [{"type": "delete_tokens", "p": 1.0, "rate": 0.5}], 20, draws)[0].tolist() if t]
    assert kept and kept == sorted(kept), f"deletion gave {kept}"
    swapped = data.augment_text(word, [{"type": "swap_tokens", "p": 1.0, "rate": 0.5}], 20, draws)[0]
    assert sorted(swapped[:5].tolist()) == word[0, :5].tolist(), f"a swap gave {swapped.tolist()}"
    assert all(abs(t - 2 - i) <= 1 for i, t in enumerate(swapped[:5].tolist())), f"a swap gave {swapped.tolist()}"
    grown = data.augment_text(word, [{"type": "insert_tokens", "p": 1.0, "rate": 0.5}], 20, draws)[0].tolist()
    assert all(t == 0 or 2 <= t < 20 for t in grown) and sum(t != 0 for t in grown) >= 5, f"insertion gave {grown}"
    masked = data.augment_text(word, [{"type": "mask_tokens", "p": 1.0, "rate": 0.5}], 20, draws)[0].tolist()
    assert all(a == b or (a == 1 and b != 0) for a, b in zip(masked, word[0].tolist())), f"masking gave {masked}"
for case in json.loads((folder / "encoding.json").read_text()):
    v = case["vocabulary"]
    got = data.encode(case["texts"], v).tolist()
    assert got == case["ids"], f"{v['level']} (lower-cased: {v['lowercase']}): data.py reads {got}, Whetstone {case['ids']}"
    print(f"ok encoding by {v['level']} (lower-cased: {v['lowercase']}): {len(got)} texts as Whetstone reads them")
# The project's own vocabulary, from experiment.json, as its model file has it.
assert data.encode(["Bad", "hik"]).tolist() == [[3, 2, 5] + [0] * 7, [9, 10, 1] + [0] * 7]
assert module_tokens_header(project)["vocabulary"] == data.experiment(project)["vocabulary"]
setup = data.experiment(project)
config = {**setup["config"], "augment": [{"type": "mask_tokens", "p": 1.0, "rate": 0.3},
                                         {"type": "delete_tokens", "p": 0.5, "rate": 0.1}]}
net, history = train.fit(setup, config=config, epochs=1, splits=data.load(project), log=lambda *_, **__: None)
assert len(history) == 2, f"one epoch of a text model with token augmentation gave {history}"
print("ok token augmentation: deletion, swap, insertion and masking as Whetstone's; a text model trains with them")
