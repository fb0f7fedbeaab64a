"""What the Trainer costs over a bare training loop on the same model, data and optimizer: the shakespeare-char
shape, logging every step, eval and checkpoints off. The two are run alternately in the same process.

    python benchmarks/train_overhead.py [--rounds 5] [--steps 100]
"""
import argparse, dataclasses, os, statistics, sys, tempfile, time
from pathlib import Path
import torch
from jojo_nb.config import load_config
from jojo_nb.device import autocast
from jojo_nb.trainer import Trainer

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--steps', type=int, default=100)
    a = ap.parse_args()
    runs = Path(tempfile.mkdtemp())
    cfg = load_config(preset='shakespeare-char', overrides={'eval.interval': '0', 'checkpoint.interval': '0',
                      'train.log_interval': '1', 'log.tensorboard': 'true', 'train.max_steps': str(10**6)})
    tr = Trainer(cfg, runs/'bench', quiet=True)
    tr.cfg.log.console = True  # the progress line is part of what the trainer costs
    model, opt, loader = tr.model, tr.optimizer, tr.train_loader
    def bare(n):
        t0 = time.perf_counter()
        for _ in range(n):
            x, y = loader.next_batch()
            with autocast(tr.device, tr.dtype): _, loss = model(x, y)  # the trainer's number format
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step(); opt.zero_grad(set_to_none=True)
            loss.item()
        return (time.perf_counter() - t0) / n
    def trainer(n):
        tr.plan = dataclasses.replace(tr.plan, max_steps=tr.step + n)  # the run's length, which fit() reads
        t0 = time.perf_counter()
        tr.fit()
        return (time.perf_counter() - t0) / n
    bare(5); trainer(5)
    tb, tt = [], []
    devnull = open(os.devnull, 'w')
    for _ in range(a.rounds):
        tb.append(bare(a.steps))
        stderr, sys.stderr = sys.stderr, devnull
        try: tt.append(trainer(a.steps))
        finally: sys.stderr = stderr
    mb, mt = statistics.median(tb), statistics.median(tt)
    print(f"bare loop {1 / mb:.1f} steps/s, Trainer {1 / mt:.1f} steps/s (metrics.jsonl, TensorBoard, log.txt, "
          f"progress line every step; fit() start and end included); ratio {mb / mt:.3f}")

if __name__ == '__main__': main()
