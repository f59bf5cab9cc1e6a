"""Benchmark (not a test): the exported CNN under PyTorch on this machine's CPU next to Whetstone's
CPU backend on the same preset, batch sizes and data. Usage, after `scripts/test.sh` (or
`cargo run --release --example export_fixtures -- target/export-check`):

    $WHETSTONE_TOOLS/venv/bin/python scripts/bench_pytorch.py [target/export-check]

Prints training and inference samples/s: the median of five timed repeats of about a second each,
with the lowest and highest, and Whetstone's from `examples/bench.rs` (one timed window each)."""
import importlib.util
import json
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import torch
import torch.nn.functional as F

root = Path(__file__).resolve().parent.parent
folder = Path(sys.argv[1] if len(sys.argv) > 1 else root / "target" / "export-check")
project = folder / "cnn_trained.bench"
with zipfile.ZipFile(folder / "cnn_trained.pytorch.zip") as archive:
    archive.extractall(project)
sys.path.insert(0, str(project))


def load(name):
    spec = importlib.util.spec_from_file_location(name, project / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


model_py, data = load("model"), load("data")
(train_x, train_y), _ = data.load(project)


def rate(work, batch, repeats=5, seconds=1.0):
    """Samples per second of `work(batch)`: the median of `repeats` timed windows, and the range."""
    work(batch)
    rates = []
    for _ in range(repeats):
        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            work(batch)
            done += batch
        rates.append(done / (time.perf_counter() - started))
    return statistics.median(rates), min(rates), max(rates)


net = model_py.Model()
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)


def train_step(batch):
    picked = torch.randint(len(train_y), (batch,))
    loss = F.cross_entropy(net(train_x[picked]), train_y[picked])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def infer(batch):
    with torch.no_grad():
        net.eval()
        net(train_x[:batch])
        net.train()


whetstone = {}
bench = subprocess.run(
    ["cargo", "run", "--quiet", "--release", "--example", "bench", "--", "cpu", "32", "256"],
    cwd=root,
    capture_output=True,
    text=True,
    check=True,
)
for line in bench.stdout.splitlines():
    row = json.loads(line)
    if row["model"] == "cnn":
        whetstone[row["batch"]] = (row["train_samples_per_s"], row["infer_samples_per_s"])

print("CNN preset on the digits, CPU, samples/s: median of 5 [range]; Whetstone's CPU backend runs one thread")
for threads in sorted({1, torch.get_num_threads()}):
    torch.set_num_threads(threads)
    for batch in (32, 256):
        (train, tlo, thi), (inference, ilo, ihi) = rate(train_step, batch), rate(infer, batch)
        w_train, w_infer = whetstone[batch]
        print(
            f"PyTorch, {threads} thread{'s' if threads > 1 else ''}, batch {batch:>3}: training {train:6.0f} "
            f"[{tlo:.0f}–{thi:.0f}] against Whetstone's {w_train:6.0f} ({w_train / train:.2f}×); "
            f"inference {inference:6.0f} [{ilo:.0f}–{ihi:.0f}] against {w_infer:6.0f} ({w_infer / inference:.2f}×)"
        )
