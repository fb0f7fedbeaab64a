"""nanoGPT's CPU baby GPT, trained by jojo: the `shakespeare-char` preset (byte tokens, tail split, 4 layers,
4 heads, 128 dims, block 64, batch 12, lr 1e-3, 2000 iterations).

Reference, measured on this kind of machine (2 cores): nanoGPT reaches val loss 1.8857 after 2000 iterations
in 112 s of wall time. Reported for jojo's default (GPT-2) options and for the modern options: the final
validation loss, the whole run's wall time, and the wall time until the first evaluation at or below nanoGPT's
1.8857 (evaluations every 50 steps on 20 batches, so the time is known to within 50 steps; process start, data
preparation and evaluations included). Both runs happen in this process's run, one after the other.

    python benchmarks/shakespeare_char.py [--modern-only | --baseline-only]
"""
import json, subprocess, sys, tempfile, time
from pathlib import Path

NANOGPT_VAL, NANOGPT_SECONDS = 1.8857, 112.0
MODERN = ['--model.rotary', 'true', '--model.norm', 'rmsnorm', '--model.qk_norm', 'true', '--model.mlp', 'relu2',
          '--model.tie_embeddings', 'false', '--model.zero_init_proj', 'true', '--model.logit_softcap', '30',
          '--model.bias', 'false']

def records(path:Path) -> list[dict]:
    try: return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    except (OSError, ValueError): return []

def train(name:str, extra:list[str], runs:str) -> dict:
    "Train one run; the wall time to each evaluation is taken by watching its metrics.jsonl as it is written."
    jojo = str(Path(sys.executable).parent/'jojo')
    metrics = Path(runs)/name/'metrics.jsonl'
    t0, reached = time.time(), None
    p = subprocess.Popen([jojo, 'train', '--preset', 'shakespeare-char', '--runs-dir', runs, '--run-name', name,
                          '--log.tensorboard', 'false', '--eval.interval', '50', *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while p.poll() is None:
        if reached is None and any(r.get('val_loss', 99) <= NANOGPT_VAL for r in records(metrics)):
            reached = time.time() - t0
        time.sleep(0.1)
    wall, err = time.time() - t0, p.stderr.read()
    if p.returncode: sys.exit(err[-3000:])
    recs = records(metrics)
    val = [(r['step'], r['val_loss']) for r in recs if 'val_loss' in r]
    first = next(((s, v) for s, v in val if v <= NANOGPT_VAL), None)
    if first and reached is None: reached = wall  # reached in the last evaluation, after the last poll
    steps = [r for r in recs if 'loss' in r]
    tps = sorted(r['tokens_per_sec'] for r in steps)[len(steps) // 2]
    return dict(val=val[-1][1], wall=wall, tps=tps, reached=reached, step=first[0] if first else None)

if __name__ == '__main__':
    with tempfile.TemporaryDirectory() as runs:
        rows = []
        if '--modern-only' not in sys.argv: rows.append(('gpt2 options', train('base', [], runs)))
        if '--baseline-only' not in sys.argv: rows.append(('modern options', train('modern', MODERN, runs)))
    print(f"nanoGPT reference: val loss {NANOGPT_VAL} in {NANOGPT_SECONDS:.0f} s (2000 iterations)")
    for name, r in rows:
        hit = (f"{r['reached']:.0f} s (step {r['step']}), {r['reached'] / NANOGPT_SECONDS:.2f}x nanoGPT's time"
               if r['reached'] else 'not reached')
        print(f"jojo {name:15s}: val loss {r['val']:.4f} after 2000 steps in {r['wall']:.0f} s wall "
              f"({r['wall'] / NANOGPT_SECONDS:.2f}x), median {r['tps']:,.0f} tokens/s; val <= {NANOGPT_VAL}: {hit}")
