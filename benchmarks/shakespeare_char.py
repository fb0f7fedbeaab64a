"""nanoGPT's CPU baby GPT, trained by jojo: the `shakespeare-char` preset (byte tokens, tail split, 4 layers,
4 heads, 128 dims, block 64, batch 12, lr 1e-3, 2000 iterations, eval every 250 steps on 20 batches).

Reference, measured on this kind of machine (2 cores): nanoGPT reaches val loss 1.886 after 2000 iterations
in 112 s of wall time. jojo must reach <= 1.89 in no more time; the modern options should do better.

    python benchmarks/shakespeare_char.py [--modern-only | --baseline-only]
"""
import json, subprocess, sys, tempfile, time
from pathlib import Path

NANOGPT_VAL, NANOGPT_SECONDS = 1.886, 112.0
MODERN = ['--model.rotary', 'true', '--model.norm', 'rmsnorm', '--model.qk_norm', 'true', '--model.mlp', 'relu2',
          '--model.tie_embeddings', 'false', '--model.zero_init_proj', 'true', '--model.logit_softcap', '30',
          '--model.bias', 'false']

def train(name, extra, runs):
    jojo = str(Path(sys.executable).parent/'jojo')
    t0 = time.time()
    p = subprocess.run([jojo, 'train', '--preset', 'shakespeare-char', '--runs-dir', runs, '--run-name', name,
                        '--log.tensorboard', 'false', *extra], capture_output=True, text=True)
    wall = time.time() - t0
    if p.returncode: sys.exit(p.stderr[-3000:])
    recs = [json.loads(l) for l in (Path(runs)/name/'metrics.jsonl').read_text().splitlines()]
    val = [r['val_loss'] for r in recs if 'val_loss' in r]
    steps = [r for r in recs if 'loss' in r]
    tps = sorted(r['tokens_per_sec'] for r in steps)[len(steps) // 2]
    return val[-1], wall, tps

if __name__ == '__main__':
    with tempfile.TemporaryDirectory() as runs:
        rows = []
        if '--modern-only' not in sys.argv: rows.append(('gpt2 options',) + train('base', [], runs))
        if '--baseline-only' not in sys.argv: rows.append(('modern options',) + train('modern', MODERN, runs))
    print(f"nanoGPT reference: val loss {NANOGPT_VAL} in {NANOGPT_SECONDS:.0f} s (2000 iterations)")
    for name, val, wall, tps in rows:
        print(f"jojo {name:15s}: val loss {val:.4f} in {wall:.0f} s wall (process start, data and evals included), "
              f"median {tps:,.0f} tokens/s; time ratio {wall / NANOGPT_SECONDS:.2f}")
