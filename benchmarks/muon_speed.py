"""One optimizer step, and one whole training step, with AdamW, torch.optim.Muon and jojo's Muon, in one run.

The model is the `tiny-cpu` preset's shape (4 layers, 4 heads, 128 wide, 64-byte context, batch 12) with the
modern options (rotary, RMSNorm, QK-norm, relu^2, untied head, no biases, logit softcap), as issue 32 measured it.
Muon takes the blocks' 16 hidden matrices and AdamW the rest, as `make_optimizer` builds it; "torch Muon" is the
same with `torch.optim.Muon` in the place of jojo's (what jojo built before it had its own). The three are timed
in turn, round after round, so machine noise hits all alike; each figure is the median over the rounds, after
warm-up steps, and the ratios are against the AdamW step of the same run.

    python benchmarks/muon_speed.py [--rounds 7] [--steps 3] [--device cpu|cuda] [--torch-rounds 3]
"""
import argparse, statistics, time
from unittest import mock
import torch
import jojo_nb.model as jm
from jojo_nb.config import load_config
from jojo_nb.model import GPT, make_optimizer, param_groups, ns_dtype

MODERN = {'model.rotary': 'true', 'model.norm': 'rmsnorm', 'model.qk_norm': 'true', 'model.mlp': 'relu2',
          'model.tie_embeddings': 'false', 'model.zero_init_proj': 'true', 'model.logit_softcap': '30.0',
          'model.bias': 'false', 'model.vocab_size': '256'}

def optimizer(model, kind:str, cfg):
    "The optimizer `kind` names for `model`: adamw, torch-muon, or jojo's Muon (jojo-*)."
    optim = cfg.optim.__class__(**{**vars(cfg.optim), 'name': 'adamw' if kind == 'adamw' else 'muon'})
    if kind == 'torch-muon':
        with mock.patch.object(jm, 'Muon', torch.optim.Muon): return make_optimizer(model, optim, model_device(model))
    return make_optimizer(model, optim, model_device(model))

def model_device(model): return next(model.parameters()).device.type

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()

def timed(fn, steps:int, device) -> float:
    "Seconds per call of `fn`, over `steps` calls."
    sync(device); t0 = time.perf_counter()
    for _ in range(steps): fn()
    sync(device)
    return (time.perf_counter() - t0) / steps

def ns_gflop(model) -> float:
    "Newton-Schulz's floating-point work per Muon step (5 iterations of 4 m^2 n + 2 m^3 for an m x n matrix, m <= n)."
    return sum(5 * (4 * min(p.shape)**2 * max(p.shape) + 2 * min(p.shape)**3) for p in param_groups(model)['matrices']) / 1e9

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=7)
    ap.add_argument('--steps', type=int, default=3, help='steps per round and optimizer')
    ap.add_argument('--torch-rounds', type=int, default=3, help="rounds for torch's Muon (slow on a CPU)")
    ap.add_argument('--device', default='cpu')
    a = ap.parse_args()
    device = torch.device(a.device)
    cfg = load_config(preset='tiny-cpu', overrides=MODERN)
    m, B = cfg.model, cfg.train.micro_batch_size
    torch.manual_seed(0)
    x = torch.randint(0, m.vocab_size, (B, m.block_size), device=device)
    y = torch.randint(0, m.vocab_size, (B, m.block_size), device=device)
    kinds = ['adamw', 'torch-muon', 'jojo-muon', 'jojo-fp32', 'jojo-bf16']
    models = {k: GPT(m).to(device) for k in kinds}
    opts = {k: optimizer(models[k], k, cfg) for k in kinds}
    for k, dtype in (('jojo-fp32', torch.float32), ('jojo-bf16', torch.bfloat16)): opts[k].optimizers[0].dtype = dtype
    def train_step(k):
        loss = models[k](x, y)[1]; loss.backward(); opts[k].step(); opts[k].zero_grad(set_to_none=False)
    for k in kinds:
        for _ in range(2): train_step(k)  # warm-up; leaves gradients in place for the optimizer-only timing
        models[k](x, y)[1].backward()
    opt_t, step_t = {k: [] for k in kinds}, {k: [] for k in kinds}
    for r in range(a.rounds):
        for k in kinds:
            if k == 'torch-muon' and r >= a.torch_rounds: continue
            opt_t[k].append(timed(opts[k].step, a.steps, device))
            step_t[k].append(timed(lambda: train_step(k), a.steps, device))
            models[k](x, y)[1].backward()  # gradients for the next round's optimizer-only steps
    med = lambda ts: statistics.median(ts) * 1e3
    n_mat = len(param_groups(models['adamw'])['matrices'])
    print(f"torch {torch.__version__}, {device}, {torch.get_num_threads()} threads; tiny-cpu + modern options, "
          f"batch {B}x{m.block_size}; {n_mat} Muon matrices, Newton-Schulz {ns_gflop(models['adamw']):.2f} GFLOP "
          f"per step in {str(ns_dtype(device)).replace('torch.', '')} (jojo) / bfloat16 (torch)")
    print(f"median of {a.rounds} rounds x {a.steps} steps (torch Muon: {a.torch_rounds} rounds), after 2 warm-up steps")
    print(f"{'':12s} {'optimizer step':>16s} {'ratio':>7s} {'training step':>15s} {'ratio':>7s}")
    base_o, base_s = med(opt_t['adamw']), med(step_t['adamw'])
    for k in kinds:
        o, s = med(opt_t[k]), med(step_t[k])
        print(f"{k:12s} {o:13.1f} ms {o / base_o:6.2f}x {s:12.1f} ms {s / base_s:6.2f}x")

if __name__ == '__main__': main()
