"""One training step (forward + backward, train mode, fp32 on CPU) with the loss from the full logits, the baseline,
against the same step with the chunked loss (`GPT.forward(..., chunked_loss=True)`: `ChunkedLinearCrossEntropy`
computes each chunk's logits, loss, hits and gradient at once, so the `(B, T, V)` logits never exist).

Shapes, both with GPT-2's vocabulary (50257, padded to 50304):

- tiny: tiny-cpu's former shape (4 layers, 4 heads, 128 wide, block 128, micro-batch 8);
- gpt2: GPT-2 124M (12 layers, 12 heads, 768 wide, block 1024) on a small batch (`--gpt2-batch`, T = 1024).

Each path runs in a fresh child process (this script with the hidden `--child`), plain then chunked, on the same
weights and batch (seeded). The model and its gradients (allocated first, zeroed in place between steps; no
optimizer) exist before the first step, so the memory figure is what the step itself holds at its peak: activations,
logits and their gradients. Peak = VmHWM, reset to the current RSS through /proc/self/clear_refs just before the
first step (glibc gives large blocks back with munmap, so only a high-water mark sees them); the step's figure is
that peak minus the RSS before the step. ru_maxrss growth is shown as a cross-check (it cannot be reset, so it
misses what stays under the process's earlier high-water mark). The plain step's hits come from its logits by
`token_hits`, and the logits are dropped before the backward, as a caller that keeps only the loss would.

The plain child saves its loss, hits and gradients; the chunked child compares its own with them after its steps:
the loss difference, the largest gradient difference over all parameters, the hits. Times: the median of the steps
after the first (a warm-up), or the one step when there is only one (the default at GPT-2 shape, where a step takes
a minute on a small CPU). The two children run one after the other, so the time ratio carries the machine's noise.

    python benchmarks/chunked_loss.py [--shapes tiny,gpt2] [--steps 4] [--gpt2-steps 1] [--gpt2-batch 1]
"""
import argparse, json, os, resource, shutil, statistics, subprocess, sys, tempfile, time

MB = 1e6
SHAPES = ('tiny', 'gpt2')
LABEL = {'tiny': 'tiny-cpu', 'gpt2': 'gpt2-124M'}

def status_bytes(key:str) -> int:
    "A figure of /proc/self/status given in kB (VmRSS, VmHWM), in bytes."
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'): return int(line.split()[1]) * 1024
    raise KeyError(key)

def reset_hwm() -> bool:
    "Reset VmHWM to the current RSS (Linux >= 4.0); False where /proc/self/clear_refs cannot be written."
    try:
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')
        return True
    except OSError: return False

def maxrss() -> int: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux

def build(shape:str, batch:int):
    "The model (train mode, seed 0) and one batch of random GPT-2 tokens, the same in every child."
    import torch
    from jojo_nb.config import ModelConfig
    from jojo_nb.model import GPT
    if shape == 'tiny':  # tiny-cpu's model with GPT-2's vocabulary (the preset itself now uses byte tokens)
        cfg, B = ModelConfig(n_layer=4, n_head=4, n_embd=128, block_size=128, vocab_size=50257), batch or 8
    else: cfg, B = ModelConfig(n_layer=12, n_head=12, n_embd=768, block_size=1024, vocab_size=50257), batch or 1
    torch.manual_seed(0)
    model = GPT(cfg).train()
    g = torch.Generator().manual_seed(1)
    x, y = (torch.randint(0, cfg.vocab_size, (B, cfg.block_size), generator=g) for _ in range(2))
    return model, x, y

def step(model, x, y, chunked:bool):
    "Forward and backward of one path; its loss and hits `[right, counted]`."
    import torch
    from jojo_nb.model import token_hits
    out, loss = model(x, y, chunked_loss=chunked)
    hits = out.detach() if chunked else torch.stack(token_hits(out.detach(), y))
    del out  # plain: the logits go before the backward (cross_entropy keeps its own log-softmax)
    loss.backward()
    return loss.detach(), [int(h) for h in hits]

def zero_grads(model):
    for p in model.parameters():
        if p.grad is None: p.grad = p.new_zeros(p.shape)
        else: p.grad.zero_()

def child(shape:str, batch:int, chunked:bool, steps:int, saved:str) -> dict:
    "Steps of one path: times and peak memory; then its results saved (plain) or compared with plain's (chunked)."
    import gc, torch
    model, x, y = build(shape, batch)
    zero_grads(model)  # the gradients exist before the steps: the figure is the step's own transient memory
    gc.collect()
    reset = reset_hwm()
    rss0, max0 = status_bytes('VmRSS'), maxrss()
    times = []
    for i in range(steps):
        if i: zero_grads(model)
        t0 = time.perf_counter()
        loss, hits = step(model, x, y, chunked)
        times.append(time.perf_counter() - t0)
    res = dict(reset=reset, rss_before=rss0, hwm=status_bytes('VmHWM'), maxrss_before=max0, maxrss=maxrss(),
               times=times, loss=loss.item(), hits=hits, threads=torch.get_num_threads(), torch=torch.__version__,
               params=sum(p.numel() for p in model.parameters()), batch=list(x.shape), vocab=model.padded_vocab)
    grads = {n: p.grad for n, p in model.named_parameters()}  # every step had the same weights and batch
    if not chunked:
        torch.save(dict(loss=loss, grads=grads), saved)
        return res
    plain = torch.load(saved)
    res['loss_diff'] = abs(loss.item() - plain['loss'].item())
    res['grad_diff'], res['grad_diff_param'], res['grad_max'] = 0.0, '', 0.0
    for n, g in plain['grads'].items():
        d = (grads[n] - g).abs().max().item()
        res['grad_max'] = max(res['grad_max'], g.abs().max().item())
        if d > res['grad_diff']: res['grad_diff'], res['grad_diff_param'] = d, n
    return res

def run_child(*args) -> dict:
    "This script with `--child ...` in a fresh process; its JSON answer (the last line of its output)."
    out = subprocess.run([sys.executable, os.path.abspath(__file__), *map(str, args)], capture_output=True, text=True)
    if out.returncode: sys.exit(f"child {' '.join(map(str, args))} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])

def step_time(r:dict) -> float:
    "Median step time after the first (warm-up) step, or the one step."
    return statistics.median(r['times'][1:] or r['times'])

def bench(shape:str, a, tmp:str) -> dict:
    batch = a.gpt2_batch if shape == 'gpt2' else a.tiny_batch
    steps = a.gpt2_steps if shape == 'gpt2' else a.steps
    saved = os.path.join(tmp, f'{shape}_plain.pt')
    t0 = time.perf_counter()
    res = {v: run_child('--child', v, '--shape', shape, '--batch', batch, '--child-steps', steps, '--saved', saved)
           for v in ('plain', 'chunked')}
    os.remove(saved)
    return dict(shape=shape, seconds=time.perf_counter() - t0, **res)

def report(results:list):
    p0 = results[0]['plain']
    print(f"torch {p0['torch']}, {p0['threads']} threads, {os.cpu_count()} cores; forward + backward, train mode, "
          f"fp32; gradients preallocated (no optimizer); each path in its own process")
    if not all(r[v]['reset'] for r in results for v in ('plain', 'chunked')):
        print("warning: /proc/self/clear_refs could not be written: the peak is VmHWM since the process started")
    print(f"\n{'shape':10s} {'B x T':>9s} {'path':8s} {'steps':>5s} {'step s':>7s} {'RSS before':>10s} "
          f"{'peak RSS':>9s} {'step peak':>10s} {'ru_maxrss':>10s} {'loss':>10s} {'hits':>10s}")
    for r in results:
        for v in ('plain', 'chunked'):
            m = r[v]
            print(f"{LABEL[r['shape']]:10s} {'x'.join(map(str, m['batch'])):>9s} {v:8s} {len(m['times']):5d} "
                  f"{step_time(m):7.2f} {m['rss_before'] / MB:7.0f} MB {m['hwm'] / MB:6.0f} MB "
                  f"{(m['hwm'] - m['rss_before']) / MB:+7.0f} MB {(m['maxrss'] - m['maxrss_before']) / MB:+7.0f} MB "
                  f"{m['loss']:10.6f} {m['hits'][0]:>4d}/{m['hits'][1]:<5d}")
    print()
    for r in results:
        p, c = r['plain'], r['chunked']
        B, T = p['batch']
        print(f"{LABEL[r['shape']]}: {p['params'] / 1e6:.1f}M parameters, full logits {B * T * p['vocab'] * 4 / MB:.0f} MB "
              f"fp32; |loss diff| {c['loss_diff']:.2e} ({'OK' if c['loss_diff'] < 1e-5 else 'FAIL'}: < 1e-5), "
              f"max |grad diff| {c['grad_diff']:.2e} (in {c['grad_diff_param']}; max |grad| {c['grad_max']:.2e}), "
              f"hits {'equal' if p['hits'] == c['hits'] else 'DIFFER'}; step times (s) plain "
              f"{' '.join(f'{t:.2f}' for t in p['times'])}, chunked {' '.join(f'{t:.2f}' for t in c['times'])}; "
              f"{r['seconds']:.0f} s in all")
    print()
    for r in results:
        p, c = r['plain'], r['chunked']
        up, uc = p['hwm'] - p['rss_before'], c['hwm'] - c['rss_before']
        print(f"{LABEL[r['shape']]}: chunked peak +{uc / MB:.0f} MB vs plain +{up / MB:.0f} MB "
              f"({up / max(uc, 1):.1f} x less), step time {step_time(c) / step_time(p):.2f} x")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--shapes', default=','.join(SHAPES), help="comma-separated, of: " + ', '.join(SHAPES))
    ap.add_argument('--steps', type=int, default=4, help="steps of each path at the tiny shape (the first is warm-up)")
    ap.add_argument('--gpt2-steps', type=int, default=1, help="steps of each path at the GPT-2 shape")
    ap.add_argument('--tiny-batch', type=int, default=0, help="0: the preset's micro-batch (8)")
    ap.add_argument('--gpt2-batch', type=int, default=1)
    ap.add_argument('--child', choices=('plain', 'chunked'), help=argparse.SUPPRESS)
    ap.add_argument('--shape', choices=SHAPES, help=argparse.SUPPRESS)
    ap.add_argument('--batch', type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument('--child-steps', type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument('--saved', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.shape, a.batch, a.child == 'chunked', max(1, a.child_steps), a.saved)))
        return
    shapes = [s.strip() for s in a.shapes.split(',') if s.strip()]
    if bad := set(shapes) - set(SHAPES): ap.error(f"unknown shapes: {', '.join(sorted(bad))}")
    tmp = tempfile.mkdtemp(prefix='jojo-chunked-loss-')
    try: report([bench(s, a, tmp) for s in shapes])
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
