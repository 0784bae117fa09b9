"""Compares dumped embeddings on the `dfg eval` protocol (numpy replica in evalproto.py).

    python3 scripts/experiments/compare.py ITEMS_PREFIX BASE_PREFIX:MODEL:DIM CAND_PREFIX:MODEL:DIM [--repeats 100]

ITEMS_PREFIX is any dump of the same folder (its .json lists the items); each model spec names
a dump prefix, the model id and its output dimension. Prints mean ± sd over repeats for both
and the paired difference (candidate − base) with its standard error. Validation only.
"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evalproto import evaluate, fmt, load_feats, load_index, paired

def main(argv):
    repeats = 100
    if '--repeats' in argv:
        i = argv.index('--repeats'); repeats = int(argv[i + 1]); del argv[i:i + 2]
    items = load_index(argv[0])
    specs = [a.split(':') for a in argv[1:3]]
    base, cand = [load_feats(p, m, int(d)) for p, m, d in specs]
    print(f'{specs[0][1]:>14}', fmt(evaluate(items, base, repeats=repeats)))
    print(f'{specs[1][1]:>14}', fmt(evaluate(items, cand, repeats=repeats)))
    print(f'{"difference":>14}', paired(items, base, cand, repeats=repeats))

if __name__ == '__main__':
    main(sys.argv[1:])
