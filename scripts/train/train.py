"""Trains a compact forensic CNN on a pack of native-resolution crops (scripts/train/pack.ts) and
writes an ONNX model the service loads as it is: model.onnx, model.json (manifest), train.log.

    python3 scripts/train/train.py --pack PACK --out DIR [--id learned-v1] [--minutes 8]
                                   [--device auto|cuda|cpu] [--holdout 0.2] [--seed 1] [--toy]

Needs PyTorch and numpy only (no internet, no dataset download). On a GPU machine the default
run trains for --minutes of wall time; `--toy` is the CPU smoke run CI does (a tiny network, a
few steps). The network: a fixed high-pass (the image minus its 3x3 mean, per channel), six
3x3 conv layers (BatchNorm, ReLU, two stride-2 steps), mean and standard-deviation pooling over
any H x W, a linear embedding; trained with a CosFace loss over the pack's classes on random
8-aligned crops with horizontal flips. The runtime averages the crop embeddings of an image and
L2-normalises them (manifest `output.normalise: l2`).

Leave-generators-out validation: with --holdout F, a seeded F of the classes never trains; every
evaluation embeds their crops, averages them per source group, and scores nearest-centroid
Rank-1 among the held-out classes, leaving each group out of its own class's centroid. Choose
settings on that number, then train the model to ship with --holdout 0.
"""
import argparse, gzip, hashlib, json, math, os, random, struct, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_pack(path):
    raw = gzip.open(path, 'rb').read()
    (hlen,) = struct.unpack_from('<I', raw, 0)
    header = json.loads(raw[4:4 + hlen].decode('utf-8'))
    if header.get('format') != 'dfg-train-pack' or header.get('version') != 1:
        raise SystemExit(f'{path}: not a dfg-train-pack version 1 file')
    n, s = header['count'], header['crop']
    off = 4 + hlen
    labels = np.frombuffer(raw, dtype='<i4', count=n, offset=off).astype(np.int64); off += 4 * n
    groups = np.frombuffer(raw, dtype='<i4', count=n, offset=off).astype(np.int64); off += 4 * n
    crops = np.frombuffer(raw, dtype=np.uint8, count=n * s * s * 3, offset=off).reshape(n, s, s, 3)
    return header, labels, groups, crops


class HighPass(nn.Module):
    """x minus its 3x3 box mean, per channel: keeps the generator's high-frequency trace."""
    def __init__(self):
        super().__init__()
        k = -torch.ones(3, 1, 3, 3) / 9.0
        k[:, :, 1, 1] += 1.0
        self.register_buffer('kernel', k)

    def forward(self, x):
        return F.conv2d(x, self.kernel, padding=1, groups=3)


def block(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Net(nn.Module):
    def __init__(self, width=32, dim=128):
        super().__init__()
        w = width
        self.hp = HighPass()
        self.features = nn.Sequential(
            block(3, w, 1), block(w, w, 1),
            block(w, 2 * w, 2), block(2 * w, 2 * w, 1),
            block(2 * w, 4 * w, 2), block(4 * w, 4 * w, 1),
        )
        self.embed = nn.Linear(8 * w, dim)

    def forward(self, x):
        # Input: pixels in 0..1 (the manifest's scale 1/255); the high-pass removes the mean level.
        h = self.features(self.hp(x) * 8.0)
        mean = h.mean(dim=(2, 3))
        std = torch.sqrt(torch.clamp((h * h).mean(dim=(2, 3)) - mean * mean, min=1e-6))
        return self.embed(torch.cat([mean, std], dim=1))


class CosFace(nn.Module):
    def __init__(self, dim, classes, s=30.0, m=0.35):
        super().__init__()
        self.w = nn.Parameter(torch.randn(classes, dim) * 0.01)
        self.s, self.m = s, m

    def forward(self, e, y):
        cos = F.normalize(e) @ F.normalize(self.w).t()
        onehot = F.one_hot(y, cos.shape[1]).to(cos.dtype)
        return F.cross_entropy(self.s * (cos - self.m * onehot), y)


def batch(crops, idx, size, rng, device):
    """Random size x size sub-crops at 8-aligned offsets, random horizontal flips, as float 0..1."""
    s = crops.shape[1]
    out = np.empty((len(idx), size, size, 3), dtype=np.uint8)
    for j, i in enumerate(idx):
        ox = rng.randrange(0, (s - size) // 8 + 1) * 8
        oy = rng.randrange(0, (s - size) // 8 + 1) * 8
        c = crops[i, oy:oy + size, ox:ox + size]
        out[j] = c[:, ::-1] if rng.random() < 0.5 else c
    return torch.from_numpy(out).to(device).permute(0, 3, 1, 2).float().div_(255.0)


@torch.no_grad()
def embed_all(net, crops, idx, device, bs=256):
    net.eval()
    outs = []
    for k in range(0, len(idx), bs):
        x = torch.from_numpy(np.ascontiguousarray(crops[idx[k:k + bs]])).to(device).permute(0, 3, 1, 2).float().div_(255.0)
        outs.append(net(x).float().cpu().numpy())
    net.train()
    return np.concatenate(outs) if outs else np.zeros((0, 1), np.float32)


def validate(net, crops, labels, groups, held, device):
    """Nearest-centroid Rank-1 over held-out classes, per source group (leave the group out)."""
    idx = np.where(np.isin(labels, held))[0]
    if len(idx) == 0:
        return None
    E = embed_all(net, crops, idx, device)
    keys = sorted(set(zip(labels[idx].tolist(), groups[idx].tolist())))
    items = []
    for c, g in keys:
        sel = (labels[idx] == c) & (groups[idx] == g)
        v = E[sel].mean(0)
        items.append((c, g, v / max(np.linalg.norm(v), 1e-12)))
    correct = total = 0
    for c, g, v in items:
        best, best_c = -2.0, None
        for cc in held:
            others = [w for (c2, g2, w) in items if c2 == cc and g2 != g]
            if not others:
                continue
            m = np.mean(others, 0)
            s = float(v @ (m / max(np.linalg.norm(m), 1e-12)))
            if s > best:
                best, best_c = s, cc
        if best_c is None:
            continue
        total += 1
        correct += int(best_c == c)
    return correct / total if total else None


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--pack', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--id', default='learned-v1')
    ap.add_argument('--minutes', type=float, default=8.0)
    ap.add_argument('--max-steps', type=int, default=0, help='stop after this many steps (0: time only)')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--holdout', type=float, default=0.2)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--width', type=int, default=32)
    ap.add_argument('--dim', type=int, default=128)
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--train-crop', type=int, default=0, help='sub-crop side for training (default: the pack crop)')
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--eval-every', type=int, default=200)
    ap.add_argument('--toy', action='store_true', help='CPU smoke run: width 8, dim 16, batch 32, 20 steps')
    a = ap.parse_args(argv)
    if a.toy:
        a.width, a.dim, a.batch, a.max_steps, a.eval_every = 8, 16, 32, 20, 10
    device = torch.device('cuda' if a.device == 'auto' and torch.cuda.is_available() else ('cpu' if a.device == 'auto' else a.device))
    random.seed(a.seed); np.random.seed(a.seed); torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    log_path = os.path.join(a.out, 'train.log')
    logf = open(log_path, 'w')

    def log(**kw):
        kw['t'] = round(time.time() - t0, 1)
        line = json.dumps(kw)
        logf.write(line + '\n'); logf.flush()
        print(line, flush=True)

    t0 = time.time()
    header, labels, groups, crops = load_pack(a.pack)
    n_classes = len(header['classes'])
    order = np.random.RandomState(a.seed).permutation(n_classes)
    n_held = int(round(a.holdout * n_classes)) if a.holdout > 0 else 0
    held = sorted(order[:n_held].tolist())
    train_classes = sorted(order[n_held:].tolist())
    remap = {c: i for i, c in enumerate(train_classes)}
    train_idx = np.where(np.isin(labels, train_classes))[0]
    y_all = np.array([remap.get(int(c), -1) for c in labels])
    size = a.train_crop or header['crop']
    log(event='start', device=str(device), torch=torch.__version__, crops=int(header['count']), crop=header['crop'], train_crop=size,
        classes=n_classes, train_classes=len(train_classes), held_out=[header['classes'][c]['name'] for c in held], args=vars(a))

    net = Net(a.width, a.dim).to(device)
    head = CosFace(a.dim, len(train_classes)).to(device)
    opt = torch.optim.AdamW(list(net.parameters()) + list(head.parameters()), lr=a.lr, weight_decay=5e-4)
    rng = random.Random(a.seed)
    budget = a.minutes * 60
    step, best = 0, None
    while True:
        elapsed = time.time() - t0
        if (a.max_steps and step >= a.max_steps) or (not a.max_steps and elapsed >= budget):
            break
        # Cosine learning-rate decay over the time (or step) budget.
        frac = step / a.max_steps if a.max_steps else min(1.0, elapsed / budget)
        for g in opt.param_groups:
            g['lr'] = a.lr * 0.5 * (1 + math.cos(math.pi * frac))
        idx = train_idx[np.random.randint(0, len(train_idx), a.batch)]
        x = batch(crops, idx, size, rng, device)
        y = torch.from_numpy(y_all[idx]).to(device)
        loss = head(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % a.eval_every == 0:
            val = validate(net, crops, labels, groups, held, device) if held else None
            log(event='step', step=step, loss=round(float(loss), 4), lr=round(opt.param_groups[0]['lr'], 6), val_rank1=val)
    val = validate(net, crops, labels, groups, held, device) if held else None
    log(event='done', steps=step, crops_seen=step * a.batch, loss=round(float(loss), 4), val_rank1=val)

    # Export: any batch, any H x W (the runtime feeds native-resolution crops).
    net.eval().cpu()
    onnx_path = os.path.join(a.out, 'model.onnx')
    dummy = torch.zeros(1, 3, header['crop'], header['crop'])
    torch.onnx.export(net, dummy, onnx_path, input_names=['image'], output_names=['embedding'], opset_version=17,
                      dynamic_axes={'image': {0: 'n', 2: 'h', 3: 'w'}, 'embedding': {0: 'n'}})
    onnx_bytes = open(onnx_path, 'rb').read()
    sha = hashlib.sha256(onnx_bytes).hexdigest()
    manifest = {
        'id': a.id,
        'version': f'1.0.0+t{sha[:12]}',
        'description': f'Compact forensic CNN (high-pass, 6 conv layers of {a.width}/{2 * a.width}/{4 * a.width} channels, mean and std pooling, {a.dim}-d) trained with CosFace on native-resolution {size}-px crops of {header["sources"]}.',
        'provenance': {
            'builder': 'scripts/train/train.py',
            'training': {
                'pack': {k: header[k] for k in ('sources', 'count', 'crop', 'seed', 'perImage') if k in header},
                'classes': n_classes, 'heldOut': len(held), 'steps': step, 'cropsSeen': step * a.batch,
                'seconds': round(time.time() - t0, 1), 'device': str(device), 'torch': torch.__version__,
                'seed': a.seed, 'width': a.width, 'dim': a.dim, 'batch': a.batch, 'lr': a.lr, 'valRank1': val,
            },
            'onnxSha256': sha,
        },
        'input': {'name': 'image', 'layout': 'NCHW', 'channels': 3, 'scale': 1 / 255, 'mean': [0, 0, 0], 'std': [1, 1, 1]},
        'output': {'name': 'embedding', 'dim': a.dim, 'normalise': 'l2'},
        'crop': {'size': header['crop'], 'plan': 'grid', 'count': 16, 'minSize': 32, 'multiple': 8, 'dynamic': True},
        'decision': {'margin': 0},
    }
    with open(os.path.join(a.out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2); f.write('\n')
    log(event='exported', onnx=onnx_path, sha256=sha, bytes=len(onnx_bytes))
    logf.close()


if __name__ == '__main__':
    main(sys.argv[1:])
