"""Checkpoint save and load cost against plain torch.save / torch.load of the same state, in the same run.

The state is a real training state: a GPT (about 30M parameters by default) with its AdamW moments.
Sync save = the training stall of a plain save: serialize into a temporary file while hashing it and pushing it to
disk; the final fsync, rename, sidecar, rotation and rolling link finish in a thread ("durable after" = both).
Async save = the training stall only (copy to CPU memory); the whole write happens in a thread.
Every timing starts with no dirty pages (os.sync, untimed), so no save pays for the writeback of the one before, and
every save writes a new file while the older ones stay, as checkpoints do (overwriting or deleting a file just before
a write hands it warm page-cache pages; on a VM that is several times cheaper than new memory).

    python benchmarks/checkpoint_speed.py [--layers 6] [--width 512] [--rounds 3]
"""
import argparse, os, shutil, statistics, tempfile, time
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
    durable = []
    def timed(fn, out):
        os.sync(); t0 = time.perf_counter(); r = fn(); out.append(time.perf_counter() - t0); return r
    def save_fsync():
        with open(d/f'plain_fsync_{r}.pt', 'wb') as f: torch.save(state, f); f.flush(); os.fsync(f.fileno())
    for r in range(a.rounds):
        timed(lambda: torch.save(state, d/f'plain_{r}.pt'), plain)
        timed(save_fsync, plain_fsync)
        timed(lambda: (sync.append(mgr_sync.save(state, {'step': r})), mgr_sync.wait()), durable)
        timed(lambda: (stall.append(mgr_async.save(state, {'step': r})), mgr_async.wait()), async_total)
        timed(lambda: torch.load(d/f'plain_{r}.pt', weights_only=True), load_plain)
        timed(lambda: load_checkpoint(d/'sync'/'latest.pt'), load_ver)
    m = statistics.median
    size = os.path.getsize(d/'plain_0.pt') / 2**20
    shutil.rmtree(d)
    print(f"state: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, {size:.0f} MiB file ({os.cpu_count()} cores)")
    print(f"torch.save {m(plain):.3f} s | torch.save + fsync {m(plain_fsync):.3f} s (ratio {m(plain_fsync) / m(plain):.2f}) | jojo sync save stall {m(sync):.3f} s (ratio {m(sync) / m(plain):.2f}; durable after {m(durable):.3f} s, ratio {m(durable) / m(plain):.2f}) | "
          f"async stall {m(stall):.3f} s ({m(stall) / m(sync):.2f} of sync; write finished after {m(async_total):.3f} s)")
    print(f"torch.load {m(load_plain):.3f} s | jojo load + sha256 verify {m(load_ver):.3f} s (ratio {m(load_ver) / m(load_plain):.2f})")

if __name__ == '__main__': main()
