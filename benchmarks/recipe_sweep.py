"""A short learning-rate sweep for the quickest recipe to nanoGPT's 1.8857 (issue 32): the `modern-hf` model options
(they export to Hugging Face as Qwen3) with Muon on the hidden matrices, at the tiny-cpu shape (4x4x128, block 64,
batch 12, 2000-step cosine schedule).

Stage 1 runs each point of the grid (Muon's lr for the matrices x AdamW's lr for embeddings, head and norms x
warmup) with the full 2000-step schedule but stops it after the evaluation at `--stop` steps, and records the
validation loss every 50 steps and the wall time (process start included) to the first evaluation at or below
1.8857. Stage 2 (`--full K`) runs the K quickest points for all 2000 steps, to check the final loss (<= 1.60).
Points run one after the other, in this process's run; the load average is recorded with each row.

    python benchmarks/recipe_sweep.py [--muon-lr 0.01,0.02,0.04] [--lr 2e-3,4e-3] [--warmup 100] [--stop 500] [--full 2]
"""
import argparse, itertools, sys, tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from shakespeare_char import MODERN_HF, TARGET, jojo_train

def floats(s:str) -> list[float]: return [float(x) for x in s.split(',')]

def recipe(muon_lr:float, lr:float, warmup:int, extra:list[str]) -> list[str]:
    return MODERN_HF + ['--optim.name', 'muon', '--optim.muon_lr', str(muon_lr), '--optim.lr', str(lr),
                        '--optim.min_lr', str(lr / 10), '--optim.warmup_steps', str(warmup), *extra]

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--muon-lr', default='0.01,0.02,0.04', help="Muon's lr for the hidden matrices (comma-separated)")
    ap.add_argument('--lr', default='2e-3,4e-3', help="AdamW's lr for embeddings, head and norms")
    ap.add_argument('--warmup', default='100', help='warmup steps')
    ap.add_argument('--stop', type=int, default=500, help='stage 1 stops each run after this step')
    ap.add_argument('--full', type=int, default=0, help='stage 2: run the K quickest points for all 2000 steps')
    ap.add_argument('--extra', default='', help='more `jojo train` options for every run, space-separated')
    a = ap.parse_args()
    extra = a.extra.split()
    grid = list(itertools.product(floats(a.muon_lr), floats(a.lr), [int(w) for w in a.warmup.split(',')]))
    shown = [s for s in (250, 300, 350, 400, 450, 500, 600, 800) if s <= a.stop]
    print(f"stage 1: 2000-step schedule, stopped after step {a.stop}; val loss at steps {shown}; "
          f"time = wall seconds to the first evaluation <= {TARGET}")
    print('| muon_lr | lr | warmup | ' + ' | '.join(f'val@{s}' for s in shown) + ' | time to 1.8857 | ms/step | load |')
    print('|---' * (len(shown) + 6) + '|', flush=True)
    results = []
    with tempfile.TemporaryDirectory() as runs:
        for i, (mlr, lr, wu) in enumerate(grid):
            r = jojo_train(f'p{i}', recipe(mlr, lr, wu, extra), runs, stop_at=a.stop)
            results.append(((mlr, lr, wu), r))
            vals = ' | '.join(f"{r['vals'][s]:.4f}" if s in r['vals'] else '-' for s in shown)
            hit = f"{r['reached']:.1f} s (step {r['step']})" if r['reached'] else '-'
            print(f"| {mlr} | {lr} | {wu} | {vals} | {hit} | {r['ms']:.0f} | {r['load']} |", flush=True)
        best = sorted((x for x in results if x[1]['step']), key=lambda x: (x[1]['step'], x[1]['reached']))[:a.full]
        if best: print('\nstage 2: the quickest points, all 2000 steps\n'
                       '| muon_lr | lr | warmup | val@2000 | wall | time to 1.8857 | load |\n|---|---|---|---|---|---|---|')
        for j, ((mlr, lr, wu), _) in enumerate(best):
            r = jojo_train(f'full{j}', recipe(mlr, lr, wu, extra), runs)
            hit = f"{r['reached']:.1f} s (step {r['step']})" if r['reached'] else 'not reached'
            print(f"| {mlr} | {lr} | {wu} | {r['val']:.4f} | {r['wall']:.1f} s | {hit} "
                  f"| {r['load']} |", flush=True)

if __name__ == '__main__': main()
