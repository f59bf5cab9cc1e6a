"""Runs the ONNX files that `examples/export_fixtures.rs` exported in onnxruntime and checks that
their probabilities match Whetstone's on the same inputs. Usage: check.py FIXTURE_DIR"""
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

folder = Path(sys.argv[1])
cases = json.loads((folder / "cases.json").read_text())
assert cases, "no cases were exported"
for case in cases:
    name = case["name"]
    inputs = np.fromfile(folder / f"{name}.inputs.f32", dtype="<f4").reshape([-1, *case["input"]])
    expected = np.fromfile(folder / f"{name}.expected.f32", dtype="<f4").reshape(len(inputs), case["classes"])
    session = ort.InferenceSession(str(folder / f"{name}.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(["probabilities"], {"input": inputs})
    worst = float(np.abs(got - expected).max())
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, expected {expected.shape}"
    assert worst < 1e-4, f"{name}: onnxruntime differs from Whetstone by up to {worst}"
    assert (got.argmax(1) == expected.argmax(1)).all(), f"{name}: a predicted class differs"
    print(f"ok {name}: {len(inputs)} samples, largest difference {worst:.2e}")
