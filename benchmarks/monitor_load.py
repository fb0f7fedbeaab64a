"""Loading a 100,000-step run for the monitor: from metrics.jsonl and from TensorBoard event files, against
TensorBoard's own EventAccumulator on the same event files, in the same run; and what writing one record costs
against a tiny-cpu training step measured in the same run.

    python benchmarks/monitor_load.py [--steps 100000]
"""
import argparse, math, shutil, tempfile, time
from pathlib import Path
from jojo_nb.runs import RunDir
from jojo_nb.metrics import MetricsLogger
from jojo_nb.monitor import RunData

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--steps', type=int, default=100_000); a = ap.parse_args()
    rd = RunDir(Path(tempfile.mkdtemp())/'big')
    ml = MetricsLogger(rd, tensorboard=True)
    t0 = time.perf_counter()
    for s in range(1, a.steps + 1):
        ml.log(dict(step=s, tokens=s * 524288, epoch=s / 1e4, loss=3 + math.exp(-s / 1e4), train_accuracy=0.3, lr=6e-4, grad_norm=0.5,
                    dt_ms=100.0, tokens_per_sec=5e6, mfu=0.4))
        if s % 250 == 0: ml.log(dict(step=s, val_loss=3.1, val_ppl=22.2, accuracy=0.4))
    ml.close()
    per_record = (time.perf_counter() - t0) / a.steps
    def best(f, n=3):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
        return min(ts)
    t_jsonl = best(lambda: RunData(rd.path).series('loss'))
    rd.metrics_file.rename(rd.path/'metrics.bak')
    t_events = best(lambda: RunData(rd.path).series('loss'))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    def accumulate():
        ea = EventAccumulator(str(rd.path), size_guidance={'scalars': 0, 'tensors': 0}); ea.Reload()
        for tag in ea.Tags()['tensors']: ea.Tensors(tag)
        for tag in ea.Tags()['scalars']: ea.Scalars(tag)
    t_ea = best(accumulate, 1)
    shutil.rmtree(rd.path.parent)
    print(f"{a.steps:,} steps: metrics.jsonl {t_jsonl:.2f} s | event files {t_events:.2f} s | "
          f"EventAccumulator {t_ea:.2f} s (ratio events/EventAccumulator {t_events / t_ea:.2f})")
    step = tiny_cpu_step_seconds()
    print(f"writing one record (JSONL + TensorBoard + log.txt): {per_record * 1e6:.0f} us = "
          f"{per_record / step:.2%} of a tiny-cpu training step ({step * 1e3:.0f} ms, measured here)")

def tiny_cpu_step_seconds(steps=6):
    "Median time of one tiny-cpu optimizer step (forward, backward, AdamW) on random tokens."
    import statistics, torch
    from jojo_nb.config import load_config
    from jojo_nb.model import GPT, make_optimizer
    cfg = load_config(preset='tiny-cpu', overrides={'model.vocab_size': '50257'})  # its GPT-2 tokenizer's vocabulary
    model = GPT(cfg.model); opt = make_optimizer(model, cfg.optim)
    x = torch.randint(0, cfg.model.vocab_size, (cfg.train.micro_batch_size, cfg.model.block_size))
    ts = []
    for _ in range(steps):
        t0 = time.perf_counter()
        model(x, x)[1].backward(); opt.step(); opt.zero_grad(set_to_none=True)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts[1:])

if __name__ == '__main__': main()
