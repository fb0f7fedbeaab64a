"""Checkpoint save and load cost against plain torch.save / torch.load of the same state, in the same run.

The state is a real training state: a GPT (about 30M parameters by default) with its AdamW moments.
Sync save = write to a temporary file while hashing, fsync, rename, sidecar, rotation and rolling link.
Async save = the training stall only (copy to CPU memory); the write happens in a thread.

    python benchmarks/checkpoint_speed.py [--layers 6] [--width 512] [--rounds 3]
"""
import argparse, os, statistics, tempfile, time
from pathlib import Path
import torch
from jojo_nb.config import ModelConfig, OptimConfig
from jojo_nb.model import GPT, make_optimizer
from jojo_nb.checkpoint import CheckpointManager, load_checkpoint, write_checkpoint

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--layers', type=int, default=6)
    ap.add_argument('--width', type=int, default=512)
    ap.add_argument('--rounds', type=int, default=3)
    a = ap.parse_args()
    model = GPT(ModelConfig(n_layer=a.layers, n_head=8, n_embd=a.width, block_size=256, vocab_size=50257))
    opt = make_optimizer(model, OptimConfig())
    x = torch.randint(0, 50257, (2, 256))
    model(x, x)[1].backward(); opt.step()  # AdamW moments exist
    state = {'model': model.state_dict(), 'optimizer': opt.state_dict(), 'step': 1}
    d = Path(tempfile.mkdtemp())
    mb = sum(t.numel() * t.element_size() for t in list(state['model'].values())) / 2**20
    plain, plain_fsync, sync, stall, async_total, load_plain, load_ver = [], [], [], [], [], [], []
    mgr_sync = CheckpointManager(d/'sync', keep=3)
    mgr_async = CheckpointManager(d/'async', keep=3, async_save=True)
    for r in range(a.rounds):
        t0 = time.perf_counter(); torch.save(state, d/'plain.pt'); plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with open(d/'plain_fsync.pt', 'wb') as f: torch.save(state, f); f.flush(); os.fsync(f.fileno())
        plain_fsync.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); mgr_sync.save(state, {'step': r}); sync.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); stall.append(mgr_async.save(state, {'step': r})); mgr_async.wait(); async_total.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); torch.load(d/'plain.pt', weights_only=True); load_plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); load_checkpoint(d/'sync'/'latest.pt'); load_ver.append(time.perf_counter() - t0)
    m = statistics.median
    size = os.path.getsize(d/'plain.pt') / 2**20
    print(f"state: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, {size:.0f} MiB file ({os.cpu_count()} cores)")
    print(f"torch.save {m(plain):.3f} s | torch.save + fsync {m(plain_fsync):.3f} s (ratio {m(plain_fsync) / m(plain):.2f}) | jojo sync save {m(sync):.3f} s (ratio {m(sync) / m(plain):.2f}) | "
          f"async stall {m(stall):.3f} s ({m(stall) / m(sync):.2f} of sync; write finished after {m(async_total):.3f} s)")
    print(f"torch.load {m(load_plain):.3f} s | jojo load + sha256 verify {m(load_ver):.3f} s (ratio {m(load_ver) / m(load_plain):.2f})")

if __name__ == '__main__': main()
