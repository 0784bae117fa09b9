"""How fast a compact forensic CNN trains on this machine's CPU (issue 5: "a compact CNN trained on
the simulated genome, PyTorch from Debian's python3-torch on the CPU").

The network is traincnn.py's, in the spirit of the issue's probe: 7 conv layers on a fixed
high-pass (Laplacian) input, mean + std pooling, a 128-d embedding and a cosine-margin (CosFace)
loss over `--classes` algorithms. The
script trains it on random crops for `--seconds` and prints crops per second, so a training budget
can be sized before any data is made. It reads no dataset: throughput does not depend on content.

  apt-get install python3-torch     # Debian bookworm: torch 1.13, CPU only
  /usr/bin/python3 scripts/experiments/cpu-train-rate.py --crop 96 --width 32 --seconds 60
"""
import argparse, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
import torch.nn as nn
import torch.nn.functional as F
from traincnn import Net


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--crop', type=int, default=96)
    ap.add_argument('--width', type=int, default=32, help='channels of the first layers (x2, x4 deeper)')
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--classes', type=int, default=384)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seconds', type=float, default=60)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = Net(a.width)
    W = nn.Parameter(torch.randn(a.classes, 128) * 0.01)
    opt = torch.optim.Adam(list(net.parameters()) + [W], lr=1e-3)
    x = torch.rand(a.batch, 3, a.crop, a.crop)
    y = torch.randint(0, a.classes, (a.batch,))
    steps, t0, warm = 0, None, 2
    while True:
        emb = net(x)
        logits = 30 * (emb @ F.normalize(W, dim=1).T - 0.35 * F.one_hot(y, a.classes))
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        if steps == warm:
            t0 = time.perf_counter()
        if t0 is not None and time.perf_counter() - t0 >= a.seconds:
            break
    rate = (steps - warm) * a.batch / (time.perf_counter() - t0)
    print(f'torch {torch.__version__}, {a.threads} threads, crop {a.crop}, width {a.width}, batch {a.batch}: {rate:.1f} crops/s '
          f'({rate * 3600 / 1e3:.0f}k crops per hour)')


if __name__ == '__main__':
    main()
