"""Items per second of the batched scoring engine (`jojo_nb.evaluate.score_continuations`) against the item-by-item
loop it replaced (one forward pass per HellaSwag item, its four endings padded together, full logits and a
log-softmax over every position), on the same model and the same items, measured in the same run.

    python benchmarks/eval_speed.py [--items 200] [--repeats 3]

On a CUDA GPU it also times the full CORE suite (every item of every task of the bundle) with a GPT-2 124M-shaped
model in bfloat16. The item-by-item figure is the baseline: ratios are what to compare between machines."""
import argparse, contextlib, os, time
import torch
import torch.nn.functional as F
from jojo_nb.config import ModelConfig
from jojo_nb.model import GPT
from jojo_nb.tokenizer import Tokenizer
from jojo_nb.evaluate import hellaswag_file, hellaswag_items, hellaswag_requests, hellaswag, score_continuations

@torch.no_grad()
def item_by_item(model, tok, items) -> float:
    "The loop before the engine: acc_norm over `items`, one forward pass per item."
    right = 0
    for it in items:
        ctx = tok.encode(it['ctx'])
        ends = [tok.encode(' ' + e) for e in it['endings']]
        rows = [(ctx + e)[-model.cfg.block_size:] for e in ends]
        x = torch.zeros(4, max(map(len, rows)), dtype=torch.long)
        for i, r in enumerate(rows): x[i, :len(r)] = torch.tensor(r)
        logits, _ = model(x)
        logp = F.log_softmax(logits[:, :-1].float(), -1).gather(-1, x[:, 1:, None]).squeeze(-1)
        norm = [logp[i, len(r) - 1 - len(e):len(r) - 1].sum().item() / len(it['endings'][i])
                for i, (r, e) in enumerate(zip(rows, ends))]
        right += max(range(4), key=norm.__getitem__) == it['label']
    return right / len(items)

def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t)
    return min(times), out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--items', type=int, default=200)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--batch-size', type=int, default=32)
    args = ap.parse_args()
    torch.manual_seed(0)
    tok = Tokenizer('gpt2')
    model = GPT(ModelConfig(n_layer=4, n_head=4, n_embd=128, block_size=256, vocab_size=tok.n_vocab)).eval()
    items = hellaswag_items(hellaswag_file(), args.items)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; HellaSwag, {len(items)} items; tiny GPT "
          f"(4 layers, 128 wide, GPT-2 vocabulary, block 256)")
    base, acc_a = best_of(lambda: item_by_item(model, tok, items), args.repeats)
    one, r1 = best_of(lambda: hellaswag(model, tok, items, batch_size=4), args.repeats)
    batched, r2 = best_of(lambda: hellaswag(model, tok, items, batch_size=args.batch_size), args.repeats)
    assert abs(acc_a - r2['acc_norm']) < 1e-9 and abs(r1['acc_norm'] - r2['acc_norm']) < 1e-9, (acc_a, r1, r2)
    print(f"{'item by item (full logits)':32} {len(items) / base:8.1f} items/s   1.00x")
    print(f"{'engine, one item per pass':32} {len(items) / one:8.1f} items/s   {base / one:.2f}x")
    print(f"{f'engine, batch {args.batch_size} rows':32} {len(items) / batched:8.1f} items/s   {base / batched:.2f}x")
    print(f"same acc_norm on all three: {acc_a:.4f}")
    if torch.cuda.is_available():
        from jojo_nb.core_score import core_bundle, load_bundle, core_score
        dev = torch.device('cuda')
        big = GPT(ModelConfig(vocab_size=tok.n_vocab)).to(dev).eval()
        bundle = load_bundle(core_bundle())
        ctx = lambda: torch.autocast('cuda', dtype=torch.bfloat16)
        t = time.perf_counter()
        r = core_score(big, tok, bundle, device=dev, batch_size=64, forward_ctx=ctx)
        torch.cuda.synchronize()
        print(f"GPU: full {r['label']} with a GPT-2 124M-shaped model in bf16: {time.perf_counter() - t:.1f} s "
              f"({sum(v['n'] for v in r['tasks'].values())} items)")
    else: print("GPU: none here; the full-CORE timing needs CUDA")

if __name__ == '__main__': main()
