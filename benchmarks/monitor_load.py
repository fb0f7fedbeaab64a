"""Loading a 100,000-step run for the monitor, and what writing one record costs.

Event files (runs without `metrics.jsonl`) are read by the monitor's own decoder, the baseline; every other reader
is shown as a ratio to it, measured in the same run on the same files:

- TensorBoard's `RawEventFileLoader`, one per file and kept for the next call, each record parsed with protobuf: the
  monitor's reader written with TensorBoard's loader (`LibraryReader` below; it must return the same series);
- the same through `EventFileLoader`, TensorBoard's loader with its read-time compat layers;
- TensorBoard's `EventAccumulator` over the folder (what TensorBoard's own server does);
- `metrics.jsonl`, the monitor's usual source.

Reading is timed in CPU seconds: the readers are single-threaded, and other load on the machine does not count.
Then a live refresh: 1,000 more steps appended to the same event file, read by the monitor and by `LibraryReader`.
Then one record written (JSONL + TensorBoard + log.txt) against a tiny-cpu training step measured here.

Last, what the notebook widget does with such a run (`--part redraw`, wall seconds): `RunMonitor`'s live refresh after
1,000 more steps (read, decimate, smooth and look for spikes over the new points only, send the traces to the plotly
panels), a redraw after a control changed, and a refresh with nothing new, as ratios to the baseline of the same run
drawn at full resolution with matplotlib into one PNG (what the widget did before it drew with plotly).

    python benchmarks/monitor_load.py [--steps 100000] [--part all|events|redraw]
"""
import argparse, math, shutil, tempfile, time
from pathlib import Path
import numpy as np
from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader, EventFileLoader
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.util.tensor_util import make_ndarray
from jojo_nb.runs import RunDir
from jojo_nb.metrics import MetricsLogger
from jojo_nb.monitor import RunData, _TAG_KEYS, _one_per_step

class LibraryReader:
    "The monitor's event-file reading with TensorBoard's loader: a loader per file, `Load()` again for new events."
    def __init__(self, path, loader=RawEventFileLoader):
        self.path, self.loader, self.loaders, self.cols = Path(path), loader, {}, {}

    def refresh(self) -> int:
        new = 0
        for f in sorted(self.path.glob('events.out.tfevents.*')):
            if f not in self.loaders: self.loaders[f] = self.loader(str(f))
            points = {}
            for e in self.loaders[f].Load():
                if isinstance(e, bytes): e = Event.FromString(e)
                if e.HasField('session_log') and e.session_log.status == SessionLog.START and e.step > 0:
                    self.cols = {k: tuple(x[s < e.step] for x in (s, w, v)) for k, (s, w, v) in self.cols.items()}
                for v in e.summary.value:
                    key, kind = _TAG_KEYS.get(v.tag), v.WhichOneof('value')
                    if key is None: continue
                    if kind == 'simple_value': val = v.simple_value
                    elif kind == 'tensor' and v.tensor.dtype in (1, 2):  # DT_FLOAT, DT_DOUBLE
                        val = float(make_ndarray(v.tensor).reshape(-1)[0])
                    else: continue
                    points.setdefault(key, []).append((e.step, e.wall_time, val))
            for key, p in points.items():
                s, w, v = zip(*p)
                new_cols = (np.array(s, np.int64), np.array(w), np.array(v, dtype=float))
                old = self.cols.get(key, (np.zeros(0, np.int64), np.zeros(0), np.zeros(0)))
                self.cols[key] = _one_per_step(*(np.concatenate(x) for x in zip(old, new_cols)))
                new += len(p)
        return new

clock = time.process_time  # CPU seconds: the readers are single-threaded, and other load on the machine does not count

def best(f, n=3):
    "The fastest of `n` timed calls of `f`, in CPU seconds."
    ts = []
    for _ in range(n):
        t0 = clock(); f(); ts.append(clock() - t0)
    return min(ts)

def write_steps(ml, first, last):
    for s in range(first, last + 1):
        ml.log(dict(step=s, tokens=s * 524288, epoch=s / 1e4, loss=3 + math.exp(-s / 1e4), train_accuracy=0.3, lr=6e-4,
                    grad_norm=0.5, dt_ms=100.0, tokens_per_sec=5e6, mfu=0.4))
        if s % 250 == 0: ml.log(dict(step=s, val_loss=3.1, val_ppl=22.2, accuracy=0.4))

def same_series(monitor:RunData, library:LibraryReader):
    "The two readers agree on every key: steps, wall times, values."
    assert sorted(monitor._cols) == sorted(library.cols), (sorted(monitor._cols), sorted(library.cols))
    for key, cols in library.cols.items():
        for a, b in zip(monitor._cols[key], cols): np.testing.assert_array_equal(a, b, err_msg=key)

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--steps', type=int, default=100_000)
    ap.add_argument('--part', choices=['all', 'events', 'redraw'], default='all'); a = ap.parse_args()
    if a.part in ('all', 'events'): events(a)
    if a.part in ('all', 'redraw'): redraw(a)

def events(a):
    rd = RunDir(Path(tempfile.mkdtemp())/'big')
    ml = MetricsLogger(rd, tensorboard=True)
    t0 = time.perf_counter()
    write_steps(ml, 1, a.steps)
    per_record = (time.perf_counter() - t0) / a.steps
    ml.tb.flush()
    t_jsonl = best(lambda: RunData(rd.path).series('loss'))
    rd.metrics_file.rename(rd.path/'metrics.bak')
    n_events = sum(1 for f in rd.path.glob('events.out.tfevents.*') for _ in RawEventFileLoader(str(f)).Load())

    t_base = best(lambda: RunData(rd.path).series('loss'))
    t_raw = best(lambda: LibraryReader(rd.path).refresh(), 1)
    t_efl = best(lambda: LibraryReader(rd.path, EventFileLoader).refresh(), 1)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    def accumulate():
        ea = EventAccumulator(str(rd.path), size_guidance={'scalars': 0, 'tensors': 0}); ea.Reload()
        for tag in ea.Tags()['tensors']: ea.Tensors(tag)
        for tag in ea.Tags()['scalars']: ea.Scalars(tag)
    t_ea = best(accumulate, 1)

    mon, lib = RunData(rd.path), LibraryReader(rd.path)
    lib.refresh()
    same_series(mon, lib)
    write_steps(ml, a.steps + 1, a.steps + 1000); ml.tb.flush()
    t0 = clock(); n_mon = mon.refresh(); r_base = clock() - t0
    t0 = clock(); n_lib = lib.refresh(); r_raw = clock() - t0
    assert n_mon == n_lib > 0, (n_mon, n_lib)
    same_series(mon, lib)
    t0 = clock(); nothing = mon.refresh(), lib.refresh(); r_idle = clock() - t0
    assert nothing == (0, 0), nothing
    ml.close()
    shutil.rmtree(rd.path.parent)

    print(f"{a.steps:,} steps, {n_events:,} events; CPU times, as ratios to the monitor's decoder measured in this run")
    rows = [("monitor's decoder (jojo_nb.monitor, baseline)", t_base), ('RawEventFileLoader + protobuf', t_raw),
            ('EventFileLoader (compat layers)', t_efl), ('EventAccumulator', t_ea), ('metrics.jsonl', t_jsonl)]
    for name, t in rows: print(f"  {name:<48} {t:7.2f} s  {t / t_base:6.2f}x")
    print(f"a refresh after 1,000 more steps ({n_mon:,} new points): monitor {r_base * 1e3:.1f} ms, RawEventFileLoader "
          f"{r_raw * 1e3:.1f} ms ({r_raw / r_base:.2f}x); with nothing new, both together: {r_idle * 1e3:.2f} ms")
    step = tiny_cpu_step_seconds()
    print(f"writing one record (JSONL + TensorBoard + log.txt): {per_record * 1e6:.0f} us = "
          f"{per_record / step:.2%} of a tiny-cpu training step ({step * 1e3:.0f} ms, measured here)")

def tiny_cpu_step_seconds(steps=6):
    "Median time of one tiny-cpu optimizer step (forward, backward, the preset's optimizer: Muon + AdamW) on random tokens."
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

def synthetic_run(root, name, steps, seed=0) -> RunDir:
    "A finished run of `steps` steps written straight to `metrics.jsonl` (a noisy decaying loss, val every 250)."
    import json
    from jojo_nb.config import load_config
    rd = RunDir(Path(root)/name)
    rd.start(load_config(preset='tiny-cpu', overrides={'train.max_steps': str(steps)}))
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 0.05, steps)
    with open(rd.metrics_file, 'w') as f:
        for s in range(1, steps + 1):
            f.write(json.dumps(dict(step=s, tokens=s * 524288, loss=3 + math.exp(-s / 1e4) + noise[s - 1], lr=6e-4,
                                    grad_norm=0.5, dt_ms=100.0, tokens_per_sec=5e6, mfu=0.4)) + '\n')
            if s % 250 == 0: f.write(json.dumps(dict(step=s, val_loss=3.1, val_ppl=22.2, accuracy=0.4)) + '\n')
    return rd

def redraw(a):
    import io, json, statistics
    from jojo_nb.monitor import RunMonitor, plot_runs
    root = Path(tempfile.mkdtemp())
    rd = synthetic_run(root, 'big', a.steps)
    mon = RunMonitor(root, runs=['big'])  # reads the run whole and draws it once
    t0 = time.perf_counter()
    buf = io.BytesIO(); plot_runs(mon._selected()).savefig(buf, format='png', dpi=80)
    t_base = time.perf_counter() - t0
    live, idle, control = [], [], []
    for k in range(5):
        with open(rd.metrics_file, 'a') as f:
            first = a.steps + 1000 * k + 1
            for s in range(first, first + 1000): f.write(json.dumps(dict(step=s, loss=3.0, dt_ms=100.0)) + '\n')
        t0 = time.perf_counter(); mon.tick(); live.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); mon.tick(); idle.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); mon.smoothing.value = 0.5 + 0.05 * k; control.append(time.perf_counter() - t0)
    shutil.rmtree(root)
    print(f"the widget with a {a.steps:,}-step run (wall seconds, medians of 5; ratios to the baseline measured here)")
    rows = [('matplotlib PNG at full resolution (baseline)', t_base),
            ('live refresh after 1,000 more steps (plotly, decimated)', statistics.median(live)),
            ('redraw after a control changed (smoothing)', statistics.median(control)),
            ('live refresh with nothing new', statistics.median(idle))]
    for name, t in rows: print(f"  {name:<58} {t:7.3f} s  {t / t_base:6.3f}x")

if __name__ == '__main__': main()
