"""PyTorch side of bench/run.ts: the end-to-end workloads of bench/e2e.ts, same models, optimizers and requests,
and the kernels that bench/gpu.ts times on a GPU, called the same way.

Reads one JSON request per line on stdin, answers one JSON line:
  {"workload": "mlp" | "lenet5" | "resnet20" | "block", "mode": "train" | "grad" | "infer", "batch": B, "threads": t,
   "seconds": g, "reps": r, "device": "cpu" | "cuda", "tf32": false, "warmup": 0}
  -> {"imagesPerSecond": median over r groups of steps, "best": ..., "spread": (max - min) / median}
  {"kernel": "gemm", "n": n, ...} torch.matmul of two [n, n] matrices
  {"kernel": "conv", "x": [N, C, H, W], "w": [K, C, R, S], "stride": [sh, sw], "padding": [ph, pw],
   "pass": "forward" | "backwardData" | "backwardWeight", ...}
  {"kernel": "batchnorm", "shape": [N, C, H, W], "pass": "forward" | "backward", ...}
    each kernel request also has "seconds", "reps", "device", "tf32", "warmup"
  -> {"median": seconds per call, "best": ..., "spread": ..., "runs": r, "calls": calls per group}
  (after "warmup" untimed calls, a call timed only to size them makes groups of about g seconds, as bench/util.ts timeGroups; on cuda
   the device is synchronized before every clock read)
  {"info": true} -> {"version", "threads", "cuda": device name or null, "reason": why no CUDA}
  {"export_onnx": workload, "batch": B, "path": p} writes the workload's model in eval mode as ONNX (opset 13) to p
"tf32" sets both torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32 (cuDNN's default is
True; false here keeps "FP32" figures FP32). On cuda, cuDNN picks its fastest algorithm per shape
(torch.backends.cudnn.benchmark = True, during the warm-up calls): PyTorch at its best.
Errors come back as {"error": message}. OMP_WAIT_POLICY is read by OpenMP at start-up, so the caller
starts one process per policy.

Run standalone (bench/gpu-run.sh): python3 torch_bench.py --once '<request json>' prints one answer.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    """He et al. 2016 CIFAR basic block with the option-A shortcut, as lib/models/resnet.ts."""

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.side = in_planes // 2 if stride != 1 or in_planes != planes else 0

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.side, self.side)) if self.side else x
        return F.relu(out + shortcut)


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stage = lambda cin, cout, stride: nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout), BasicBlock(cout, cout))
        self.layer1, self.layer2, self.layer3 = stage(16, 16, 1), stage(16, 32, 2), stage(32, 64, 2)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return self.fc(x.mean((2, 3)))


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def build(workload):
    if workload == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    elif workload == "lenet5":
        model = lenet5()
    elif workload == "block":
        model = BasicBlock(16, 16)
    else:
        model = ResNet20()
    if workload == "resnet20":
        return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def time_groups(step, req, device):
    """Seconds per call of step, as bench/util.ts timeGroups: median, best, spread over reps groups of calls."""
    seconds, reps = req["seconds"], req["reps"]
    for _ in range(req.get("warmup", 0)):
        step()

    def group(calls):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(calls):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    first = group(1)
    calls = max(1, round(seconds / first))
    times = sorted(group(calls) / calls for _ in range(1 if first > reps * seconds else reps))
    median = statistics.median(times)
    return {"median": median, "best": times[0], "spread": (times[-1] - times[0]) / median, "runs": len(times), "calls": calls}


def set_backend_flags(req):
    tf32 = bool(req.get("tf32", False))
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True


def kernel_step(req, device):
    """The call to time for a kernel request; backward passes take the gradient of one input only, graph retained."""
    kind = req["kernel"]
    if kind == "gemm":
        a, b = (torch.randn(req["n"], req["n"], device=device) for _ in range(2))
        return lambda: torch.matmul(a, b)
    if kind == "conv":
        pass_ = req["pass"]
        x = torch.randn(*req["x"], device=device, requires_grad=pass_ == "backwardData")
        w = torch.randn(*req["w"], device=device, requires_grad=pass_ == "backwardWeight")
        conv = lambda: F.conv2d(x, w, stride=tuple(req["stride"]), padding=tuple(req["padding"]))
        if pass_ == "forward":
            return conv
        y = conv()
        dy = torch.randn_like(y)
        wrt = x if pass_ == "backwardData" else w
        return lambda: torch.autograd.grad(y, wrt, dy, retain_graph=True)
    if kind == "batchnorm":
        x = torch.randn(*req["shape"], device=device, requires_grad=True)
        bn = nn.BatchNorm2d(req["shape"][1]).to(device).train()
        if req["pass"] == "forward":
            return lambda: bn(x)
        y = bn(x)
        dy = torch.randn_like(y)
        return lambda: torch.autograd.grad(y, [x, bn.weight, bn.bias], dy, retain_graph=True)
    raise ValueError(f"unknown kernel {kind!r}: gemm, conv or batchnorm")


def run_kernel(req):
    device = torch.device(req.get("device", "cuda"))
    set_backend_flags(req)
    return time_groups(kernel_step(req, device), req, device)


def run(req):
    torch.set_num_threads(req["threads"])
    device = torch.device(req.get("device", "cpu"))
    set_backend_flags(req)
    model, optimizer = build(req["workload"])
    model.to(device)
    shape = {"resnet20": (3, 32, 32), "block": (16, 32, 32)}.get(req["workload"], (1, 28, 28))
    x = torch.randn(req["batch"], *shape, device=device)
    y = torch.randint(0, 10, (req["batch"],), device=device)

    def loss_of(out):
        return out.mean() if req["workload"] == "block" else F.cross_entropy(out, y)

    def train():
        model.train()
        loss = loss_of(model(x))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()

    def grad():
        model.train()
        model.zero_grad()
        loss = loss_of(model(x))
        loss.backward()
        loss.item()

    def infer():
        model.eval()
        with torch.no_grad():
            model(x).cpu()

    t = time_groups({"train": train, "grad": grad, "infer": infer}[req["mode"]], req, device)
    return {"imagesPerSecond": req["batch"] / t["median"], "best": req["batch"] / t["best"], "spread": t["spread"]}


def info():
    cuda = torch.cuda.is_available()
    return {"version": torch.__version__, "threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if cuda else None,
            "reason": "" if cuda else "torch.cuda.is_available() is False"}


def export_onnx(req):
    """The workload's model (eval mode) as an ONNX file for the onnxruntime-node peer, batch fixed."""
    import warnings
    warnings.filterwarnings("ignore")  # the exporter's notes on constant folding and shape inference
    model = build(req["export_onnx"])[0].eval()
    shape = {"resnet20": (3, 32, 32), "block": (16, 32, 32)}.get(req["export_onnx"], (1, 28, 28))
    torch.onnx.export(model, torch.randn(req["batch"], *shape), req["path"], opset_version=13, input_names=["x"])
    return {"path": req["path"]}


def answer(line):
    req = json.loads(line)
    try:
        if "export_onnx" in req:
            return export_onnx(req)
        return info() if req.get("info") else run_kernel(req) if "kernel" in req else run(req)
    except Exception as e:  # reported to the caller as this peer's result for that request
        return {"error": f"{type(e).__name__}: {e}"}


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--once":
        print(json.dumps(answer(sys.argv[2])), flush=True)
    else:
        for line in sys.stdin:
            print(json.dumps(answer(line)), flush=True)
