"""Gallery-adapted metrics on the `dfg eval` protocol (numpy replica, evalproto.py splits).

    python3 scripts/experiments/galmetric.py DUMP_PREFIX MODEL DIM [REPEATS]

Per repeat, a transform is fitted on the registration shots alone (gallery centring, WCCN with
and without centring, shrunk LDA) and applied to shots and probes before the top-m cosine
scoring; paired differences to plain cosine. The service ships WCCN without centring
(src/attribution/gallery-metric.ts). Validation only: nothing is fitted on wild-dev beyond each
split's registered shots, as the service fits on its enrolled samples.
"""
import sys, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from evalproto import auroc, load_feats, load_index, splits

def l2(X): return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)

def score(X, gal_idx, gal_lab, pidx, top_m=3):
    classes = sorted(set(gal_lab))
    S = X[pidx] @ X[gal_idx].T
    out = np.zeros((len(pidx), len(classes)))
    for c, a in enumerate(classes):
        s = np.sort(S[:, gal_lab == a], axis=1)[:, ::-1][:, :top_m]
        out[:, c] = s.mean(axis=1)
    return out, classes

def run(items, X, transform, repeats=30, **kw):
    r1, au = [], []
    X = l2(X)
    for gi, gl, kp, up, algs in splits(items, repeats, **kw):
        Xt = l2(transform(X, gi, gl))
        Sk, classes = score(Xt, gi, gl, kp); Su, _ = score(Xt, gi, gl, up)
        truth = np.array([classes.index(algs[i]) for i in kp])
        r1.append(np.mean(Sk.argmax(1) == truth)); au.append(auroc(Sk.max(1), Su.max(1)))
    return np.array(r1), np.array(au)

def ident(X, gi, gl): return X

def centre(X, gi, gl): return X - X[gi].mean(0)

def wccn(alpha, do_centre=True):
    def f(X, gi, gl):
        G = X[gi]; mu = G.mean(0)
        Xc = X - mu if do_centre else X
        R = np.zeros((X.shape[1], X.shape[1]))
        for a in set(gl):
            D = G[gl == a] - G[gl == a].mean(0); R += D.T @ D
        R /= len(gi)
        d = R.shape[0]
        R = (1 - alpha) * R / (np.trace(R) / d) + alpha * np.eye(d)
        w, V = np.linalg.eigh(R)
        W = V @ np.diag(w ** -0.5) @ V.T
        return Xc @ W
    return f

def lda(alpha, keep=None):
    def f(X, gi, gl):
        G = X[gi]; mu = G.mean(0); d = X.shape[1]
        Sw = np.zeros((d, d)); Sb = np.zeros((d, d))
        for a in set(gl):
            Ga = G[gl == a]; m = Ga.mean(0)
            D = Ga - m; Sw += D.T @ D
            Sb += len(Ga) * np.outer(m - mu, m - mu)
        Sw /= len(gi); Sb /= len(gi)
        Sw = (1 - alpha) * Sw / (np.trace(Sw) / d) + alpha * np.eye(d)
        w, V = np.linalg.eigh(Sw); Wi = V @ np.diag(w ** -0.5) @ V.T
        B = Wi @ Sb @ Wi
        bw, bV = np.linalg.eigh(B)
        order = bw.argsort()[::-1]
        k = keep or (len(set(gl)) - 1)
        P = Wi @ bV[:, order[:k]]
        return (X - mu) @ P
    return f

if __name__ == '__main__':
    prefix = sys.argv[1]; model = sys.argv[2]; dim = int(sys.argv[3]); reps = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    items = load_index(prefix); X = load_feats(prefix, model, dim)
    base = run(items, X, ident, reps)
    print(f'raw          Rank-1 {base[0].mean():.3f} AUROC {np.nanmean(base[1]):.3f}')
    variants = {'centre': centre}
    for a in (0.1, 0.3, 0.5, 0.7, 0.9): variants[f'wccn-{a}'] = wccn(a)
    for a in (0.3, 0.7): variants[f'wccn-nc-{a}'] = wccn(a, False)
    for a in (0.3, 0.7, 0.9): variants[f'lda-{a}'] = lda(a)
    for name, f in variants.items():
        r = run(items, X, f, reps)
        d1 = r[0] - base[0]; d2 = r[1] - base[1]
        print(f'{name:12s} Rank-1 {r[0].mean():.3f} AUROC {np.nanmean(r[1]):.3f}   d {d1.mean():+.3f} ({d1.std(ddof=1)/np.sqrt(len(d1)):.3f}) {np.nanmean(d2):+.3f} ({np.nanstd(d2,ddof=1)/np.sqrt(len(d2)):.3f})')
