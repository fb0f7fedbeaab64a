"""`jojo prepare` throughput against tiktoken's single-process `encode_ordinary` loop on the same text, and the
cost of fetching one training batch against one training step of the tiny-cpu model. Same run, same machine.

    python benchmarks/prepare_speed.py [SOURCE_DIR]   (default ../shared/data/gutenberg)
"""
import os, sys, tempfile, time
from pathlib import Path
import torch
from jojo_nb.data import prepare, TokenLoader
from jojo_nb.tokenizer import Tokenizer
from jojo_nb.config import load_config
from jojo_nb.model import GPT

def main():
    src = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]/'shared'/'data'/'gutenberg')
    files = sorted(p for p in src.iterdir() if p.is_file())
    nbytes = sum(p.stat().st_size for p in files)
    tok = Tokenizer('gpt2')
    texts = [p.read_bytes().decode('utf-8', errors='replace') for p in files]

    def baseline():
        t0 = time.perf_counter()
        n = sum(len(tok.enc.encode_ordinary(t)) for t in texts)
        return time.perf_counter() - t0, n

    def ours(out):
        t0 = time.perf_counter()
        prepare([str(src)], out, no_cache=True, progress=False, verbose=False)
        return time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as d:
        base, ours_t = [], []
        for r in range(3):
            base.append(baseline()[0]); ours_t.append(ours(Path(d)/'out'))
        b, o = min(base), min(ours_t)
        print(f"{src} ({nbytes / 1e6:.1f} MB, {os.cpu_count()} cores)")
        print(f"tiktoken encode_ordinary, one process: {nbytes / b / 1e6:6.2f} MB/s")
        print(f"jojo prepare (read, tokenize in workers, write shards): {nbytes / o / 1e6:6.2f} MB/s")
        print(f"ratio: {b / o:.2f}")

        cfg = load_config(preset='tiny-cpu')
        cfg.model.vocab_size = 50257
        loader = TokenLoader(Path(d)/'out', 'train', cfg.train.micro_batch_size, cfg.model.block_size)
        model = GPT(cfg.model)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        for _ in range(2):
            x, y = loader.next_batch(); model(x, y)[1].backward(); opt.step(); opt.zero_grad()
        t0 = time.perf_counter()
        for _ in range(200): loader.next_batch()
        fetch = (time.perf_counter() - t0) / 200
        t0 = time.perf_counter()
        for _ in range(5):
            x, y = loader.next_batch(); model(x, y)[1].backward(); opt.step(); opt.zero_grad()
        step = (time.perf_counter() - t0) / 5
        print(f"tiny-cpu: batch fetch {fetch * 1e3:.3f} ms, training step {step * 1e3:.1f} ms, fetch/step {fetch / step:.3%}")

if __name__ == '__main__': main()
