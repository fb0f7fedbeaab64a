"""Loading a 100,000-step run for the monitor: from metrics.jsonl and from TensorBoard event files, against
TensorBoard's own EventAccumulator on the same event files, in the same run.

    python benchmarks/monitor_load.py [--steps 100000]
"""
import argparse, math, tempfile, time
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
    print(f"{a.steps:,} steps: metrics.jsonl {t_jsonl:.2f} s | event files {t_events:.2f} s | "
          f"EventAccumulator {t_ea:.2f} s (ratio events/EventAccumulator {t_events / t_ea:.2f})")
    print(f"writing one record (JSONL + TensorBoard + log.txt): {per_record * 1e6:.0f} us")

if __name__ == '__main__': main()
