"""Forward+backward speed of jojo's GPT against a minimal reference implementation of the same math.

Both models compute the same function (GPT-2: pre-LayerNorm, fused QKV, causal SDPA, tanh-GELU, learned
positions, tied embeddings; the padded vocabulary rows of jojo get no probability). They are timed
alternately in the same process, so machine noise hits both; the figure is the ratio of median step times.

    python benchmarks/model_speed.py [--rounds 7] [--steps 5]
"""
import argparse, math, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F
from jojo_nb.config import ModelConfig
from jojo_nb.model import GPT

class RefBlock(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, 2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate='tanh'))

class RefGPT(nn.Module):
    "The reference: the same math written as plainly as possible, with an unpadded vocabulary."
    def __init__(self, L, H, d, T, V):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, d), nn.Embedding(T, d)
        self.blocks = nn.ModuleList(RefBlock(d, H) for _ in range(L))
        self.ln_f = nn.LayerNorm(d)
        for p in self.parameters():
            if p.dim() >= 2: nn.init.normal_(p, std=0.02)
    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for b in self.blocks: x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

def step_time(model, opt, x, y, steps, jojo):
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = model(x, y)[1] if jojo else model(x, y)
        loss.backward()
        opt.step(); opt.zero_grad(set_to_none=True)
    return (time.perf_counter() - t0) / steps

def bench(name, L, H, d, T, B, V, rounds, steps):
    torch.manual_seed(0)
    ours = GPT(ModelConfig(n_layer=L, n_head=H, n_embd=d, block_size=T, vocab_size=V))
    ref = RefGPT(L, H, d, T, V)
    opts = {id(m): torch.optim.AdamW(m.parameters(), lr=1e-4) for m in (ours, ref)}
    x, y = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))
    for m, j in ((ours, True), (ref, False)): step_time(m, opts[id(m)], x, y, 2, j)  # warm up
    t_ours, t_ref = [], []
    for _ in range(rounds):
        t_ours.append(step_time(ours, opts[id(ours)], x, y, steps, True))
        t_ref.append(step_time(ref, opts[id(ref)], x, y, steps, False))
    mo, mr = statistics.median(t_ours), statistics.median(t_ref)
    tok = B * T
    print(f"{name:28s} jojo {tok / mo:9.0f} tok/s   reference {tok / mr:9.0f} tok/s   ratio {mr / mo:.3f}")
    return mr / mo

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=7)
    ap.add_argument('--steps', type=int, default=5)
    a = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; forward+backward+AdamW, median of {a.rounds} rounds")
    r1 = bench('baby GPT (4L 4H 128d, V=256)', 4, 4, 128, 64, 12, 256, a.rounds, a.steps)
    r2 = bench('tiny GPT-2 vocab (V=50257)', 4, 4, 128, 128, 16, 50257, a.rounds, a.steps)
    print(f"ratios (reference time / jojo time, >= 1.0 means jojo is at least as fast): {r1:.3f} {r2:.3f}")
