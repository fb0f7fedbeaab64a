"""jojo's Muon (jojo_nb.model.Muon) against torch.optim.Muon, and `jojo train --optim.name muon` end to end.

Tolerance: with both in float32, parameters of size 0.1-0.5 agree to 1e-6 absolute after 5 steps (measured:
3e-8, one or two float32 ulps). The arithmetic is the same; only the order of the sums inside the matrix products
may differ (batched against single products), and Newton-Schulz amplifies a rounding difference by at most the
slope of its quintic at 0 per step (a = 3.4445, so at most ~490x over 5 steps): an ulp (6e-8 relative) times the
learning rate (0.02 x shape factor) stays far below 1e-6. In bfloat16 (torch's precision) they agree to 1e-3."""
import json, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch, torch.nn as nn
from test_train import wait_for_step
from conftest import BIN, run_jojo, tiny_args
from jojo_nb.model import Muon, ns_dtype, orthogonalize

SHAPES = [(64, 32), (32, 64), (48, 48), (64, 32), (96, 16)]  # tall, wide, square, a tall twin (batched), very tall

def stepped(cls, steps=5, adjust_lr_fn=None, nesterov=True, **kw):
    "Parameters of every kind of shape after `steps` steps of `cls` on seeded random gradients."
    torch.manual_seed(1)
    ps = [nn.Parameter(torch.randn(s) * 0.1) for s in SHAPES]
    opt = cls(ps, lr=0.02, weight_decay=0.1, adjust_lr_fn=adjust_lr_fn, nesterov=nesterov, **kw)
    for _ in range(steps):
        for p in ps: p.grad = torch.randn_like(p)
        opt.step()
    return ps, opt

@pytest.fixture
def torch_muon_in_fp32(monkeypatch):
    "torch.optim.Muon's own code with its Newton-Schulz in float32: its `.bfloat16()` cast becomes a float32 copy."
    monkeypatch.setattr(torch.Tensor, 'bfloat16', lambda self, *a, **k: self.to(torch.float32, copy=True))

@pytest.mark.parametrize('adjust_lr_fn', [None, 'original', 'match_rms_adamw'])
@pytest.mark.parametrize('nesterov', [True, False])
def test_equals_torch_in_fp32(torch_muon_in_fp32, adjust_lr_fn, nesterov):
    theirs, t_opt = stepped(torch.optim.Muon, adjust_lr_fn=adjust_lr_fn, nesterov=nesterov)
    ours, o_opt = stepped(Muon, adjust_lr_fn=adjust_lr_fn, nesterov=nesterov, dtype=torch.float32)
    for a, b in zip(theirs, ours): torch.testing.assert_close(b, a, rtol=0, atol=1e-6)
    for a, b in zip(theirs, ours):
        torch.testing.assert_close(o_opt.state[b]['momentum_buffer'], t_opt.state[a]['momentum_buffer'], rtol=0, atol=0)

def test_equals_torch_in_bf16():
    "In torch's own precision (bfloat16) the parameters agree to bf16 rounding (on this CPU, exactly)."
    theirs, _ = stepped(torch.optim.Muon)
    ours, _ = stepped(Muon, dtype=torch.bfloat16)
    for a, b in zip(theirs, ours): torch.testing.assert_close(b, a, rtol=0, atol=1e-3)

def test_default_precision_is_the_devices():
    "No dtype given: jojo's Muon orthogonalises in `ns_dtype` of the device (bf16 on CPUs with AVX512-BF16 or AMX)."
    default, _ = stepped(Muon)
    chosen, _ = stepped(Muon, dtype=ns_dtype('cpu'))
    assert all(torch.equal(a, b) for a, b in zip(default, chosen))
    assert ns_dtype('cpu') == (torch.bfloat16 if torch.cpu._is_avx512_bf16_supported() else torch.float32)

@pytest.mark.parametrize('shape', [(4, 32, 64), (4, 48, 48), (3, 16, 96), (2, 1, 8)])
def test_batched_equals_unbatched_exactly(shape):
    torch.manual_seed(0)
    g = torch.randn(shape)
    whole = orthogonalize(g)
    assert torch.equal(whole, torch.cat([orthogonalize(g[i:i + 1]) for i in range(shape[0])]))

def test_optimizer_batched_equals_one_matrix_per_group():
    "Matrices stepped together in one group equal the same matrices stepped alone, one group each, bit for bit."
    torch.manual_seed(1)
    ps = [nn.Parameter(torch.randn(s) * 0.1) for s in SHAPES]
    qs = [nn.Parameter(p.detach().clone()) for p in ps]
    together, alone = Muon(ps, lr=0.02), Muon([dict(params=[q]) for q in qs], lr=0.02)
    for _ in range(3):
        for p, q in zip(ps, qs): p.grad = torch.randn_like(p); q.grad = p.grad.clone()
        together.step(); alone.step()
    assert all(torch.equal(p, q) for p, q in zip(ps, qs))

def test_state_dict_moves_between_torch_and_jojo():
    theirs, t_opt = stepped(torch.optim.Muon, steps=2)
    ours, o_opt = stepped(Muon, steps=2, dtype=torch.bfloat16)
    o_opt.load_state_dict(t_opt.state_dict())
    t_opt.load_state_dict(o_opt.state_dict())
    assert o_opt.state_dict()['param_groups'] == t_opt.state_dict()['param_groups']

# --- end to end: `jojo train --optim.name muon`
@pytest.fixture(scope='module')
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp('data')
    lines = (f"line {i}: the quick brown fox {i % 17} jumps over {i % 5} lazy dogs.\n" for i in range(4000))
    (d/'text.txt').write_text(''.join(lines))
    return str(d/'text.txt')

MUON = {'--optim.name': 'muon', '--model.rotary': 'true', '--model.norm': 'rmsnorm', '--model.mlp': 'relu2',
        '--model.tie_embeddings': 'false', '--model.bias': 'false'}

def losses(run):
    recs = [json.loads(l) for l in (Path(run)/'metrics.jsonl').read_text().splitlines()]
    return {r['step']: r['loss'] for r in recs if 'loss' in r}

def test_muon_trains(data, tmp_path):
    p = run_jojo('train', *tiny_args(data, steps=40, **MUON), '--run-name', 'm', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    la = losses(tmp_path/'runs'/'m')
    first, last = sum(la[s] for s in range(1, 6)) / 5, sum(la[s] for s in range(36, 41)) / 5
    assert last < first - 1.0, (first, last)

@pytest.mark.slow
def test_muon_resume_continues_exactly(data, tmp_path):
    "A Muon run stopped at a checkpoint and resumed logs the same losses and ends with the same weights."
    args = tiny_args(data, steps=40, **MUON)
    p = run_jojo('train', *args, '--run-name', 'full', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    proc = subprocess.Popen([str(BIN/'jojo'), 'train', *args, '--run-name', 'cut'], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for_step(tmp_path/'runs'/'cut', 20, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    p = run_jojo('train', '--run-name', 'cut', '--resume', 'latest', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    la, lb = losses(tmp_path/'runs'/'full'), losses(tmp_path/'runs'/'cut')
    assert sorted(la) == sorted(lb) == list(range(1, 41))
    assert la == lb, [(s, la[s], lb[s]) for s in la if la[s] != lb[s]][:3]
    wa, wb = (torch.load(tmp_path/'runs'/r/'checkpoints'/'latest.pt', weights_only=True)['model'] for r in ('full', 'cut'))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)

OLD_JOJO = """import sys, torch, jojo_nb.model as m
m.Muon = torch.optim.Muon  # jojo as it was: make_optimizer built torch's Muon
from jojo_nb.cli import main
sys.argv[0] = 'jojo'; sys.exit(main())"""

@pytest.mark.slow
def test_checkpoint_of_torch_muon_resumes(data, tmp_path):
    "A checkpoint written by jojo with torch.optim.Muon resumes with jojo's Muon and goes on learning."
    args = tiny_args(data, steps=40, **MUON)
    old = subprocess.Popen([sys.executable, '-c', OLD_JOJO, 'train', *args, '--run-name', 'old'], cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for_step(tmp_path/'runs'/'old', 20, old)
    old.send_signal(signal.SIGINT)
    _, err = old.communicate(timeout=120)
    assert old.returncode == 130, err[-3000:]
    st = torch.load(tmp_path/'runs'/'old'/'checkpoints'/'latest.pt', weights_only=True)
    resumed_at = st['step']
    p = run_jojo('train', '--run-name', 'old', '--resume', 'latest', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    la = losses(tmp_path/'runs'/'old')
    assert sorted(la) == list(range(1, 41))
    before, after = (sum(la[s] for s in range(a, a + 5)) / 5 for a in (resumed_at - 4, 36))
    assert after < before and all(l == l for l in la.values()), (resumed_at, la)  # learning on, no NaN
