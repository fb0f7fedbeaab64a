"""What glibc's defaults cost a CPU training run, and what `keep_freed_memory` (device chapter) gives back.

The same `jojo train` run (the tiny-cpu model with GPT-2's tokenizer, so a 50,304-way head, block 128, batch 8;
N steps, no evals or checkpoints) twice in fresh processes:
with `JOJO_MALLOC=system` (glibc's defaults: every large tensor is mmapped and unmapped each step) as the
baseline, and as jojo runs it. Each child reports its own wall time, user and system CPU time, minor page faults
and peak RSS; the figures are ratios against the baseline measured in the same run.

    python benchmarks/cpu_allocator.py [STEPS]
"""
import json, os, subprocess, sys, tempfile

CHILD = """
import json, resource, sys, time
from jojo_nb.cli import main
t0 = time.time()
code = main(sys.argv[1:])
r = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps(dict(code=code, wall=time.time() - t0, user=r.ru_utime, sys=r.ru_stime, faults=r.ru_minflt,
                      peak_mb=r.ru_maxrss / 1024)))
"""

def run(steps:int, malloc:str|None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != 'JOJO_MALLOC'}
    if malloc: env['JOJO_MALLOC'] = malloc
    with tempfile.TemporaryDirectory() as d:
        args = ['train', '--preset', 'tiny-cpu', '--data.tokenizer', 'gpt2', '--model.vocab_size', '0',
                '--model.block_size', '128', '--train.micro_batch_size', '8',
                '--train.max_steps', str(steps), '--optim.warmup_steps', '2',
                '--eval.interval', '0', '--checkpoint.interval', '0', '--log.tensorboard', 'false',
                '--log.console', 'false', '--run-name', 'bench', '--runs-dir', d]
        p = subprocess.run([sys.executable, '-c', CHILD, *args], env=env, capture_output=True, text=True)
    if p.returncode: sys.exit(p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1])

if __name__ == '__main__':
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    base, ours = run(steps, 'system'), run(steps, None)
    print(f"tiny-cpu with GPT-2 tokens, {steps} steps, a fresh process each (prepare, model build and the steps)")
    print(f"{'':26s}{'wall s':>9s}{'user s':>9s}{'sys s':>9s}{'faults M':>10s}{'peak RSS MB':>13s}")
    for name, r in (("glibc defaults (baseline)", base), ("keep_freed_memory", ours)):
        print(f"{name:26s}{r['wall']:9.1f}{r['user']:9.1f}{r['sys']:9.1f}{r['faults'] / 1e6:10.2f}{r['peak_mb']:13.0f}")
    print(f"ratios to the baseline: wall {ours['wall'] / base['wall']:.2f}x, sys {ours['sys'] / base['sys']:.2f}x, "
          f"faults {ours['faults'] / base['faults']:.3f}x, peak RSS {ours['peak_mb'] / base['peak_mb']:.2f}x")
