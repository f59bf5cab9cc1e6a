"""PyTorch reference for `examples/bench.rs` on the same machine: the MLP and CNN presets, Adam,
the same timing rule (each rate the median of five timed windows: 1 s of training read back
every 4 steps, 0.5 s of inference). A reference for GPU machines, not a browser peer. Usage:
python3 torch_reference.py [batch ...]"""
import json
import statistics
import sys
import time

import torch
from torch import nn


def model(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 64), nn.ReLU(), nn.Linear(64, 10))


def windows(seconds, work):
    """The rates of five timed windows of at least `seconds` each (and one call of `work`, which
    returns the samples it did)."""
    rates = []
    for _ in range(5):
        start, done = time.perf_counter(), 0
        while done == 0 or time.perf_counter() - start < seconds:
            done += work()
        rates.append(done / (time.perf_counter() - start))
    return rates


def measure(device, name, batch):
    torch.manual_seed(1)
    x = torch.rand(8000, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (8000,), device=device)
    net = model(name).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    steps = 8000 // batch

    def step(i):
        s = (i % steps) * batch
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x[s:s + batch]), y[s:s + batch])
        loss.backward()
        opt.step()
        return loss

    for i in range(8):
        step(i)
    i = 0

    def train_calls():
        nonlocal i
        for _ in range(4):
            loss = step(i)
            i += 1
        loss.item()
        return 4 * batch

    def infer_call():
        with torch.no_grad():
            net(x[:batch]).argmax(1).cpu()
        return batch

    train = statistics.median(windows(1.0, train_calls))
    infer = statistics.median(windows(0.5, infer_call))
    where = "torch-cuda" if device == "cuda" else "torch-cpu"
    adapter = torch.cuda.get_device_name() if device == "cuda" else ""
    print(json.dumps({"where": where, "adapter": adapter, "model": name, "batch": batch,
                      "train_samples_per_s": round(train), "infer_samples_per_s": round(infer)}), flush=True)


batches = [int(b) for b in sys.argv[1:]] or [32, 256]
for device in ["cuda"] if torch.cuda.is_available() else ["cpu"]:
    for name in ["mlp", "cnn"]:
        for batch in batches:
            measure(device, name, batch)
