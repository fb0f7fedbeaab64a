"""`jojo serve` under load, and jojo's decoding against transformers' `generate` on the same weights.

1. A tiny GPT-2-shaped model (untrained) is exported as a Hugging Face folder (what `jojo export --format hf`
   writes) and served from it by `jojo serve FOLDER --port 0` in its own process. Clients (threads of this
   process, each with its own HTTP connection) send `/v1/completions` requests, greedy, `--max-tokens` new tokens
   each: requests per second and the p50/p95 latency at 1, 4 and 16 clients at once. The server runs one request
   at a time, so more clients mean longer waits, not more throughput.
2. Decode speed, batch 1, greedy, the same prompt and number of new tokens (end tokens ignored): jojo's KV-cache
   generation (`GPT.generate`, what `jojo sample` and `jojo serve` use) against `transformers`'
   `AutoModelForCausalLM.generate` on the exported folder, in float32 on the same device, in this run. Both must
   produce the same tokens. Printed as tokens/s and as a ratio (jojo / transformers; above 1: jojo is faster).
   Each is timed `--repeats` times after a warm-up, the two in turns; the best time counts.

    python benchmarks/serve_load.py [--max-tokens 32] [--requests 48] [--device cpu] [--shape tiny|gpt2] [--threads N]
"""
import argparse, os, re, signal, statistics, subprocess, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import httpx, torch
from jojo_nb.config import ModelConfig
from jojo_nb.model import GPT
from jojo_nb.hf import export_hf, load_for_inference

SHAPES = {'tiny': dict(n_layer=2, n_head=2, n_embd=64), 'gpt2': dict(n_layer=12, n_head=12, n_embd=768)}
PROMPT = 'Once upon a time there was a little robot who'

def load_test(url:str, clients:int, requests:int, max_tokens:int) -> dict:
    "`requests` completions sent by `clients` threads at once: requests/s and latency percentiles (s)."
    local = threading.local()
    def one(i):
        if not hasattr(local, 'http'): local.http = httpx.Client(base_url=url, timeout=300)
        t = time.perf_counter()
        r = local.http.post('/v1/completions', json=dict(model='hf', prompt=f'{PROMPT} {i}', max_tokens=max_tokens,
                                                         temperature=0))
        r.raise_for_status()
        return time.perf_counter() - t, r.json()['usage']['completion_tokens']
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool: done = list(pool.map(one, range(requests)))
    wall = time.perf_counter() - start
    lat = sorted(t for t, _ in done)
    q = statistics.quantiles(lat, n=20)
    return dict(clients=clients, requests=requests, rps=requests / wall, p50=statistics.median(lat), p95=q[18],
                tokens_per_s=sum(n for _, n in done) / wall)

def decode_speed(folder, device, new_tokens:int, repeats:int) -> dict:
    "Tokens/s of jojo's generation and of transformers' `generate` on the same exported folder (timed in turns)."
    from transformers import AutoModelForCausalLM
    ours = load_for_inference(str(folder), device)
    ids = ours.tokenizer.encode(PROMPT)
    theirs = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(ours.device).eval()
    x = torch.tensor([ids], device=ours.device)
    def hf():
        with torch.no_grad():
            return theirs.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=new_tokens,
                                   min_new_tokens=new_tokens, do_sample=False, pad_token_id=0)[0, len(ids):].tolist()
    def jojo(): return ours.model.generate([ids], new_tokens, temperature=0)[0]
    same = hf() == jojo()  # also the warm-up
    best = {'jojo': float('inf'), 'hf': float('inf')}
    for _ in range(repeats):  # in turns, so that a change in the machine's load touches both
        for name, fn in (('hf', hf), ('jojo', jojo)):
            if ours.device.type == 'cuda': torch.cuda.synchronize()
            t = time.perf_counter(); fn()
            if ours.device.type == 'cuda': torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - t)
    return dict(jojo=new_tokens / best['jojo'], hf=new_tokens / best['hf'], same_tokens=same, device=str(ours.device))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--max-tokens', type=int, default=32)
    ap.add_argument('--requests', type=int, default=48, help='requests per concurrency level')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--shape', choices=list(SHAPES), default='tiny')
    ap.add_argument('--decode-tokens', type=int, default=128)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--threads', type=int, help="torch's threads (default: torch's choice); on a busy machine 1 "
                    "avoids threads spinning while they wait for a core")
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = ModelConfig(block_size=512, vocab_size=50257, **SHAPES[a.shape])
    with tempfile.TemporaryDirectory() as tmp:
        folder = export_hf(GPT(cfg), os.path.join(tmp, 'hf'))
        print(f"model: {a.shape} ({sum(p.numel() for p in GPT(cfg).parameters()) / 1e6:.1f}M parameters), "
              f"torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs")
        env = {**os.environ, **({'OMP_NUM_THREADS': str(a.threads)} if a.threads else {})}
        jojo = Path(sys.executable).parent/'jojo'
        server = subprocess.Popen([str(jojo), 'serve', str(folder), '--port', '0', '--device', a.device,
                                   '--queue-timeout', '600'], stderr=subprocess.PIPE, text=True, env=env)
        try:
            line = server.stderr.readline()
            url = re.search(r'on (http://\S+) ', line)
            if not url: sys.exit(f"the server did not start: {line}{server.stderr.read()}")
            print(f"\nload: `jojo serve` ({a.requests} requests per level, {a.max_tokens} new tokens each, greedy, "
                  f"device {a.device})")
            print(f"{'clients':>8} {'req/s':>8} {'p50 s':>8} {'p95 s':>8} {'tokens/s':>9}")
            load_test(url[1], 1, 4, a.max_tokens)  # warm-up
            for clients in (1, 4, 16):
                r = load_test(url[1], clients, a.requests, a.max_tokens)
                print(f"{clients:>8} {r['rps']:>8.1f} {r['p50']:>8.3f} {r['p95']:>8.3f} {r['tokens_per_s']:>9.0f}")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)
        d = decode_speed(folder, a.device, a.decode_tokens, a.repeats)
        print(f"\ndecode, batch 1, greedy, {a.decode_tokens} new tokens, float32 on {d['device']}:")
        print(f"  jojo (GPT.generate, KV cache)   {d['jojo']:8.0f} tokens/s")
        print(f"  transformers generate           {d['hf']:8.0f} tokens/s")
        print(f"  ratio jojo / transformers       {d['jojo'] / d['hf']:8.2f}x   (same tokens: {d['same_tokens']})")

if __name__ == '__main__': main()
