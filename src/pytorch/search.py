"""Searches the experiment's hyper-parameters with Optuna, as the page's search was set
(search.json): the same settings and ranges, the strategy as an Optuna sampler (grid →
GridSampler, random → RandomSampler, Bayesian → GPSampler, a Gaussian process with expected
improvement as Whetstone's; successive halving → RandomSampler with SuccessiveHalvingPruner), the
same budget and the same score: the held-out score of each trial's last epoch. Each trial trains
with train.py's `fit` on the experiment's data and split, the trial's values put in as Whetstone
puts them.

    python search.py                                        # this process alone
    python search.py --storage sqlite:///search.db          # run it in several processes at once
    python search.py --storage postgresql://user:password@host/whetstone   # on several machines

Processes and machines that name the same storage (and study) share one study: each takes the
next trial, and the budget counts all of theirs. At the end the best trial's values, score, model
spec and training settings go to best.json (`python train.py --settings best.json` trains it,
under torchrun too).
"""

import argparse
import copy
import json
import math
import random
import sys
import time
from pathlib import Path

import optuna
import torch

import data
import train

HERE = Path(__file__).resolve().parent


def settings(folder=HERE):
    """The search as the page set it: the searched settings (`params`), `strategy`, `budget`,
    `seed`, `maximize`, the `score`'s name, the grid's values per setting, and the core's tables
    `apply` reads (each optimiser's settings by name, each augmentation's strength setting)."""
    return json.loads((Path(folder) / "search.json").read_text())


def apply(spec, config, values, tables, epochs=None):
    """Puts a trial's `values` (by setting name) into the model spec and training settings, in
    place, as Whetstone's `tune::apply` does; `epochs`, when given, overrides the run's."""
    if "optimizer" in values:
        chosen = tables["optimizers"].get(values["optimizer"])
        if chosen is None:
            raise ValueError(f"the searched optimiser {values['optimizer']!r} is not one of {', '.join(tables['optimizers'])}")
        config["optimizer"] = {**chosen, "lr": config["optimizer"]["lr"]}
    layers = spec["layers"]
    for name, value in values.items():
        if name == "optimizer":
            continue
        if name == "lr":
            config["optimizer"]["lr"] = value
        elif name == "batch":
            config["batch_size"] = value
        elif name == "epochs":
            config["epochs"] = value
        elif name == "weight_decay":
            config["l2"] = value
        elif name == "units":
            last = max((i for i, layer in enumerate(layers) if layer["type"] == "dense"), default=None)
            for i, layer in enumerate(layers):
                if (layer["type"] == "dense" and i != last) or layer["type"] in ("lstm", "gru"):
                    layer["units"] = value
        elif name == "dropout":
            dropouts = [layer for layer in layers if layer["type"] == "dropout"]
            for layer in dropouts:
                layer["rate"] = value
            if not dropouts:
                # A dropout before the output layer; the settings of the layers after it (numbered
                # from 1) move with them.
                at = max(len(layers) - 1, 0)
                layers.insert(at, {"type": "dropout", "rate": value})
                if "frozen" in config:
                    config["frozen"] = [n + 1 if n > at else n for n in config["frozen"]]
                for p in config.get("layer_penalties", []):
                    if p["layer"] > at:
                        p["layer"] += 1
        elif name == "augmentation":
            if not config.get("augment"):
                raise ValueError("searching the augmentation strength needs at least one augmentation")
            for op in config["augment"]:
                key = tables["strengths"].get(op["type"])
                if key is not None:
                    op[key] = op[key] * value
        else:
            raise ValueError(f"a search of {name!r} cannot be put into a training run")
    if epochs is not None:
        config["epochs"] = epochs
    return spec, config


def suggest(trial, param):
    """The trial's value of one searched setting, in its range (on its scale) or among its choices."""
    kind, name = param["type"], param["name"]
    if kind == "float":
        return trial.suggest_float(name, param["low"], param["high"], log=param.get("log", False))
    if kind == "int":
        return trial.suggest_int(name, param["low"], param["high"], log=param.get("log", False))
    return trial.suggest_categorical(name, param["values"])


def sampler_for(search, seed):
    """The Optuna sampler of the search's strategy."""
    strategy = search["strategy"]
    kind = strategy["type"]
    if kind == "grid":
        return optuna.samplers.GridSampler(search["grid"], seed=seed)
    if kind in ("random", "halving"):
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "bayesian":
        initial = strategy.get("initial") or max(len(search["params"]) + 2, 4)
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=initial)
    raise ValueError(f"unknown search strategy {kind!r}")


def pruner_for(search):
    """Successive halving's pruner: a trial goes on past `min_epochs`·eta^k epochs only when it is
    in the best 1/eta of the trials that reached them; the other strategies prune nothing."""
    strategy = search["strategy"]
    if strategy["type"] == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=strategy["min_epochs"], reduction_factor=strategy["eta"], min_early_stopping_rate=0
        )
    return optuna.pruners.NopPruner()


def trial_epochs(search):
    """The epochs every trial trains for when the strategy sets them: successive halving's most."""
    strategy = search["strategy"]
    return strategy["max_epochs"] if strategy["type"] == "halving" else None


class Objective:
    """One trial: its values put into the run's settings, trained, scored by its last epoch."""

    def __init__(self, search, setup, device, budget):
        self.search, self.setup, self.device, self.budget = search, setup, device, budget
        self.splits = data.load()
        self.epochs = trial_epochs(search)

    def __call__(self, trial):
        if trial.number >= self.budget:
            # Another process took the last trial of the budget at the same moment.
            trial.set_user_attr("beyond_budget", True)
            trial.study.stop()
            raise optuna.TrialPruned("the budget is spent")
        values = {p["name"]: suggest(trial, p) for p in self.search["params"]}
        spec, config = apply(copy.deepcopy(self.setup["spec"]), copy.deepcopy(self.setup["config"]), values, self.search, self.epochs)
        name, last = self.search["score"], {}

        def report(epoch, metrics):
            last.update(metrics)
            trial.report(metrics[name], epoch)
            if trial.should_prune():
                print(f"trial {trial.number} {json.dumps(values)}: {name} {metrics[name]:.4f}, pruned after epoch {epoch}", flush=True)
                raise optuna.TrialPruned(f"pruned after epoch {epoch}")

        try:
            train.fit(self.setup, spec, config, device=self.device, splits=self.splits, report=report, log=lambda *_, **__: None)
        except train.Diverged as e:
            trial.set_user_attr("failed", str(e))
            print(f"trial {trial.number} {json.dumps(values)}: {e}", flush=True)
            return float("nan")
        trial.set_user_attr("val_accuracy", last["val_accuracy"])
        trial.set_user_attr("val_loss", last["val_loss"])
        trial.set_user_attr("epochs", last["epoch"])
        print(f"trial {trial.number} {json.dumps(values)}: {name} {last[name]:.4f} after {last['epoch']} epochs", flush=True)
        return last[name]


def open_study(**settings):
    """The study, made or joined. Processes started together on a new database race to make its
    tables (a table or version row that already exists); one that loses tries again."""
    for attempt in range(10):
        try:
            return optuna.create_study(**settings)
        except Exception as e:
            if not type(e).__module__.startswith("sqlalchemy") or attempt == 9:
                raise
            time.sleep(0.2 + 0.3 * random.random())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", help="where the study lives, shared by every process that names it: sqlite:///search.db, or a database URL (default: this process's memory)")
    parser.add_argument("--study", help="the study's name (default: whetstone-<data set>)")
    parser.add_argument("--seed", type=int, help="the sampler's seed (default: the search's alone; with --storage, each process its own)")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when there is a GPU)")
    parser.add_argument("--threads", type=int, help="CPU threads per process (default: torch's)")
    parser.add_argument("--out", default="best.json", help="where the best trial's settings go")
    args = parser.parse_args()

    search, setup = settings(), data.experiment()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    # With a shared study, processes with one seed would propose the same trials: each draws its own
    # unless a seed is given.
    seed = args.seed if args.seed is not None else (None if args.storage else search["seed"])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study(
        study_name=args.study or f"whetstone-{setup['dataset']}",
        storage=args.storage,
        load_if_exists=True,
        sampler=sampler_for(search, seed),
        pruner=pruner_for(search),
        direction="maximize" if search["maximize"] else "minimize",
    )
    budget = search["budget"]
    if search["strategy"]["type"] == "grid":
        budget = min(budget, math.prod(len(v) for v in search["grid"].values()))
    counted = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL, optuna.trial.TrialState.RUNNING)
    if len(study.get_trials(deepcopy=False, states=counted)) < budget:
        study.optimize(
            Objective(search, setup, device, budget),
            callbacks=[optuna.study.MaxTrialsCallback(budget, states=counted)],
        )
    finished = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not finished:
        print("no trial finished", file=sys.stderr)
        sys.exit(1)
    best = study.best_trial
    spec, config = apply(copy.deepcopy(setup["spec"]), copy.deepcopy(setup["config"]), best.params, search, trial_epochs(search))
    Path(args.out).write_text(
        json.dumps({"trial": best.number, "values": best.params, "score": best.value, "spec": spec, "config": config}, indent=2) + "\n"
    )
    running = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)))
    still = f"; {running} still running elsewhere: the last process to finish reports the study's best" if running else ""
    print(f"{len(finished)} trials finished{still}; the best, trial {best.number}, scored {search['score']} {best.value:.4f} with {best.params}; wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
