"""PyTorch side of bench/conv.ts: reads one JSON request per line on stdin, answers one JSON line.

Request: {"x": [N,C,H,W], "w": [K,C/g,R,S], "stride": [sh,sw], "padding": [ph,pw], "groups": g,
          "pass": "forward" | "backwardData" | "backwardWeight", "threads": t, "reps": r}
Answer:  {"seconds": best time of r runs after one warm-up}
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

torch.set_grad_enabled(False)
cache = {}


def tensors(req):
    key = json.dumps([req["x"], req["w"], req["stride"], req["padding"], req["groups"]])
    if key not in cache:
        cache.clear()
        x = torch.randn(*req["x"])
        w = torch.randn(*req["w"])
        y = F.conv2d(x, w, None, req["stride"], req["padding"], 1, req["groups"])
        cache[key] = (x, w, torch.randn_like(y))
    return cache[key]


def run(req):
    torch.set_num_threads(req["threads"])
    x, w, dy = tensors(req)
    stride, padding, groups = req["stride"], req["padding"], req["groups"]
    if req["pass"] == "forward":
        fn = lambda: F.conv2d(x, w, None, stride, padding, 1, groups)
    else:
        mask = [True, False, False] if req["pass"] == "backwardData" else [False, True, False]
        fn = lambda: torch.ops.aten.convolution_backward(
            dy, x, w, None, stride, padding, [1, 1], False, [0, 0], groups, mask)
    fn()
    best = float("inf")
    for _ in range(req["reps"]):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


for line in sys.stdin:
    print(json.dumps({"seconds": run(json.loads(line))}), flush=True)
