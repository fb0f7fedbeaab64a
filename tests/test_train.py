"`jojo train` end to end with real processes: exact resume, DDP under torchrun (gloo), signals, kill -9."
import json, os, random, re, signal, subprocess, time
from pathlib import Path
import pytest, torch
from conftest import BIN, run_jojo, tiny_args
from jojo_nb.device import pick_dtype

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp('data')
    lines = (f"line {i}: the quick brown fox {i % 17} jumps over {i % 5} lazy dogs.\n" for i in range(4000))
    (d/'text.txt').write_text(''.join(lines))
    return str(d/'text.txt')

def losses(run):
    recs = [json.loads(l) for l in (Path(run)/'metrics.jsonl').read_text().splitlines()]
    return {r['step']: r['loss'] for r in recs if 'loss' in r}

def weights(run):
    ck = Path(run)/'checkpoints'
    if (ck/'sharded').exists():  # FSDP: the newest sharded checkpoint, assembled
        from jojo_nb.checkpoint import Checkpoints, load_checkpoint
        return load_checkpoint(Checkpoints(ck).sharded_dirs()[-1])['model']
    return torch.load(ck/'latest.pt', weights_only=True)['model']

def start(args, cwd, **kw):
    return subprocess.Popen([str(BIN/'jojo'), 'train', *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)

def wait_for_step(run, step, proc, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        f = Path(run)/'metrics.jsonl'
        lines = f.read_text().splitlines() if f.exists() else []
        if any(json.loads(l).get('step', 0) >= step for l in lines if l.strip().endswith('}')): return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise TimeoutError

def check_same(a, b):
    la, lb = losses(a), losses(b)
    assert sorted(la) == sorted(lb) == list(range(1, len(la) + 1))
    assert la == lb, [(s, la[s], lb[s]) for s in la if la[s] != lb[s]][:3]
    wa, wb = weights(a), weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)

@pytest.mark.slow
@pytest.mark.parametrize('nproc,strategy', [(1, 'ddp'), (2, 'ddp'), (2, 'fsdp')])
def test_exact_resume_after_signal(data, tmp_path, nproc, strategy):
    extra = (['--nproc', str(nproc)] if nproc > 1 else []) + ['--train.strategy', strategy]
    if strategy == 'fsdp': extra += ['--optim.name', 'adamw']  # Muon orthogonalises whole matrices: not under FSDP
    p = run_jojo('train', *tiny_args(data), '--run-name', 'full', *extra, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    proc = start([*tiny_args(data), '--run-name', 'cut', *extra], tmp_path, start_new_session=True)
    wait_for_step(tmp_path/'runs'/'cut', 20, proc)
    sig = signal.SIGINT if nproc == 1 else signal.SIGTERM
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err[-3000:]  # interrupted, not finished: 130 for Ctrl+C, 143 for SIGTERM
    st = json.loads((tmp_path/'runs'/'cut'/'run.json').read_text())
    assert st['status'] == 'interrupted' and 20 <= st['step'] < 40, st
    p = run_jojo('train', '--run-name', 'cut', '--resume', 'latest', *extra, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    check_same(tmp_path/'runs'/'full', tmp_path/'runs'/'cut')

def test_resume_with_another_optimizer_is_refused_in_one_line(data, tmp_path):
    """A run saved with Muon (the default) resumed asking for AdamW: its optimizer state cannot load, so exit 2 with
    one line naming both and what to do, and the checkpoint is untouched."""
    train = lambda *a: run_jojo('train', *tiny_args(data, steps=10), '--run-name', 'r', *a, cwd=tmp_path)
    assert train().returncode == 0
    latest = tmp_path/'runs'/'r'/'checkpoints'/'latest.pt'
    before = latest.read_bytes()
    p = train('--resume', 'latest', '--train.max_steps', '12', '--optim.name', 'adamw')
    assert p.returncode == 2 and 'Traceback' not in p.stderr, p.stderr[-2000:]
    errors = [l for l in p.stderr.splitlines() if l.startswith('jojo: error:')]
    assert len(errors) == 1 and "optim.name: checkpoint 'muon', config 'adamw' (resume with --optim.name muon" in errors[0]
    assert latest.read_bytes() == before

@pytest.mark.slow
def test_ddp_matches_accumulation(data, tmp_path):
    common = tiny_args(data, steps=20, **{'--train.total_batch_size': 2 * 4 * 32})
    a = run_jojo('train', *common, '--run-name', 'accum', cwd=tmp_path)
    b = run_jojo('train', *common, '--run-name', 'ddp', '--nproc', '2', cwd=tmp_path)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr[-2000:], b.stderr[-2000:])
    la, lb = losses(tmp_path/'runs'/'accum'), losses(tmp_path/'runs'/'ddp')
    assert len(la) == len(lb) == 20
    assert max(abs(la[s] - lb[s]) for s in la) < 1e-5, [(la[s], lb[s]) for s in la]

@pytest.mark.slow
def test_fsdp_matches_accumulation(data, tmp_path):
    """FSDP2 on 2 processes (gloo) trains the same model as 1 process with 2 accumulation steps, and its sharded
    checkpoint assembles into the same weights. In float32: in bfloat16 (auto, on a CPU with bf16 instructions)
    FSDP keeps its parameters in bf16 where one process autocasts from fp32 ones, by design not the same numbers."""
    common = tiny_args(data, steps=20, **{'--train.total_batch_size': 2 * 4 * 32, '--optim.grad_clip': 1.0,
                                          '--optim.name': 'adamw', '--train.dtype': 'float32'})  # FSDP refuses Muon
    a = run_jojo('train', *common, '--run-name', 'accum', cwd=tmp_path)
    b = run_jojo('train', *common, '--run-name', 'fsdp', '--nproc', '2', '--train.strategy', 'fsdp', cwd=tmp_path)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr[-2000:], b.stderr[-2000:])
    la, lb = losses(tmp_path/'runs'/'accum'), losses(tmp_path/'runs'/'fsdp')
    assert len(la) == len(lb) == 20
    assert max(abs(la[s] - lb[s]) for s in la) < 1e-4, [(la[s], lb[s]) for s in la]
    wa, wb = weights(tmp_path/'runs'/'accum'), weights(tmp_path/'runs'/'fsdp')
    assert max((wa[k] - wb[k]).abs().max().item() for k in wa) < 1e-4
    p = run_jojo('checkpoints', 'verify', 'fsdp', cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.count('ok') == 3, p.stdout  # step 10, step 20, best
    # the run's config says fsdp; alone, it cannot resume
    p = run_jojo('train', '--run-name', 'fsdp', '--resume', 'latest', cwd=tmp_path)
    assert p.returncode == 2 and 'sharded checkpoint of an FSDP run' in p.stderr, p.stderr

def _children(pid):
    out = subprocess.run(['pgrep', '-P', str(pid)], capture_output=True, text=True).stdout.split()
    return [int(x) for x in out]

@pytest.mark.slow
def test_sigterm_to_one_rank_stops_all(data, tmp_path):
    proc = start([*tiny_args(data, steps=400), '--run-name', 'term', '--nproc', '2'], tmp_path, start_new_session=True)
    run = tmp_path/'runs'/'term'
    wait_for_step(run, 12, proc)
    torchrun = _children(proc.pid)
    workers = [c for t in torchrun for c in _children(t)]
    assert len(workers) == 2, (torchrun, workers)
    os.kill(workers[-1], signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and 'ChildFailedError' not in err, err[-3000:]
    st = json.loads((run/'run.json').read_text())
    ck = torch.load(run/'checkpoints'/'latest.pt', weights_only=True)
    assert st['status'] == 'interrupted' and ck['step'] == st['step'] == max(losses(run)) < 400
    assert len(ck['loader']) == 2 and ck['loader'][0]['position'] == ck['loader'][1]['position']

@pytest.mark.slow
def test_kill_9_at_random_moments(data, tmp_path):
    rng = random.Random(0)
    interval = 5
    for trial in range(20):
        name = f'k{trial}'
        run = tmp_path/'runs'/name
        every = {'--checkpoint.interval': interval, '--eval.interval': 0}
        args = [*tiny_args(data, steps=400, **every), '--run-name', name]
        proc = start(args, tmp_path)
        wait_for_step(run, rng.randint(3, 30), proc)
        time.sleep(rng.random() * 0.3)  # sometimes during a save
        proc.kill(); proc.communicate()
        logged = max(losses(run))
        p = run_jojo('train', '--run-name', name, '--resume', 'latest', '--train.max_steps', str(logged + 3),
                     cwd=tmp_path)
        assert p.returncode == 0, (trial, p.stderr[-3000:])
        found = re.search(r'resumed from \S+ at step (\d+)', p.stderr)
        resumed_at = int(found.group(1)) if found else 0
        assert logged - resumed_at <= interval, (trial, logged, resumed_at)
        assert max(losses(run)) == logged + 3

def test_jojo_train_without_arguments(tmp_path):
    "The default preset (tiny-cpu on Tiny Shakespeare), shortened for CI, on a machine with no data and no network."
    empty = {'JOJO_DATA_DIR': str(tmp_path/'no-data'), 'TIKTOKEN_CACHE_DIR': str(tmp_path/'no-tiktoken')}
    p = run_jojo('train', '--train.max_steps', '12', '--optim.warmup_steps', '3', '--eval.interval', '6',
                 '--eval.iters', '2', cwd=tmp_path, timeout=900, env=empty)
    assert p.returncode == 0, p.stderr[-3000:]
    assert 'finished at step 12/12' in p.stderr
    assert not (tmp_path/'no-data').exists() and not (tmp_path/'no-tiktoken').exists()  # nothing was downloaded
    assert '\nnext:\n  sample it:    jojo sample --checkpoint tiny-cpu-' in p.stderr, p.stderr[-1500:]
    run = next((tmp_path/'runs').iterdir())
    samples = [json.loads(l) for l in (run/'samples.jsonl').read_text().splitlines()]
    assert samples and samples[-1]['prompt'] == 'ROMEO:'

def test_fp8_falls_back_with_one_line(data, tmp_path):
    """FP8 asked for on a machine that cannot run it: one line says why, and the run trains on; with fp8.required
    it stops."""
    fp8 = ('--fp8.enabled', 'true')
    p = run_jojo('train', *tiny_args(data, steps=6), *fp8, '--fp8.backend', 'torchao', '--run-name', 'f', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [l for l in p.stderr.splitlines() if 'fp8' in l.lower()]
    dtype = str(pick_dtype('auto', torch.device('cpu'), training=True)).replace('torch.', '')  # bf16 where the CPU has it
    assert lines == [f'jojo: fp8: there is no CUDA GPU; continuing in {dtype}'], lines
    assert json.loads((tmp_path/'runs'/'f'/'run.json').read_text())['status'] == 'finished'
    p = run_jojo('train', *tiny_args(data, steps=6), *fp8, '--fp8.required', 'true', '--run-name', 'g', cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    why = 'jojo: error: fp8.required is set but FP8 cannot run: there is no CUDA GPU'
    assert p.stderr.strip().splitlines()[-1] == why, p.stderr
