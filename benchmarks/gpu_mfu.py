"""GPU throughput of the real trainer: GPT-2 124M at block 1024 in bf16 with torch.compile, flash attention
(SDPA) and fused AdamW, as tokens/s and MFU; FP8 against bf16 on a wide model (tokens/s ratio and the loss after
200 steps) and at 124M; and the step-time cost of an async checkpoint save. Every ratio is against a baseline
measured in the same run. Needs a CUDA GPU; on a machine without one it says so and exits 0.

    python benchmarks/gpu_mfu.py [--steps 60] [--fp8-backend te|torchao] [--micro-batch 32] [--skip-fp8]

The training text is this repository's own notebooks, read as bytes (real text, present wherever the code is);
the 124M model keeps GPT-2's 50,304-row vocabulary for its FLOPs, and its tokens are the same bytes.
"""
import argparse, json, shutil, statistics, sys, tempfile, time
from pathlib import Path
import torch

def text_file(d:Path) -> Path:
    root = Path(__file__).resolve().parents[1]
    parts = [p.read_text(errors='replace') for p in sorted((root/'nbs').rglob('*.ipynb'))] + \
            [p.read_text(errors='replace') for p in sorted((root/'jojo_nb').glob('*.py'))]
    f = d/'text.txt'
    f.write_text('\n'.join(parts) * 4)
    return f

def run(d:Path, name:str, steps:int, over:dict) -> dict:
    "Train `steps` steps with the real Trainer; the median tokens/s and MFU after warm-up, the last losses, the wall time."
    from jojo_nb.config import load_config
    from jojo_nb.trainer import Trainer
    base = {'data.dataset': str(d/'text.txt'), 'data.tokenizer': 'bytes', 'data.split': 'tail', 'train.max_steps': str(steps),
            'train.total_batch_size': '0', 'optim.warmup_steps': '10', 'eval.interval': '0', 'checkpoint.interval': '0',
            'log.tensorboard': 'false', 'log.console': 'false', 'train.compile': 'true'}
    cfg = load_config(preset='gpt2', overrides={**base, **over})
    tr = Trainer(cfg, d/'runs'/name, quiet=True)
    t0 = time.perf_counter()
    tr.fit()
    wall = time.perf_counter() - t0
    recs = [json.loads(l) for l in (d/'runs'/name/'metrics.jsonl').read_text().splitlines()]
    steps_ = [r for r in recs if 'tokens_per_sec' in r]
    warm = steps_[min(len(steps_) // 3, 20):]
    out = dict(tps=statistics.median(r['tokens_per_sec'] for r in warm), mfu=statistics.median(r['mfu'] or 0 for r in warm),
               loss=statistics.mean(r['loss'] for r in steps_[-10:]), wall=wall, fp8_layers=len(tr.fp8_layers),
               step_ms=statistics.median(r['dt_ms'] for r in warm))
    del tr
    torch.cuda.empty_cache()
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=60)
    ap.add_argument('--micro-batch', type=int, default=32)
    ap.add_argument('--fp8-backend', default='te', choices=['te', 'torchao'])
    ap.add_argument('--skip-fp8', action='store_true')
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("gpu_mfu: no CUDA GPU here; nothing measured (run it on a GPU machine)")
        return 0
    dev = torch.cuda.get_device_name()
    print(f"{dev}, torch {torch.__version__}")
    d = Path(tempfile.mkdtemp(prefix='jojo-gpu-mfu-'))
    try:
        text_file(d)
        mb = str(a.micro_batch)
        gpt2 = {'model.vocab_size': '50304', 'train.micro_batch_size': mb}
        eager = run(d, 'eager', a.steps, {**gpt2, 'train.compile': 'false'})
        comp = run(d, 'compiled', a.steps, gpt2)
        print(f"GPT-2 124M, block 1024, bf16, micro-batch {mb}: eager {eager['tps']:,.0f} tok/s (MFU {eager['mfu']:.1%}); "
              f"compiled {comp['tps']:,.0f} tok/s, MFU {comp['mfu']:.1%} (x{comp['tps'] / eager['tps']:.2f} eager)")
        save = run(d, 'save', a.steps, {**gpt2, 'checkpoint.interval': '10', 'checkpoint.async_save': 'true'})
        saves = a.steps // 10
        cost = (save['wall'] - comp['wall']) / max(saves, 1)
        print(f"async checkpoint every 10 steps: {cost * 1e3:.0f} ms per save = {cost * 1e3 / comp['step_ms']:.2f} steps "
              f"(step {comp['step_ms']:.0f} ms)")
        if a.skip_fp8: return 0
        fp8 = {'fp8.enabled': 'true', 'fp8.backend': a.fp8_backend}
        small = run(d, 'fp8-124m', a.steps, {**gpt2, **fp8})
        print(f"FP8 ({a.fp8_backend}) at 124M: {small['fp8_layers']} layers in FP8, {small['tps']:,.0f} tok/s = "
              f"x{small['tps'] / comp['tps']:.2f} bf16")
        wide = {'model.n_layer': '8', 'model.n_head': '16', 'model.n_embd': '2048', 'model.vocab_size': '256',
                'train.micro_batch_size': '8', 'optim.lr': '3e-4'}
        bf = run(d, 'wide-bf16', 200, wide)
        f8 = run(d, 'wide-fp8', 200, {**wide, **fp8})
        print(f"wide (n_embd 2048, 8 layers): bf16 {bf['tps']:,.0f} tok/s, FP8 {f8['tps']:,.0f} tok/s = x{f8['tps'] / bf['tps']:.2f}; "
              f"loss after 200 steps bf16 {bf['loss']:.4f}, FP8 {f8['loss']:.4f} (difference {abs(f8['loss'] - bf['loss']):.4f})")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 0

if __name__ == '__main__': sys.exit(main())
