"""Checks the PyTorch projects that `examples/export_fixtures.rs` exported: each `.zip` unpacks
(every file's CRC checked) into the files the project promises, its pinned requirements are the
packages installed here, its `model.py` loads `model.safetensors` as it is and gives Whetstone's
probabilities on the same inputs (within 1e-4, the same classes), a training step reaches every
parameter, and `save` writes the model back as `NAME.resaved.safetensors` for
`export_fixtures verify`. Usage: check.py FIXTURE_DIR"""
import importlib.metadata
import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch

folder = Path(sys.argv[1])
cases = json.loads((folder / "cases.json").read_text())
assert cases, "no cases were exported"
for case in cases:
    name = case["name"]
    project = folder / f"{name}.pytorch"
    with zipfile.ZipFile(folder / f"{name}.pytorch.zip") as archive:
        assert archive.testzip() is None, f"{name}: a file of the project is damaged"
        files = archive.namelist()
        assert files == ["README.md", "requirements.txt", "model.py", "model.safetensors"], f"{name}: {files}"
        archive.extractall(project)
    for line in (project / "requirements.txt").read_text().split():
        package, version = line.split("==")
        installed = importlib.metadata.version(package)
        assert installed == version, f"{name}: requires {package} {version}, checked with {installed}"

    spec = importlib.util.spec_from_file_location(f"model_{name}", project / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model, header = module.load(project / "model.safetensors")
    assert len(header["classes"]) == case["classes"], f"{name}: classes {header['classes']}"

    inputs = np.fromfile(folder / f"{name}.model_inputs.f32", dtype="<f4").reshape([-1, *module.INPUT])
    expected = np.fromfile(folder / f"{name}.expected.f32", dtype="<f4").reshape(len(inputs), case["classes"])
    with torch.no_grad():
        got = model(torch.from_numpy(inputs)).softmax(1).numpy()
    worst = float(np.abs(got - expected).max())
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, expected {expected.shape}"
    assert worst < 1e-4, f"{name}: PyTorch differs from Whetstone by up to {worst}"
    assert (got.argmax(1) == expected.argmax(1)).all(), f"{name}: a predicted class differs"

    # A fresh model trains: every parameter gets a gradient.
    fresh = module.Model().train()
    fresh(torch.from_numpy(inputs)).logsumexp(1).sum().backward()
    missing = [n for n, p in fresh.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"{name}: no gradient reaches {missing}"

    module.save(model, folder / f"{name}.resaved.safetensors", header)
    print(f"ok {name}: {len(inputs)} samples, largest difference {worst:.2e}")
