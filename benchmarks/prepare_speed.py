"""`jojo prepare` throughput, start-up included, against tiktoken's single-process `encode_ordinary` loop over the
same files (read and encoded one after the other), for `gpt2` and for a 32k tokenizer trained on the same novels;
then the cost of fetching one training batch against one training step of the tiny-cpu model. Same run, same
machine: each figure is the best of `--repeats` alternating runs.

    python benchmarks/prepare_speed.py [--mb 105] [--repeats 3] [SOURCE_DIR]   (default ../shared/data/gutenberg)

The corpus is SOURCE_DIR's files copied again and again (distinct files, as a real corpus) to about `--mb` MB.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

def make_corpus(src:Path, dest:Path, mb:float) -> list[Path]:
    files, size, i = [], 0, 0
    novels = sorted(p for p in src.iterdir() if p.is_file())
    while size < mb * 1e6:
        for p in novels:
            files.append(Path(shutil.copyfile(p, dest/f'{i:03d}_{p.name}'))); size += p.stat().st_size
        i += 1
    return files

def baseline(files, tokenizer) -> float:
    "Seconds for one process to read every file and encode it with tiktoken's `encode_ordinary`."
    from jojo_nb.tokenizer import Tokenizer
    enc = Tokenizer(tokenizer).enc
    t0 = time.perf_counter()
    for f in files: enc.encode_ordinary(f.read_bytes().decode('utf-8', errors='replace'))
    return time.perf_counter() - t0

def jojo_prepare(corpus, out, tokenizer) -> float:
    "Seconds for the whole `jojo prepare` command: interpreter start, imports, hashing, tokenizing, writing shards."
    t0 = time.perf_counter()
    subprocess.run(['jojo', 'prepare', str(corpus), '--out', str(out), '--tokenizer', tokenizer, '--no-cache'],
                   check=True, capture_output=True)
    return time.perf_counter() - t0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('source', nargs='?', default=Path(__file__).resolve().parents[2]/'shared'/'data'/'gutenberg')
    ap.add_argument('--mb', type=float, default=105)
    ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); (d/'corpus').mkdir()
        files = make_corpus(Path(a.source), d/'corpus', a.mb)
        nbytes = sum(f.stat().st_size for f in files)
        from jojo_nb.bpe import train_tokenizer
        train_tokenizer(str(a.source), 32768, d/'tok32k', progress=False)
        print(f"{len(files)} files, {nbytes / 1e6:.1f} MB, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.2f} at the start")
        for tokenizer in ('gpt2', str(d/'tok32k')):
            base, ours = [], []
            for _ in range(a.repeats):
                base.append(baseline(files, tokenizer)); ours.append(jojo_prepare(d/'corpus', d/'out', tokenizer))
            b, o = min(base), min(ours)
            name = 'gpt2' if tokenizer == 'gpt2' else 'trained 32k'
            print(f"{name:12} tiktoken encode_ordinary, one process: {nbytes / b / 1e6:6.2f} MB/s | "
                  f"jojo prepare (start-up included): {nbytes / o / 1e6:6.2f} MB/s | ratio {b / o:.2f}")
        batch_fetch(d/'out')

def batch_fetch(prepared:Path):
    import torch
    from jojo_nb.data import TokenLoader
    from jojo_nb.config import load_config
    from jojo_nb.model import GPT
    cfg = load_config(preset='tiny-cpu')
    cfg.model.vocab_size = 32768
    loader = TokenLoader(prepared, 'train', cfg.train.micro_batch_size, cfg.model.block_size)
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
