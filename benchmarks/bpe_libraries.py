"""Train the same byte-level BPE with `rustbpe` and with Hugging Face `tokenizers`, on the same corpus, and compare
wall time, peak memory and bytes per token on held-out text. Each library runs in its own process, one after the
other, in the same run; figures are shown against rustbpe's.

    python benchmarks/bpe_libraries.py [--mb 100] [--vocab-size 32768] [SOURCE_DIR]   (default ../shared/data/gutenberg)

The corpus is every novel but the last, repeated to `--mb` megabytes; the last novel is the held-out text.
"""
import argparse, json, resource, subprocess, sys, time
from pathlib import Path

GPT4_PATTERN = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']

def pieces(files, mb:float, size=1 << 16):
    "Pieces of `size` characters of `files`, read again and again until `mb` MB (both libraries get the same)."
    budget = int(mb * 1e6)
    while budget > 0:
        for f in files:
            text = f.read_bytes().decode('utf-8', errors='replace')  # as jojo reads it: CRLF kept
            for i in range(0, len(text), size):
                yield text[i:i + size]
                budget -= size
                if budget <= 0: return

def train_rustbpe(files, mb, vocab_size, held_out):
    import rustbpe, tiktoken
    tok = rustbpe.Tokenizer()
    tok.train_from_iterator(pieces(files, mb), vocab_size - len(SPECIALS), pattern=GPT4_PATTERN)
    ranks = {bytes(t): r for t, r in tok.get_mergeable_ranks()}
    enc = tiktoken.Encoding('bench', pat_str=GPT4_PATTERN, mergeable_ranks=ranks, special_tokens={})
    return len(enc.encode_ordinary(held_out))

def train_hf(files, mb, vocab_size, held_out):
    from tokenizers import Tokenizer, Regex, models, pre_tokenizers, trainers, decoders
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(GPT4_PATTERN), 'isolated'),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(pieces(files, mb), trainer)
    return len(tok.encode(held_out, add_special_tokens=False).ids)

def child(library, files, mb, vocab_size):
    held_out = files[-1].read_bytes().decode('utf-8', errors='replace')
    t0 = time.perf_counter()
    n = {'rustbpe': train_rustbpe, 'tokenizers': train_hf}[library](files[:-1], mb, vocab_size, held_out)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps(dict(wall_s=wall, peak_mib=peak, bytes_per_token=len(held_out.encode()) / n)))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('source', nargs='?', default=Path(__file__).resolve().parents[2]/'shared'/'data'/'gutenberg')
    ap.add_argument('--mb', type=float, default=100)
    ap.add_argument('--vocab-size', type=int, default=32768)
    ap.add_argument('--child')
    a = ap.parse_args()
    files = sorted(p for p in Path(a.source).iterdir() if p.is_file())
    if a.child: return child(a.child, files, a.mb, a.vocab_size)
    results = {}
    for lib in ('rustbpe', 'tokenizers'):
        out = subprocess.run([sys.executable, __file__, str(a.source), '--mb', str(a.mb), '--vocab-size',
                              str(a.vocab_size), '--child', lib], capture_output=True, text=True, check=True)
        results[lib] = json.loads(out.stdout.splitlines()[-1])
    base = results['rustbpe']
    print(f"{a.mb:g} MB of {len(files) - 1} novels, vocab {a.vocab_size:,}, held out: {files[-1].name}")
    print(f"| library | wall time | peak RSS | bytes per token (held out) |")
    print(f"|---|---|---|---|")
    for lib, r in results.items():
        print(f"| {lib} | {r['wall_s']:.1f} s ({r['wall_s'] / base['wall_s']:.2f}x) | {r['peak_mib']:.0f} MiB "
              f"({r['peak_mib'] / base['peak_mib']:.2f}x) | {r['bytes_per_token']:.3f} |")

if __name__ == '__main__': main()
