"""Training parity of the exported PyTorch projects: for each run of `training.json` (written by
`examples/export_fixtures.rs`), `train.py` trains the model from the same initial weights on the
same split with the run's settings. The batches' order and random draws differ from Whetstone's
(another generator), and a run's held-out accuracy moves by a point or two with them, so both
train with three seeds from the same initial weights and the medians must be within 2 points; the
first run is trained again by `torchrun --nproc_per_node=2` (DistributedDataParallel, gloo), which
must be within 2 points of Whetstone's median too.
Before that, every run's settings take three steps on one whole batch (so that no order is
involved) from the same weights, and `train.py` must end with Whetstone's weights: the optimiser,
schedule, warm-up, penalties, clipping and class weights step for step.
Prints every accuracy and the time each took. Usage: train_check.py FIXTURE_DIR"""
import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

folder = Path(sys.argv[1]).resolve()
runs = json.loads((folder / "training.json").read_text())
assert runs, "no training runs were exported"
venv = Path(sys.executable).parent


def train(project, command, out, name):
    started = time.time()
    result = subprocess.run(
        [*command, "--init", str(folder / f"{name}.initial.safetensors"), "--out", out],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"{project.name}: {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    epochs = re.findall(r"^epoch \d+:", result.stdout, re.M)
    final = re.search(r"held-out accuracy ([\d.]+)", result.stdout)
    assert final and epochs, f"{project.name}: no result in\n{result.stdout}"
    return float(final.group(1)), len(epochs), time.time() - started


from safetensors.torch import load_file  # noqa: E402

for run in runs:
    name = run["name"]
    project = folder / f"{name}.steps.pytorch"
    with zipfile.ZipFile(folder / f"{name}.steps.pytorch.zip") as archive:
        archive.extractall(project)
    train(project, [sys.executable, "train.py"], "steps.safetensors", name)
    got, want = load_file(project / "steps.safetensors"), load_file(folder / f"{name}.steps.expected.safetensors")
    initial = load_file(folder / f"{name}.initial.safetensors")
    assert got.keys() == want.keys(), f"{name}: tensors {sorted(got)} against {sorted(want)}"
    for key in want:
        worst = (got[key] - want[key]).abs().max().item()
        moved = (want[key] - initial[key]).abs().max().item()
        assert worst <= 1e-5 + 1e-3 * moved, f"{name}: {key} differs from Whetstone's by {worst} after steps that moved it {moved}"
    print(f"ok {name}: three whole-batch steps end at Whetstone's weights", flush=True)

for i, run in enumerate(runs):
    name = run["name"]
    project = folder / f"{name}.pytorch"
    with zipfile.ZipFile(folder / f"{name}.pytorch.zip") as archive:
        archive.extractall(project)
    commands = [(f"train.py, seed {seed}", [sys.executable, "train.py", "--seed", str(seed)]) for seed in (1, 2, 3)]
    if i == 0:
        commands.append(("torchrun, 2 processes", [str(venv / "torchrun"), "--standalone", "--nproc_per_node=2", "train.py"]))
    results = []
    for label, command in commands:
        accuracy, epochs, seconds = train(project, command, f"{name}.out.safetensors", name)
        results.append(accuracy)
        print(f"   {name} ({label}): PyTorch {accuracy:.4f} after {epochs} epochs; {seconds:.1f} s", flush=True)
    median = sorted(results[:3])[1]
    whetstone = sorted(run["accuracies"])[1]
    shown = ", ".join(f"{a:.4f}" for a in run["accuracies"])
    for label, accuracy in [("median of three seeds", median)] + [(c[0], a) for c, a in zip(commands[3:], results[3:])]:
        gap = abs(accuracy - whetstone)
        print(f"{'ok' if gap <= 0.02 else 'FAIL'} {name} ({label}): PyTorch {accuracy:.4f}, Whetstone's median {whetstone:.4f} ({shown})", flush=True)
        assert gap <= 0.02, f"{name} ({label}): held-out accuracy {accuracy:.4f} against Whetstone's {whetstone:.4f}"
