"Checkpoints of a real run: `jojo checkpoints`, `jojo export` to Hugging Face, an old-format checkpoint, damaged files."
import json, shutil, time
import pytest, torch
from conftest import run_jojo, train_tiny, ROOT
from test_train import data  # noqa: F401  (the module-scoped text fixture)

@pytest.fixture(scope='module')
def run(tmp_path_factory, data):
    d = train_tiny(tmp_path_factory.mktemp('ck'), data, 24, **{'--checkpoint.interval': 2, '--checkpoint.keep': 20})
    return d/'runs'/'r'

def test_list_is_instant_and_complete(run):
    t0 = time.time()
    p = run_jojo('checkpoints', 'list', run)
    took = time.time() - t0
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) >= 1 + 12 + 3 and 'latest.pt' in lines[1] and 'rolling/step_0000024.pt' in p.stdout
    print(f"jojo checkpoints list: {len(lines) - 1} checkpoints in {took:.2f}s (process start included)")

def test_verify_show_prune(run, tmp_path):
    r = tmp_path/'r'; shutil.copytree(run, r)
    assert run_jojo('checkpoints', 'verify', r).returncode == 0
    show = run_jojo('checkpoints', 'show', r/'checkpoints'/'best.pt')
    assert show.returncode == 0 and json.loads(show.stdout)['val_loss'] is not None
    f = r/'checkpoints'/'rolling'/'step_0000010.pt'
    raw = bytearray(f.read_bytes()); raw[len(raw) // 3] ^= 1; f.write_bytes(raw)
    p = run_jojo('checkpoints', 'verify', r)
    assert p.returncode == 1 and 'corrupt' in p.stdout and 'step_0000010.pt' in p.stdout
    p = run_jojo('checkpoints', 'prune', r, '--keep', '3')
    assert p.returncode == 0 and len(list((r/'checkpoints'/'rolling').glob('*.pt'))) == 3

def test_damaged_latest_falls_back(run, tmp_path, data):
    r = tmp_path/'runs'/'r'; shutil.copytree(run, r)
    latest = r/'checkpoints'/'latest.pt'
    latest.write_bytes(latest.read_bytes()[:1000])  # truncated
    p = run_jojo('train', '--run-name', 'r', '--resume', 'latest', '--train.max_steps', '26', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    # the copy made rolling/step_0000024.pt its own file (no longer a link of latest.pt): the newest that verifies
    assert 'truncated' in p.stderr and 'rolling/step_0000024.pt instead' in p.stderr

def test_export_hf_matches_transformers(run, tmp_path):
    transformers = pytest.importorskip('transformers')
    p = run_jojo('export', run/'checkpoints'/'latest.pt', tmp_path/'hf')
    assert p.returncode == 0, p.stderr
    from jojo_nb.checkpoint import load_model
    ours, cfg, _ = load_model(run/'checkpoints'/'latest.pt')
    theirs = transformers.AutoModelForCausalLM.from_pretrained(tmp_path/'hf').eval()  # Qwen3 for tiny-cpu
    x = torch.randint(0, 256, (2, 32))
    with torch.no_grad(): assert torch.allclose(ours(x)[0][..., :256], theirs(x).logits, atol=1e-5)
    p = run_jojo('export', run, tmp_path/'st', '--format', 'safetensors')
    assert p.returncode == 0 and (tmp_path/'st'/'model.safetensors').exists(), p.stderr

def test_old_format_checkpoint_loads(run, tmp_path):
    "A version-0 checkpoint (no format_version, metrics or loader positions) loads with defaults."
    st = torch.load(run/'checkpoints'/'latest.pt', weights_only=True)
    for k in ('format_version', 'metrics', 'loader', 'nan_count'): st.pop(k, None)
    torch.save(st, tmp_path/'v0.pt')
    from jojo_nb.checkpoint import load_checkpoint, FORMAT_VERSION
    back = load_checkpoint(tmp_path/'v0.pt', quiet=True)
    assert back['format_version'] == FORMAT_VERSION and back['metrics'] == {} and back['loader'] == []
    fixture = ROOT/'tests'/'fixtures'/'checkpoint_v0.pt'
    if fixture.exists():
        old = load_checkpoint(fixture, quiet=True)
        assert old['format_version'] == FORMAT_VERSION and 'model' in old
