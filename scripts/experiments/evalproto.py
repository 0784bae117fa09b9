"""Experiment helper: the `dfg eval` protocol in numpy, for fast iteration on dumped features.

Mirrors src/evaluation/protocol.ts + evaluate-split.ts closely (not bit for bit: its own RNG):
per repeat, 30% of the non-authentic algorithms are held out as unknown; each registered class
enrols `shots` images drawn source group by source group, probes are the images of undrawn
groups; per-algorithm score = mean of the best top_m cosine similarities; Rank-1 over known
probes of forgery algorithms; AUROC known vs unknown probes by the best per-algorithm score.
wild-dev is validation only: nothing here fits anything on it.
"""
import json, re
import numpy as np

GROUP = re.compile(r'^(.*)__t\d+\.[A-Za-z]+$')

def load_index(prefix):
    meta = json.load(open(prefix + '.json'))
    return meta['items']

def load_feats(prefix, model, dim):
    return np.fromfile(f'{prefix}.{model}.f32', dtype=np.float32).reshape(-1, dim).astype(np.float64)

def load_crop(prefix, it, _cache={}):
    if prefix not in _cache:
        _cache[prefix] = np.memmap(prefix + '.rgb', dtype=np.uint8, mode='r')
    mm = _cache[prefix]
    n = it['width'] * it['height'] * 3
    return np.asarray(mm[it['offset']:it['offset'] + n]).reshape(it['height'], it['width'], 3)

def groups_of(items):
    out = []
    for it in items:
        name = it['file'].rsplit('/', 1)[-1]
        m = GROUP.match(name)
        out.append(m.group(1) if m else name.rsplit('.', 1)[0])
    return out

def auroc(pos, neg):
    pos = np.asarray(pos); neg = np.asarray(neg)
    if len(pos) == 0 or len(neg) == 0: return np.nan
    allv = np.concatenate([pos, neg])
    ranks = allv.argsort().argsort().astype(float) + 1
    # ties: average ranks
    _, inv, cnt = np.unique(allv, return_inverse=True, return_counts=True)
    sums = np.zeros(len(cnt)); np.add.at(sums, inv, ranks)
    ranks = (sums / cnt)[inv]
    return (ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))

AUTHENTIC = ('real-afhq', 'real-stock-human', 'real')

def splits(items, repeats=30, shots=5, unknown=0.3, seed=1, authentic=AUTHENTIC):
    """The protocol's repeats: (gallery indices, gallery labels, known probes, unknown probes, labels)."""
    algs = np.array([it['algorithm'] for it in items])
    grp = np.array(groups_of(items))
    names = sorted(set(algs))
    forg = [a for a in names if a not in authentic]
    n_unk = min(len(forg) - 1, max(1, round(unknown * len(forg))))
    for r in range(repeats):
        rng = np.random.default_rng(seed * 1000 + r)
        unk = set(rng.permutation(forg)[:n_unk])
        gal_idx, gal_lab, kp, up = [], [], [], []
        for a in names:
            idx = np.where(algs == a)[0]
            if a in unk:
                up.extend(idx); continue
            gs = sorted(set(grp[idx]))
            order = rng.permutation(gs)
            chosen, used = [], 0
            while len(chosen) < shots:
                members = rng.permutation(idx[grp[idx] == order[used]])
                chosen.extend(members[:shots - len(chosen)]); used += 1
            gal_idx.extend(chosen); gal_lab.extend([a] * len(chosen))
            probes = [i for g in order[used:] for i in idx[grp[idx] == g]]
            if a not in authentic: kp.extend(probes)
        yield np.array(gal_idx), np.array(gal_lab), np.array(kp), np.array(up), algs

def evaluate(items, X, repeats=30, shots=5, unknown=0.3, top_m=3, seed=1, authentic=AUTHENTIC, per_repeat=False):
    """X: [n, d] embeddings (L2-normalised here). Returns (rank1 mean, sd, auroc mean, sd)."""
    X = np.asarray(X, dtype=np.float64)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    r1s, aus = [], []
    for gal_idx, gal_lab, kp, up, algs in splits(items, repeats, shots, unknown, seed, authentic):
        classes = sorted(set(gal_lab))
        def scores(pidx):
            S = X[pidx] @ X[gal_idx].T
            out = np.zeros((len(pidx), len(classes)))
            for c, a in enumerate(classes):
                s = np.sort(S[:, gal_lab == a], axis=1)[:, ::-1][:, :top_m]
                out[:, c] = s.mean(axis=1)
            return out
        Sk = scores(kp); Su = scores(up)
        truth = np.array([classes.index(algs[i]) for i in kp])
        r1s.append(np.mean(Sk.argmax(1) == truth))
        aus.append(auroc(Sk.max(1), Su.max(1)))
    if per_repeat: return np.array(r1s), np.array(aus)
    return np.mean(r1s), np.std(r1s, ddof=1), np.nanmean(aus), np.nanstd(aus, ddof=1)

def fmt(res):
    return f'Rank-1 {res[0]:.3f} ± {res[1]:.3f}  AUROC {res[2]:.3f} ± {res[3]:.3f}'

def paired(items, A, B, repeats=40, **kw):
    """Mean and standard error of B - A over the same repeats (Rank-1, AUROC)."""
    ra, aa = evaluate(items, A, repeats=repeats, per_repeat=True, **kw)
    rb, ab = evaluate(items, B, repeats=repeats, per_repeat=True, **kw)
    d1, d2 = rb - ra, ab - aa
    return f'dRank-1 {d1.mean():+.3f} (se {d1.std(ddof=1)/np.sqrt(len(d1)):.3f})  dAUROC {np.nanmean(d2):+.3f} (se {np.nanstd(d2, ddof=1)/np.sqrt(len(d2)):.3f})'
