"""Learning from real generators (issue 17): projections fitted on wild-train, chosen by
leave-generators-out cross-validation inside wild-train, then checked once on wild-dev.

    python3 scripts/experiments/wildtrain.py TRAIN_PREFIX DEV_PREFIX [--model residual-v2:1822]
            [--folds 5] [--cv-repeats 8] [--repeats 20] [--variants lda,wccn] [--dev]

TRAIN_PREFIX / DEV_PREFIX are dumps of dump-dataset.ts (wild-train and wild-dev). Every fit
(projection, cohort) uses wild-train only; `--dev` prints the wild-dev figures of the variants.
Scoring replicates the service: top-m mean cosine per algorithm, optionally the gallery WCCN
(DFG_METRIC=wccn:0.2) fitted on each repeat's shots, optionally adaptive score normalisation
(AS-norm) against a cohort of wild-train embeddings.
"""
import json, os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evalproto import auroc, load_feats, load_index, splits


def l2(X):
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


def authentic_of(prefix_root):
    g = json.load(open(os.path.join(prefix_root, 'genome.json')))['algorithms']
    return tuple(a for a, v in g.items() if v.get('forgeryType') == 'authentic')


# ---------- projections fitted on labelled training vectors ----------

_BASIS = {}
# PCA dimensions kept before the LDA (PCA-LDA): the within-class scatter of ~1700 images is
# only estimable in a space much smaller than the descriptor's 1822 dimensions.
PCA_DIM = int(os.environ.get('PCA_DIM', '400'))

def _basis(X, centre, pre_scale):
    """PCA basis of the (scaled, centred) training data, cached per training set."""
    key = (X.shape, float(X[:5].sum()), centre, pre_scale)
    if key not in _BASIS:
        Xn = l2(X)
        scale = 1 / np.maximum(Xn.std(0), 1e-8) if pre_scale else np.ones(X.shape[1])
        Xs = Xn * scale
        mu = Xs.mean(0) if centre else np.zeros(X.shape[1])
        Xc = Xs - mu
        # Gram-matrix eigen-decomposition: n × n, cheaper than an SVD of n × d.
        w, U = np.linalg.eigh(Xc @ Xc.T)
        keep = np.argsort(w)[::-1][:PCA_DIM]
        keep = keep[w[keep] > w.max() * 1e-9]
        V = Xc.T @ (U[:, keep] / np.sqrt(w[keep]))   # d × r orthonormal columns
        _BASIS[key] = (scale, mu, V, Xc @ V)
    return _BASIS[key]


def fit_lda(X, lab, alpha=0.3, k=64, centre=True, pre_scale=True):
    """Shrunk LDA on L2-normalised inputs: returns (scale, mu, P) so that z = ((x/|x|)*scale - mu) @ P."""
    scale, mu, V, Z = _basis(X, centre, pre_scale)
    classes = sorted(set(lab))
    Sw = np.zeros((Z.shape[1],) * 2); Sb = np.zeros_like(Sw)
    gm = Z.mean(0)
    for a in classes:
        Za = Z[lab == a]; m = Za.mean(0)
        D = Za - m; Sw += D.T @ D
        Sb += len(Za) * np.outer(m - gm, m - gm)
    Sw /= len(Z); Sb /= len(Z)
    r = Sw.shape[0]
    Sw = (1 - alpha) * Sw / (np.trace(Sw) / r) + alpha * np.eye(r) * (np.trace(Sw) / r) / (np.trace(Sw) / r)
    w, E = np.linalg.eigh(Sw)
    Wi = E @ np.diag(w ** -0.5) @ E.T
    bw, bV = np.linalg.eigh(Wi @ Sb @ Wi)
    order = bw.argsort()[::-1][:k]
    P = V @ Wi @ bV[:, order]
    return scale, mu, P


def fit_wccn(X, lab, alpha=0.3, centre=False, pre_scale=False):
    X = l2(X)
    scale = 1 / np.maximum(X.std(0), 1e-8) if pre_scale else np.ones(X.shape[1])
    Xs = X * scale
    mu = Xs.mean(0) if centre else np.zeros(X.shape[1])
    Xc = Xs - mu
    d = X.shape[1]
    R = np.zeros((d, d))
    for a in set(lab):
        D = Xc[lab == a] - Xc[lab == a].mean(0); R += D.T @ D
    R /= len(Xc)
    R = (1 - alpha) * R / (np.trace(R) / d) + alpha * np.eye(d)
    w, V = np.linalg.eigh(R)
    return scale, mu, V @ np.diag(w ** -0.5) @ V.T


def apply(fit, X):
    scale, mu, P = fit
    return l2((l2(X) * scale - mu) @ P)


# ---------- protocol scoring ----------

def topm_scores(S, gal_lab, classes, m=3):
    out = np.zeros((S.shape[0], len(classes)))
    for c, a in enumerate(classes):
        s = np.sort(S[:, gal_lab == a], axis=1)[:, ::-1][:, :m]
        out[:, c] = s.mean(axis=1)
    return out


def gallery_wccn(G, gl, alpha=0.2):
    d = G.shape[1]
    R = np.zeros((d, d))
    for a in set(gl):
        D = G[gl == a] - G[gl == a].mean(0); R += D.T @ D
    R /= len(G)
    R = (1 - alpha) * R / (np.trace(R) / d) + alpha * np.eye(d)
    w, V = np.linalg.eigh(R)
    return V @ np.diag(w ** -0.5) @ V.T


def asnorm(P, Q, G, gl, classes, C, k=100, m=3):
    """Adaptive symmetric score normalisation of per-algorithm scores P [probes × classes].
    Q: probe vectors, G: gallery vectors, C: cohort vectors (all already in the scoring space)."""
    k = min(k, len(C))
    Sq = np.sort(Q @ C.T, axis=1)[:, ::-1][:, :k]
    mq, sq = Sq.mean(1, keepdims=True), Sq.std(1, keepdims=True)
    # Algorithm side: the cohort scored against each algorithm the way probes are.
    Pa = topm_scores(C @ G.T, gl, classes, m)          # cohort × classes
    Sa = np.sort(Pa, axis=0)[::-1][:k]
    ma, sa = Sa.mean(0, keepdims=True), Sa.std(0, keepdims=True)
    return 0.5 * ((P - mq) / np.maximum(sq, 1e-9) + (P - ma) / np.maximum(sa, 1e-9))


def protocol(items, X, authentic, repeats=20, seed=1, metric=None, cohort=None, k=100, shots=5):
    """Rank-1, AUROC, DIR@FPIR 0.01 per repeat. X: vectors in the model space (L2-normalised)."""
    X = l2(X)
    r1s, aus, dirs = [], [], []
    for gi, gl, kp, up, algs in splits(items, repeats, shots, 0.3, seed, authentic):
        classes = sorted(set(gl))
        Xs, Cs = X, cohort
        if metric is not None:
            W = gallery_wccn(X[gi], gl, metric)
            Xs = l2(X @ W)
            Cs = l2(cohort @ W) if cohort is not None else None
        G = Xs[gi]
        Pk = topm_scores(Xs[kp] @ G.T, gl, classes); Pu = topm_scores(Xs[up] @ G.T, gl, classes)
        if Cs is not None:
            Pk = asnorm(Pk, Xs[kp], G, gl, classes, Cs, k)
            Pu = asnorm(Pu, Xs[up], G, gl, classes, Cs, k)
        # Forgery classes only compete for Rank-1 as in the service (authentic classes compete too).
        truth = np.array([classes.index(algs[i]) for i in kp])
        r1s.append(np.mean(Pk.argmax(1) == truth))
        sk, su = Pk.max(1), Pu.max(1)
        aus.append(auroc(sk, su))
        thr = np.quantile(su, 0.99, method='higher') if len(su) else np.inf
        dirs.append(np.mean((Pk.argmax(1) == truth) & (sk > thr)))
    return np.array(r1s), np.array(aus), np.array(dirs)


def summary(res):
    r1, au, di = res
    return f'Rank-1 {r1.mean():.3f} ± {r1.std(ddof=1):.3f}  AUROC {np.nanmean(au):.3f} ± {np.nanstd(au, ddof=1):.3f}  DIR@1% {di.mean():.3f}'


# ---------- leave-generators-out cross-validation inside wild-train ----------

def cv(items, X, authentic, make_fit, folds=5, cv_repeats=8, seed=7, metric=0.2, use_cohort=False, k=100):
    algs = np.array([it['algorithm'] for it in items])
    forg = sorted(a for a in set(algs) if a not in authentic)
    rng = np.random.default_rng(seed)
    order = rng.permutation(forg)
    res = [[], [], []]
    for f in range(folds):
        held = set(order[f::folds])
        tr = np.array([a not in held for a in algs])
        te = np.array([a in held for a in algs])
        fit = make_fit(X[tr], algs[tr]) if make_fit else None
        Z = apply(fit, X) if fit else l2(X)
        sub = [it for it, t in zip(items, te) if t]
        coh = Z[tr] if use_cohort else None
        r = protocol(sub, Z[te], (), repeats=cv_repeats, seed=seed + f, metric=metric, cohort=coh, k=k)
        for i in range(3): res[i].extend(r[i])
    return tuple(np.array(v) for v in res)


def main(argv):
    def opt(name, dflt):
        if f'--{name}' in argv:
            i = argv.index(f'--{name}'); v = argv[i + 1]; del argv[i:i + 2]; return v
        return dflt
    model, dim = opt('model', 'residual-v2:1822').split(':')
    folds = int(opt('folds', '5')); cvr = int(opt('cv-repeats', '8')); reps = int(opt('repeats', '20'))
    only = opt('variants', '')
    dev = '--dev' in argv
    argv = [a for a in argv if a not in ('--dev', '--fast')]
    tp, dp = argv[0], argv[1]
    ti, di = load_index(tp), load_index(dp)
    Xt, Xd = load_feats(tp, model, int(dim)), load_feats(dp, model, int(dim))
    troot = os.path.dirname(ti[0]['file'].rsplit('/', 1)[0]); droot = os.path.dirname(di[0]['file'].rsplit('/', 1)[0])
    ta, da = authentic_of(troot), authentic_of(droot)
    lt = np.array([it['algorithm'] for it in ti])
    variants = {
        'none': None,
    }
    for a in (0.1, 0.3, 0.5):
        for k in (32, 56):
            variants[f'lda-{a}-{k}'] = (lambda a, k: lambda X, y: fit_lda(X, y, a, k))(a, k)
    for a in (0.3, 0.5):
        variants[f'wccn-{a}'] = (lambda a: lambda X, y: fit_wccn(X, y, a))(a)
        variants[f'wccn-sc-{a}'] = (lambda a: lambda X, y: fit_wccn(X, y, a, True, True))(a)
    if only:
        keep = only.split(',')
        variants = {k: v for k, v in variants.items() if any(k.startswith(p) for p in keep)}
    combos = [(m, c) for m in (None, 0.2) for c in (False, True)]
    if '--fast' in sys.argv:
        combos = [(0.2, False), (0.2, True)]
    for name, mk in variants.items():
        for metric, coh in combos:
                r = cv(ti, Xt, ta, mk, folds, cvr, metric=metric, use_cohort=coh)
                line = f'{name:14s} metric={metric} asnorm={coh:d}  CV {summary(r)}'
                if dev:
                    fit = mk(Xt, lt) if mk else None
                    Zt = apply(fit, Xt) if fit else l2(Xt)
                    Zd = apply(fit, Xd) if fit else l2(Xd)
                    rd = protocol(di, Zd, da, reps, metric=metric, cohort=Zt if coh else None)
                    line += f'  | dev {summary(rd)}'
                print(line, flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
