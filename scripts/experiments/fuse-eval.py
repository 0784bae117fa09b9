"""A candidate embedding alone and fused with a base one, in the service's default scoring
(gallery WCCN without centring, alpha 0.2, fitted per split on the registered shots), on the numpy
protocol (evalproto.py splits): Rank-1 and AUROC, paired differences to the base.

    python3 scripts/experiments/fuse-eval.py PREFIX BASE:DIM CAND:DIM [--repeats 30] [--weights 0.25,0.5,1]

Fusion as the service fuses models (DFG_MODEL=base,cand:w): each vector L2-normalised, scaled by
sqrt(weight), concatenated. Validation only: nothing is fitted on the dumped folder.
"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from evalproto import load_feats, load_index
from galmetric import l2, run, wccn, ident


def main(argv):
    repeats, weights = 30, [0.25, 0.5, 1.0]
    if '--repeats' in argv:
        i = argv.index('--repeats'); repeats = int(argv[i + 1]); del argv[i:i + 2]
    if '--weights' in argv:
        i = argv.index('--weights'); weights = [float(w) for w in argv[i + 1].split(',')]; del argv[i:i + 2]
    prefix = argv[0]
    (bm, bd), (cm, cd) = [a.split(':') for a in argv[1:3]]
    items = load_index(prefix)
    B = l2(load_feats(prefix, bm, int(bd))); C = l2(load_feats(prefix, cm, int(cd)))
    metric = wccn(0.2, False)
    base = run(items, B, metric, repeats)

    def show(name, r):
        d1 = r[0] - base[0]; d2 = r[1] - base[1]
        se = lambda d: np.nanstd(d, ddof=1) / np.sqrt(np.sum(~np.isnan(d)))
        print(f'{name:24s} Rank-1 {r[0].mean():.3f} AUROC {np.nanmean(r[1]):.3f}   vs base {d1.mean():+.3f} ({se(d1):.3f}) {np.nanmean(d2):+.3f} ({se(d2):.3f})', flush=True)

    show(f'{bm} (base)', base)
    show(f'{cm} cosine', run(items, C, ident, repeats))
    show(f'{cm} wccn', run(items, C, metric, repeats))
    for w in weights:
        F = np.concatenate([B, np.sqrt(w) * C], 1)
        show(f'{bm}+{cm}:{w} wccn', run(items, F, metric, repeats))


if __name__ == '__main__':
    main(sys.argv[1:])
