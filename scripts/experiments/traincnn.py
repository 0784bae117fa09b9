"""Issue 5 experiment: a compact forensic CNN trained on the simulated genome on this machine's CPU
(Debian's python3-torch), then embedded on a dumped validation set for the numpy protocol.

Training data: a dump of a `dfg genome synth` folder (dump-dataset.js --model '' --crop 256), never
wild-dev. Each genome algorithm is a class; 64-px crops at offsets that are multiples of 8 (so a
JPEG grid keeps its phase), random horizontal flips. Network: fixed Laplacian high-pass, 7 conv
layers (width w, 2w, 4w; BatchNorm, ReLU; two stride-2 steps), mean + std pooling, 128-d embedding,
CosFace loss (s 30, m 0.35). Adam with cosine decay over --minutes of wall time.

Embedding a dump (--embed PREFIX): every image's 64-px crops on the 8-aligned grid (at most
--crops of them, evenly spread), embeddings averaged then L2-normalised, written as
PREFIX.<--name>.f32 for compare.py / galmetric.py.

  /usr/bin/python3 scripts/experiments/traincnn.py --train dump/genome-cnn \\
      --minutes 45 --out cnn1.pt --embed dump/wild-dev --name cnn1
"""
import argparse, json, math, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CROP = 64


class Net(nn.Module):
    def __init__(self, width: int = 16, dim: int = 128):
        super().__init__()
        lap = torch.tensor([[0., -1., 0.], [-1., 4., -1.], [0., -1., 0.]])
        self.register_buffer('hp', lap.expand(3, 1, 3, 3).clone())
        chans = [3, width, width, 2 * width, 2 * width, 4 * width, 4 * width, 4 * width]
        layers = []
        for i in range(7):
            stride = 2 if i in (2, 4) else 1
            layers += [nn.Conv2d(chans[i], chans[i + 1], 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(chans[i + 1]), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(2 * chans[-1], dim)

    def forward(self, x):  # x: [n, 3, h, w] in 0..255
        x = F.conv2d(x / 64.0, self.hp, padding=0, groups=3)
        h = self.body(x)
        pooled = torch.cat([h.mean((2, 3)), h.flatten(2).std(2)], 1)
        return F.normalize(self.head(pooled), dim=1)


def load(prefix):
    items = json.load(open(prefix + '.json'))['items']
    mm = np.memmap(prefix + '.rgb', dtype=np.uint8, mode='r')
    return items, mm


def image(mm, it):
    n = it['width'] * it['height'] * 3
    return np.asarray(mm[it['offset']:it['offset'] + n]).reshape(it['height'], it['width'], 3)


def train(a):
    items, mm = load(a.train)
    algs = sorted({it['algorithm'] for it in items})
    label = {n: i for i, n in enumerate(algs)}
    imgs = [image(mm, it) for it in items]  # genome images are small (256 px): keep them in memory
    ys = np.array([label[it['algorithm']] for it in items])
    by_class = [np.flatnonzero(ys == c) for c in range(len(algs))]
    rng = np.random.default_rng(a.seed)
    torch.manual_seed(a.seed)
    net = Net(a.width)
    W = nn.Parameter(torch.randn(len(algs), 128) * 0.01)
    opt = torch.optim.Adam(list(net.parameters()) + [W], lr=a.lr, weight_decay=1e-5)
    per_class, classes_per_batch = 4, a.batch // 4
    budget = a.minutes * 60
    t0 = time.perf_counter()
    step, seen, ema = 0, 0, None
    print(f'{len(items)} images of {len(algs)} algorithms; width {a.width}, batch {a.batch}, {a.minutes} min', flush=True)
    while True:
        elapsed = time.perf_counter() - t0
        if elapsed >= budget:
            break
        for g in opt.param_groups:
            g['lr'] = a.lr * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
        cls = rng.choice(len(algs), classes_per_batch, replace=classes_per_batch > len(algs))
        batch, target = [], []
        for c in cls:
            for i in rng.choice(by_class[c], per_class, replace=True):
                im = imgs[i]
                y0 = 8 * rng.integers(0, (im.shape[0] - CROP) // 8 + 1)
                x0 = 8 * rng.integers(0, (im.shape[1] - CROP) // 8 + 1)
                crop = im[y0:y0 + CROP, x0:x0 + CROP]
                if rng.random() < 0.5:
                    crop = crop[:, ::-1]
                batch.append(np.ascontiguousarray(crop))
                target.append(c)
        x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float()
        y = torch.tensor(target)
        emb = net(x)
        logits = 30 * (emb @ F.normalize(W, dim=1).T - 0.35 * F.one_hot(y, len(algs)))
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        seen += len(batch)
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 200 == 0:
            print(f'step {step} crops {seen} loss {ema:.3f} {seen / (time.perf_counter() - t0):.0f} crops/s', flush=True)
    torch.save({'state': net.state_dict(), 'width': a.width, 'algorithms': algs, 'steps': step, 'crops': seen}, a.out)
    print(f'trained {step} steps, {seen} crops in {time.perf_counter() - t0:.0f} s -> {a.out}', flush=True)
    return net


def grid(h, w, k):
    ys = list(range(0, h - CROP + 1, 8))
    xs = list(range(0, w - CROP + 1, 8))
    # Non-overlapping where possible: step by CROP along each axis, then thin evenly to k.
    ys = ys[::CROP // 8] or ys[:1]
    xs = xs[::CROP // 8] or xs[:1]
    cells = [(y, x) for y in ys for x in xs]
    if len(cells) > k:
        cells = [cells[int(i)] for i in np.linspace(0, len(cells) - 1, k)]
    return cells


@torch.no_grad()
def embed(net, prefix, name, k):
    net.eval()
    items, mm = load(prefix)
    out = np.zeros((len(items), 128), np.float32)
    for n, it in enumerate(items):
        im = image(mm, it)
        if im.shape[0] < CROP or im.shape[1] < CROP:
            pad = np.zeros((max(CROP, im.shape[0]), max(CROP, im.shape[1]), 3), np.uint8)
            pad[:im.shape[0], :im.shape[1]] = im
            im = pad
        crops = np.stack([im[y:y + CROP, x:x + CROP] for y, x in grid(im.shape[0], im.shape[1], k)])
        e = net(torch.from_numpy(crops).permute(0, 3, 1, 2).float()).mean(0)
        out[n] = (e / e.norm()).numpy()
    out.tofile(f'{prefix}.{name}.f32')
    print(f'embedded {len(items)} images -> {prefix}.{name}.f32', flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', help='dump prefix of a genome (training data)')
    ap.add_argument('--load', help='a saved .pt instead of training')
    ap.add_argument('--out', required=True)
    ap.add_argument('--minutes', type=float, default=30)
    ap.add_argument('--width', type=int, default=16)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--embed', action='append', default=[], help='dump prefix to embed (repeatable)')
    ap.add_argument('--name', default='cnn')
    ap.add_argument('--crops', type=int, default=16)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.load:
        ck = torch.load(a.load)
        net = Net(ck['width'])
        net.load_state_dict(ck['state'])
    else:
        net = train(a)
    for p in a.embed:
        embed(net, p, a.name, a.crops)


if __name__ == '__main__':
    main()
