"""Peak memory of `jojo prepare` on a large input: a folder of text files built from SOURCE_DIR's books, repeated
to SIZE_GB (default 5), prepared by the real CLI in a child process. The baseline, measured in the same run, is
the same prepare on a tenth of the input: bounded memory means the ratio stays near 1.

    python benchmarks/prepare_memory.py [SIZE_GB] [SOURCE_DIR]   (default 5 and ../shared/data/gutenberg)
"""
import os, shutil, sys, tempfile, time
from pathlib import Path

def build_input(folder:Path, src:Path, size:int):
    "Twenty text files, cycling through the books of `src`, of `size` bytes in all."
    folder.mkdir(parents=True)
    books = [p.read_bytes() for p in sorted(src.iterdir()) if p.is_file()]
    written, i, file_bytes = 0, 0, size // 20
    while written < size:
        with open(folder/f'part_{i:04d}.txt', 'wb') as f:
            n = 0
            while n < min(file_bytes, size - written):
                b = books[(i + n) % len(books)]
                f.write(b); n += len(b)
        written += n; i += 1
    return written

def peak_rss_of_prepare(folder:Path, out:Path) -> tuple[float, float]:
    "Seconds and peak RSS (bytes) of `jojo prepare folder` in a fresh child process."
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.execvp('jojo', ['jojo', 'prepare', str(folder), '--out', str(out), '--no-cache'])
    _, status, usage = os.wait4(pid, 0)
    if status: sys.exit(f"jojo prepare failed with status {status}")
    return time.perf_counter() - t0, usage.ru_maxrss * 1024

def main():
    size = int(float(sys.argv[1] if len(sys.argv) > 1 else 5) * 1e9)
    src = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).resolve().parents[2]/'shared'/'data'/'gutenberg')
    d = Path(tempfile.mkdtemp(prefix='jojo-prepare-memory-'))
    try:
        small_n, big_n = build_input(d/'small', src, size // 10), build_input(d/'big', src, size)
        small_t, small_rss = peak_rss_of_prepare(d/'small', d/'small_out')
        shutil.rmtree(d/'small_out')
        big_t, big_rss = peak_rss_of_prepare(d/'big', d/'big_out')
        out_bytes = sum(p.stat().st_size for p in (d/'big_out').iterdir())
        print(f"{os.cpu_count()} cores; input built from {src}")
        print(f"baseline: {small_n / 1e9:.2f} GB in {small_t:.0f} s ({small_n / small_t / 1e6:.1f} MB/s), peak RSS {small_rss / 2**20:.0f} MiB")
        print(f"large:    {big_n / 1e9:.2f} GB in {big_t:.0f} s ({big_n / big_t / 1e6:.1f} MB/s), peak RSS {big_rss / 2**20:.0f} MiB, "
              f"shards {out_bytes / 1e9:.2f} GB")
        print(f"peak RSS ratio large/baseline: {big_rss / small_rss:.2f} (input ratio {big_n / small_n:.1f}); "
              f"under 2 GiB: {big_rss < 2 * 2**30}")
    finally:
        shutil.rmtree(d, ignore_errors=True)

if __name__ == '__main__': main()
