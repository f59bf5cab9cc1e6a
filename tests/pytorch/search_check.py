"""The exported search (`search.py`, Optuna), on the fixtures `examples/export_fixtures.rs` wrote:
1. `apply` puts every case of `apply.json` into the spec and settings exactly as Whetstone's core
   did (`tune::apply`);
2. two `search.py` processes on one SQLite storage run the study's six trials between them, each
   process some, and the best trial in the storage is the one both report and write to best.json;
   `train.py --settings best.json` trains it to the score the trial had;
3. each other strategy runs in one process as its sampler and pruner should: a grid tries its
   points (as many as the budget allows) once each, Bayesian optimisation spends its budget, successive halving prunes trials
   after their first rung.
Usage: search_check.py FIXTURE_DIR"""
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import optuna

folder = Path(sys.argv[1]).resolve()
project = folder / "search.pytorch"
shutil.rmtree(project, ignore_errors=True)
with zipfile.ZipFile(folder / "search.pytorch.zip") as archive:
    archive.extractall(project)
sys.path.insert(0, str(project))
import search  # noqa: E402

tables = search.settings(project)
cases = json.loads((folder / "apply.json").read_text())
assert cases, "no trial cases were exported"
for case in cases:
    spec, config = search.apply(case["spec"], case["config"], case["values"], tables, case["epochs"])
    assert spec == case["expected"]["spec"], f"{case['values']}: spec\n{spec}\nagainst Whetstone's\n{case['expected']['spec']}"
    assert config == case["expected"]["config"], f"{case['values']}: settings\n{config}\nagainst Whetstone's\n{case['expected']['config']}"
print(f"ok search.apply: {len(cases)} trials put into their runs as the core does", flush=True)


def run(command, env=None):
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def trials_of(study, state):
    return [t for t in study.get_trials(deepcopy=False) if t.state == state]


# 2. Two processes, one study.
storage = f"sqlite:///{project / 'search.db'}"
command = [sys.executable, "search.py", "--storage", storage, "--threads", "1"]
processes = [
    subprocess.Popen([*command, "--out", f"best{i}.json"], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for i in range(2)
]
outputs = []
for p in processes:
    out, err = p.communicate(timeout=900)
    assert p.returncode == 0, f"search.py failed:\n{out}\n{err}"
    outputs.append(out)
study = optuna.load_study(study_name="whetstone-search", storage=storage)
complete = trials_of(study, optuna.trial.TrialState.COMPLETE)
budget = tables["budget"]
assert sorted(t.number for t in complete) == list(range(budget)), f"finished trials {[t.number for t in complete]}"
beyond = [t for t in study.get_trials(deepcopy=False) if t.number >= budget]
assert all(t.user_attrs.get("beyond_budget") for t in beyond), "a trial past the budget trained"
for i, out in enumerate(outputs):
    ran = re.findall(r"^trial (\d+) ", out, re.M)
    assert ran, f"process {i} ran no trial:\n{out}"
    print(f"   process {i} ran trials {', '.join(ran)}", flush=True)
assert len({tuple(sorted(t.params.items())) for t in complete}) == budget, "two trials had the same values"
best = study.best_trial
assert best.value == max(t.value for t in complete)
# The process that finished last saw every trial: its report and best.json are the study's best.
last = max(range(2), key=lambda i: (project / f"best{i}.json").stat().st_mtime)
chosen = json.loads((project / f"best{last}.json").read_text())
assert chosen["trial"] == best.number and chosen["values"] == best.params and chosen["score"] == best.value, f"{chosen} against {best}"
assert f"the best, trial {best.number}, scored val_accuracy {best.value:.4f}" in outputs[last], outputs[last]
print(f"ok two processes on one SQLite study ran {budget} trials; the best, trial {best.number}, "
      f"scored {best.value:.4f} with {best.params} and is the one reported", flush=True)
# One thread, as the trial had: the same sums in the same order.
trained = run([sys.executable, "train.py", "--settings", f"best{last}.json"], env={**os.environ, "OMP_NUM_THREADS": "1"})
accuracy = float(re.search(r"held-out accuracy ([\d.]+)", trained).group(1))
assert abs(accuracy - best.value) < 1e-3, f"train.py --settings reached {accuracy}, the trial {best.value}"
print(f"ok train.py --settings best.json trains the best trial again: held-out accuracy {accuracy:.4f}", flush=True)

# 3. The other strategies, one process each, on their own in-memory studies.
for strategy in ("grid", "bayesian", "halving"):
    shutil.copy(folder / f"search.{strategy}.json", project / "search.json")
    settings = search.settings(project)
    out = run([sys.executable, "search.py", "--out", f"best.{strategy}.json"])
    ran = re.findall(r"^trial (\d+) (\{.*\}): \w+ [\d.]+ after", out, re.M)
    chosen = json.loads((project / f"best.{strategy}.json").read_text())
    if strategy == "grid":
        points = [dict(zip(settings["grid"], combo)) for combo in itertools.product(*settings["grid"].values())]
        tried = [json.loads(values) for _, values in ran]
        assert all(t in points for t in tried) and len(set(map(str, tried))) == len(tried), f"the grid tried {tried}, not of {points}"
        assert len(tried) == min(settings["budget"], len(points)), f"{len(tried)} of {len(points)} grid points with a budget of {settings['budget']}"
    elif strategy == "bayesian":
        assert len(ran) == settings["budget"], out
    else:
        pruned = re.findall(r"^trial \d+ .* pruned after epoch", out, re.M)
        finished = re.findall(r"after (\d+) epochs", out)
        assert pruned and set(finished) == {str(settings["strategy"]["max_epochs"])}, out
        assert chosen["config"]["epochs"] == settings["strategy"]["max_epochs"]
    print(f"ok {strategy}: {len(ran)} trials finished; the best scored {chosen['score']:.4f} with {chosen['values']}", flush=True)
