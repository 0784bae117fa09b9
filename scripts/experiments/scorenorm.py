"""Open-set score normalisations from the enrolled gallery alone, on the `dfg eval` protocol.

    python3 scripts/experiments/scorenorm.py ITEMS_PREFIX FEATS_PREFIX:MODEL:DIM [--repeats 40]

Per repeat (evalproto's splits), every probe gets the service's per-algorithm score (mean of the
best top_m cosines to the algorithm's shots); each variant maps those scores to new ones using
statistics of the registration shots only (leave-one-out genuine scores of an algorithm's own
shots, impostor scores of the other classes' shots against it), then Rank-1 is the argmax and
AUROC uses the best normalised score. Paired differences to the raw score over the same splits.
Choose on a simulated genome; run wild-dev only to check (validation only, nothing is fitted).
"""
import os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evalproto import auroc, load_feats, load_index, splits

def topm(S, mask, m):
    s = np.sort(np.where(mask, S, -np.inf), axis=1)[:, ::-1][:, :m]
    k = np.minimum(m, mask.sum(1))
    s = np.where(np.isfinite(s), s, 0)
    return s.sum(1) / np.maximum(k, 1)

def gallery_stats(G, lab, classes, m):
    """LOO genuine and impostor per-algorithm scores of the shots (calibrate.ts's statistics)."""
    S = G @ G.T
    np.fill_diagonal(S, -np.inf)
    n = len(G)
    sc = np.zeros((n, len(classes)))
    for c, a in enumerate(classes):
        mask = np.broadcast_to(lab == a, (n, n)) & np.isfinite(S)
        sc[:, c] = topm(S, mask, m)
    gen = {a: sc[lab == a, c] for c, a in enumerate(classes)}
    imp = {a: sc[lab != a, c] for c, a in enumerate(classes)}
    return gen, imp

LAMBDAS = (0.25, 0.5, 0.75, 1, 1.5, 2)

def variants(P, gen, imp, classes):
    mg = np.array([gen[a].mean() for a in classes]); sg = np.array([gen[a].std(ddof=1) for a in classes])
    mi = np.array([imp[a].mean() for a in classes]); si = np.array([imp[a].std(ddof=1) for a in classes])
    srt = np.sort(P, axis=1)[:, ::-1]
    out = {
        'raw': P,
        'znorm-imp': (P - mi) / np.maximum(si, 1e-6),
        'znorm-gen': (P - mg) / np.maximum(sg, 1e-6),
        'centre-gen': P - mg,
        'gen-imp-scale': (P - mi) / np.maximum(mg - mi, 1e-6),
        'tnorm': (P - P.mean(1, keepdims=True)) / np.maximum(P.std(1, keepdims=True), 1e-9),
        'minus-runner-up': P - srt[:, 1:2],
        'minus-mean-top5': P - srt[:, 1:6].mean(1, keepdims=True),
    }
    zi = out['znorm-imp']; tn = out['tnorm']
    out['snorm'] = 0.5 * (zi + tn)
    # Rank by the raw score, but report the z-normalised score of that raw best class.
    best = P.argmax(1, keepdims=True)
    out['raw-rank-zimp-open'] = np.where(np.arange(P.shape[1]) == best, zi + 1e3, zi - 1e3)
    # Runner-up blend (score.ts): ((1+l)·s_a − l·s_best_other) / (1+2l); ranking and margin unchanged.
    other = np.where(P == srt[:, :1], srt[:, 1:2], srt[:, :1])
    for l in LAMBDAS:
        out[f'blend-{l:g}'] = ((1 + l) * P - l * other) / (1 + 2 * l)
    return out

def run(items, X, repeats=40, shots=5, unknown=0.3, top_m=3, seed=1, authentic=('real-afhq', 'real-stock-human', 'real')):
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    res = {}
    for gal_idx, gal_lab, kp, up, algs in splits(items, repeats, shots, unknown, seed, authentic):
        classes = sorted(set(gal_lab))
        G = X[gal_idx]
        gen, imp = gallery_stats(G, gal_lab, classes, top_m)
        def scores(pidx):
            S = X[pidx] @ G.T
            return np.stack([topm(S, np.broadcast_to(gal_lab == a, S.shape), top_m) for a in classes], 1)
        Vk = variants(scores(kp), gen, imp, classes); Vu = variants(scores(up), gen, imp, classes)
        truth = np.array([classes.index(algs[i]) for i in kp])
        for name in Vk:
            r1 = np.mean(Vk[name].argmax(1) == truth)
            au = auroc(Vk[name].max(1), Vu[name].max(1))
            res.setdefault(name, []).append((r1, au))
    return {k: np.array(v) for k, v in res.items()}

def main(argv):
    repeats = 40
    if '--repeats' in argv:
        i = argv.index('--repeats'); repeats = int(argv[i + 1]); del argv[i:i + 2]
    items = load_index(argv[0]); p, m, d = argv[1].split(':')
    res = run(items, load_feats(p, m, int(d)), repeats=repeats)
    base = res['raw']
    print(f'{"variant":>16}  Rank-1          AUROC           dRank-1 (se)     dAUROC (se)')
    for k, v in res.items():
        dv = v - base; se = dv.std(0, ddof=1) / np.sqrt(len(dv))
        print(f'{k:>16}  {v[:,0].mean():.3f} ± {v[:,0].std(ddof=1):.3f}  {np.nanmean(v[:,1]):.3f} ± {np.nanstd(v[:,1], ddof=1):.3f}  '
              f'{dv[:,0].mean():+.3f} ({se[0]:.3f})  {np.nanmean(dv[:,1]):+.3f} ({se[1]:.3f})')

if __name__ == '__main__':
    main(sys.argv[1:])
