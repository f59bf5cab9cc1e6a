"""Trains the model of a Whetstone experiment in PyTorch with the run's settings: the optimiser and
its hyper-parameters, the learning-rate schedule after its warm-up, the L1/L2 penalties (per layer
where the run set them), frozen layers, gradient clipping, class weights or resampling, the image
augmentations and mixup, early stopping with the best epoch's weights restored, the seed. Each epoch logs what Whetstone's
history holds; the result is a Whetstone model file that the page's "Load file…" opens.

    python train.py                          # the CPU, or the GPU when there is one
    python train.py --init model.safetensors # from these weights (Whetstone's, say)
    python train.py --settings best.json     # with the best settings search.py found
    torchrun --nproc_per_node=4 train.py     # DistributedDataParallel: nccl on GPUs, gloo on CPUs
    torchrun --nnodes=2 --node_rank=0 --master_addr=HOST --master_port=29500 --nproc_per_node=4 train.py

Under torchrun each process takes an equal share of every batch (the run's batch size divided by
the processes, rounded up), so the optimiser sees the run's batch size when the processes divide it;
the rank-0 process decides early stopping and reduce-on-plateau for all. `fit` is the training
itself, which search.py calls for each trial.
"""

import argparse
import copy
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, TensorDataset

import data
import model as model_py

HISTORY = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds"


def rate(schedule, lr, step, steps_per_epoch, epochs):
    """The schedule's learning rate at `step` (from 0), as Whetstone's `Schedule::rate`."""
    kind = schedule.get("type", "constant")
    total = steps_per_epoch * epochs

    def cosine(start, end, t):
        return end + (start - end) * 0.5 * (1 + math.cos(math.pi * min(max(t, 0.0), 1.0)))

    if kind in ("constant", "reduce_on_plateau"):
        return lr
    if kind == "step":
        return lr * schedule["gamma"] ** (step // (schedule["every"] * steps_per_epoch))
    if kind == "exponential":
        return lr * schedule["gamma"] ** (step / steps_per_epoch)
    if kind == "cosine":
        return cosine(lr, schedule.get("min_lr", 0.0), step / max(total - 1, 1))
    if kind == "cosine_restarts":
        start, length = 0, schedule["period"] * steps_per_epoch
        while step >= start + length:
            start += length
            length *= schedule.get("mult", 1)
        return cosine(lr, schedule.get("min_lr", 0.0), (step - start) / length)
    if kind == "one_cycle":
        div, final_div = schedule["div"], schedule["final_div"]
        # Halves round up, as Rust's f32::round does (Python's round goes to the even neighbour).
        peak = max(math.floor(total * schedule["pct_start"] + 0.5) - 1, 1)
        if step <= peak:
            return lr / div + (lr - lr / div) * step / peak
        return cosine(lr, lr / (div * final_div), (step - peak) / max(total - 1 - peak, 1))
    raise ValueError(f"unknown learning-rate schedule {kind!r}")


def warmup(step, steps):
    """The linear warm-up's factor: (step + 1) / (steps + 1) until it ends."""
    return 1.0 if step >= steps else (step + 1) / (steps + 1)


class Plateau:
    """Reduce-on-plateau: cuts the rate by `factor` when the monitored number has not improved for
    `patience` epochs, never below `min_lr`."""

    def __init__(self, schedule, lr):
        self.schedule, self.lr = schedule, lr
        self.factor, self.best, self.since_best = 1.0, None, 0

    def observe(self, value):
        if self.schedule.get("type") != "reduce_on_plateau":
            return
        if self.best is None or value < self.best:
            self.best, self.since_best = value, 0
            return
        self.since_best += 1
        min_lr = self.schedule.get("min_lr", 0.0)
        if self.since_best < self.schedule.get("patience", 2) or self.lr * self.factor <= min_lr:
            return
        self.factor = max(self.factor * self.schedule.get("factor", 0.1), min_lr / self.lr)
        self.since_best = 0


def score(monitor, loss, accuracy):
    """The monitored number, lower better."""
    return -accuracy if monitor == "val_accuracy" else loss


def optimizer_for(spec, parameters):
    """The run's optimiser: the same update as Whetstone's, with its hyper-parameters."""
    kind, lr = spec["type"], spec["lr"]
    betas = (spec.get("beta1", 0.9), spec.get("beta2", 0.999))
    if kind == "sgd":
        return torch.optim.SGD(parameters, lr=lr)
    if kind == "momentum":
        return torch.optim.SGD(parameters, lr=lr, momentum=spec.get("momentum", 0.9), nesterov=spec.get("nesterov", False))
    if kind == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=betas, eps=spec.get("eps", 1e-8))
    if kind == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, betas=betas, eps=spec.get("eps", 1e-8), weight_decay=spec.get("weight_decay", 0.01))
    if kind == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr, alpha=spec.get("rho", 0.9), eps=spec.get("eps", 1e-8))
    raise ValueError(f"unknown optimiser {kind!r}")


def penalised(net):
    """(layer number from 1, weight) for every weight L1/L2 penalties apply to: the parameters
    named `weight` or `…_weight` (a recurrent layer's `recurrent_weight`, attention's projections)
    of the layers of a weighted kind (`model.WEIGHTED`), inside residual blocks too, numbered by
    their top-level layer; not biases nor normalisations' scales."""

    def weights(layers, modules):
        for layer, module in zip(layers, modules):
            if layer["type"] in model_py.WEIGHTED:
                yield from (p for name, p in module.named_parameters(recurse=False) if name == "weight" or name.endswith("_weight"))
            # A residual or transformer block's inner layers, with the settings they were built from.
            yield from weights(getattr(module, "specs", []), getattr(module, "layers", []))

    return [
        (number, p)
        for number, (layer, module) in enumerate(zip(net.spec["layers"], net.layers), start=1)
        for p in weights([layer], [module])
    ]


def evaluate(net, x, y, fitted, device, batch=256):
    """Mean loss and accuracy of the model on (x, y), in evaluation mode."""
    net.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(y), batch):
            xb = data.transform(x[start : start + batch].to(device), fitted)
            yb = y[start : start + batch].to(device)
            logits = net(xb)
            loss += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(1) == yb).sum().item()
    net.train()
    return loss / len(y), correct / len(y)


class Diverged(Exception):
    """The run blew up: a loss that is not finite, or above 100·ln(classes), as Whetstone judges."""


def diverged(loss, classes):
    return not math.isfinite(loss) or loss > 100 * math.log(classes)


def fit(setup, spec=None, config=None, *, epochs=None, seed=None, init=None, device=None, splits=None, report=None, log=print):
    """Trains a model of `spec` (the experiment's by default) with the training settings `config`
    (the run's by default) on the experiment's data (`splits`: `data.load()`'s, loaded when not
    given). Under `torch.distributed` (a group already made) each process takes its share of every
    batch. `report(epoch, metrics)` is called after each epoch with Whetstone's history columns;
    rank 0 `log`s a line per epoch. Returns the model (the best epoch's weights when early stopping
    restores them) and its history (CSV lines). Raises `Diverged` when the run blows up."""
    spec = spec or setup["spec"]
    config = config or setup["config"]
    fitted, classes = setup["fitted"], setup["classes"]
    epochs = epochs or config["epochs"]
    world = dist.get_world_size() if dist.is_initialized() else 1
    rank = dist.get_rank() if dist.is_initialized() else 0
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    seed = config.get("seed", 0) if seed is None else seed
    log = log if rank == 0 else (lambda *_, **__: None)
    # The data's resampling is the same on every process; each process's own draws (which samples
    # are augmented how, mixup) come from its own generator.
    torch.manual_seed(seed + rank)
    generator = torch.Generator().manual_seed(seed)
    draws = torch.Generator().manual_seed(seed + 7919 * (rank + 1))

    (train_x, train_y), (val_x, val_y) = splits or data.load()
    train_x, train_y = data.resample(train_x, train_y, config, generator)
    weights = None
    if config.get("rebalance") == "class_weights":
        weights = data.class_weights(train_y, len(classes)).to(device)

    net = model_py.Model(spec)
    if init:
        net.load_state_dict(load_file(init))
    net.to(device).train()
    frozen = set(config.get("frozen", []))
    for number, layer in enumerate(net.layers, start=1):
        if number in frozen:
            layer.requires_grad_(False)
    trainable = [p for p in net.parameters() if p.requires_grad]
    optimizer = optimizer_for(config["optimizer"], trainable)
    wrapped = DistributedDataParallel(net) if world > 1 else net
    penalties = {p["layer"]: (p.get("l1", 0.0), p.get("l2", 0.0)) for p in config.get("layer_penalties", [])}
    penalties_of = [(p, penalties.get(n, (config.get("l1", 0.0), config.get("l2", 0.0)))) for n, p in penalised(net)]
    penalties_of = [(p, l1, l2) for p, (l1, l2) in penalties_of if (l1 > 0 or l2 > 0) and p.requires_grad]
    mixup = next((a for a in config.get("augment", []) if a["type"] == "mixup"), None)
    per_text = [a for a in config.get("augment", []) if a["type"] in data.TEXT_AUGMENTATIONS]
    per_image = [a for a in config.get("augment", []) if a["type"] != "mixup" and a not in per_text]
    vocab = spec["layers"][0].get("vocab", 0)

    batch = config["batch_size"]
    share = math.ceil(batch / world)
    dataset = TensorDataset(train_x, train_y)
    sampler = (
        DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=False)
        if world > 1
        else RandomSampler(dataset, generator=generator)
    )
    loader = DataLoader(dataset, batch_size=share, sampler=sampler)
    steps_per_epoch = len(loader)
    base_lr = config["optimizer"]["lr"]
    plateau = Plateau(config.get("schedule", {"type": "constant"}), base_lr)
    stopping = config.get("early_stopping")
    best, since_best, history = None, 0, [HISTORY]
    lr = base_lr
    for epoch in range(1, epochs + 1):
        if world > 1:
            sampler.set_epoch(epoch)
        started = time.time()
        seen, loss_sum, correct = 0, 0.0, 0.0
        for i, (x, y) in enumerate(loader):
            step = (epoch - 1) * steps_per_epoch + i
            schedule = config.get("schedule", {"type": "constant"})
            lr = rate(schedule, base_lr, step, steps_per_epoch, epochs) * warmup(step, config.get("warmup_steps", 0)) * plateau.factor
            for group in optimizer.param_groups:
                group["lr"] = lr
            if per_text:
                x = data.augment_text(x, per_text, vocab, draws)
            x, y = x.to(device), y.to(device)
            if per_image:
                q = data.draw(per_image, len(y), x.shape[2], x.shape[3], draws).to(device)
                x = data.augment(x, q, int(torch.randint(0, 2**32, (), generator=draws)))
            mix = None
            if mixup and torch.rand((), generator=draws).item() < mixup["p"]:
                alpha = mixup["alpha"]
                lam = torch.distributions.Beta(alpha, alpha).sample().item()
                partners = torch.randperm(len(y), generator=draws).to(device)
                x = lam * x + (1 - lam) * x[partners]
                mix = (lam, partners)
            logits = wrapped(data.transform(x, fitted))
            per_row = F.cross_entropy(logits, y, reduction="none")
            right = (logits.argmax(1) == y).float()
            if mix:
                lam, partners = mix
                per_row = lam * per_row + (1 - lam) * F.cross_entropy(logits, y[partners], reduction="none")
                right = lam * right + (1 - lam) * (logits.argmax(1) == y[partners]).float()
            loss = (per_row * weights[y]).mean() if weights is not None else per_row.mean()
            if diverged(loss.item(), len(classes)):
                raise Diverged(f"the run diverged at step {step + 1}: the loss is {loss.item():.4g}; a lower learning rate or clipping helps")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                for p, l1, l2 in penalties_of:
                    p.grad += l1 * torch.sign(p) + l2 * p
                grads = [p.grad for p in trainable if p.grad is not None]
                if config.get("clip_norm") is not None:
                    norm = torch.sqrt(sum((g * g).sum() for g in grads))
                    scale = torch.clamp(config["clip_norm"] / norm, max=1.0)
                    for g in grads:
                        g.mul_(scale)
                if config.get("clip_value") is not None:
                    for g in grads:
                        g.clamp_(-config["clip_value"], config["clip_value"])
            optimizer.step()
            seen += len(y)
            loss_sum += per_row.detach().sum().item()
            correct += right.sum().item()
        totals = torch.tensor([loss_sum, correct, seen], dtype=torch.float64)
        if world > 1:
            dist.all_reduce(totals)
        train_loss, train_accuracy = (totals[0] / totals[2]).item(), (totals[1] / totals[2]).item()
        val_loss, val_accuracy = evaluate(net, val_x, val_y, fitted, device)
        if world > 1:
            # Every process takes rank 0's numbers, so that all stop (or cut the rate) together.
            shared = torch.tensor([val_loss, val_accuracy], dtype=torch.float64)
            dist.broadcast(shared, src=0)
            val_loss, val_accuracy = shared.tolist()
        if diverged(val_loss, len(classes)):
            raise Diverged(f"the run diverged in epoch {epoch}: the held-out loss is {val_loss:.4g}")
        seconds = time.time() - started
        history.append(f"{epoch},{train_loss},{train_accuracy},{val_loss},{val_accuracy},{lr},{seconds:.3f}")
        log(
            f"epoch {epoch}: train loss {train_loss:.4f}, accuracy {train_accuracy:.4f}; "
            f"held-out loss {val_loss:.4f}, accuracy {val_accuracy:.4f}; lr {lr:.3g}; {seconds:.1f} s",
            flush=True,
        )
        if report:
            report(epoch, dict(zip(HISTORY.split(","), (epoch, train_loss, train_accuracy, val_loss, val_accuracy, lr, seconds))))
        schedule = config.get("schedule", {})
        plateau.observe(score(schedule.get("monitor", "val_loss"), val_loss, val_accuracy))
        if stopping:
            value = score(stopping.get("monitor", "val_loss"), val_loss, val_accuracy)
            if best is None or value < best[0] - stopping.get("min_delta", 0.0):
                best, since_best = (value, epoch, copy.deepcopy(net.state_dict())), 0
            else:
                since_best += 1
                if since_best >= stopping["patience"]:
                    if stopping.get("restore_best", True):
                        net.load_state_dict(best[2])
                    log(f"stopped early after epoch {epoch}; the best was epoch {best[1]}", flush=True)
                    break
    return net, history


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, help="epochs to train (the run's by default)")
    parser.add_argument("--init", help="a Whetstone model file to start from (default: a fresh model)")
    parser.add_argument("--out", default="trained.safetensors", help="where the trained model file goes")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when there is a GPU)")
    parser.add_argument("--seed", type=int, help="the seed of the batches' order and draws (the run's by default)")
    parser.add_argument("--settings", help="a search's best.json: its model spec and training settings instead of the run's")
    args = parser.parse_args()

    setup = data.experiment()
    spec, config = setup["spec"], setup["config"]
    if args.settings:
        chosen = json.loads(Path(args.settings).read_text())
        spec, config = chosen["spec"], chosen["config"]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if world > 1:
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank = dist.get_rank() if world > 1 else 0
    splits = data.load()
    try:
        net, history = fit(setup, spec, config, epochs=args.epochs, seed=args.seed, init=args.init, device=device, splits=splits)
    except Diverged as e:
        print(f"stopped: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    if rank == 0:
        header = {"classes": setup["classes"], "history": "\n".join(history) + "\n"}
        if setup["fitted"]:
            header["features"] = setup["fitted"]
        model_py.save(net, args.out, header)
        val_loss, val_accuracy = evaluate(net, *splits[1], setup["fitted"], device)
        print(f"held-out accuracy {val_accuracy:.4f}, loss {val_loss:.4f}; wrote {args.out}", flush=True)
    if world > 1:
        # Every process waits for rank 0's file before the group goes.
        dist.barrier()
        dist.destroy_process_group()
        # Then the process ends at once: the interpreter's own teardown of torch's distributed
        # threads has aborted a worker (std::terminate) after a finished run.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
