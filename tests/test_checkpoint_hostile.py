"""Checkpoints and Hugging Face folders under attack (issue 27, holes 5, 7, 8, 9, 10 and 14): a retrained tokenizer,
a half-written export, an incomplete HF folder, a zip bomb, absurd sizes and damaged files each end in one line;
a hypothesis test mutates a tiny HF export and a tiny `.pt` and `load_for_inference` works or raises `JojoError`."""
import copy, io, json, pickle, re, shutil, struct, time, zipfile
from pathlib import Path
import pytest, torch
from hypothesis import given, settings, HealthCheck, strategies as st
from conftest import HostileTally, run_jojo, tiny_args
from test_train import data  # noqa: F401  (the module-scoped text fixture)
from jojo_nb.core import JojoError, MARKER
from jojo_nb.config import ModelConfig, RunConfig, to_dict
from jojo_nb.model import GPT
from jojo_nb.tokenizer import Tokenizer
from jojo_nb.checkpoint import CheckpointError, load_checkpoint, torch_load, write_checkpoint, capture_rng
from jojo_nb.bpe import train_tokenizer
from jojo_nb.hf import EXPORT_MARK, export_hf, export_safetensors, load_hf, load_for_inference
import jojo_nb.hf as hf

def error_line(p) -> str:
    "The one `jojo: error:` line a refused command prints (and nothing like a traceback)."
    assert 'Traceback' not in p.stderr and 'weights_only' not in p.stderr, p.stderr[-2000:]
    lines = [l for l in p.stderr.splitlines() if l.startswith('jojo: error:')]
    assert len(lines) == 1, p.stderr[-2000:]
    return lines[0]

def refused(p, *pieces):
    line = error_line(p)
    assert p.returncode == 2 and all(x in line for x in pieces), (p.returncode, line)
    return line

@pytest.fixture(scope='module')
def run(tmp_path_factory, data):
    "A folder holding a tiny run `r` (under runs/) trained with the tokenizer folder `tok` (300 tokens) beside it."
    d = tmp_path_factory.mktemp('hostile_ck')
    train_tokenizer(data, 300, d/'tok', progress=False)
    p = run_jojo('train', *tiny_args(data, steps=10, **{'--data.tokenizer': d/'tok'}), '--run-name', 'r', cwd=d)
    assert p.returncode == 0, p.stderr[-2000:]
    return d

def tiny_gpt(vocab=256, seed=0):
    torch.manual_seed(seed)
    return GPT(ModelConfig(n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=vocab))

# --- hole 5: a checkpoint's tokenizer is checked by every command that loads it ------------------------------------
def test_retrained_tokenizer_is_refused(run, tmp_path):
    """A run keeps its own copy of its tokenizer: the user's folder trained again on other text changes nothing, and
    the run's copy trained again (to the same size) is refused by sampling and exporting."""
    other = tmp_path/'other.txt'
    other.write_text(''.join(f"zebra {i}: quilts vex {i % 13} jumbo wizards {i % 7}!\n" for i in range(3000)))
    kept = run/'runs/r/tokenizer'
    for folder in (run/'tok', kept): shutil.copytree(folder, tmp_path/f'{folder.name}_saved')
    try:
        train_tokenizer(str(other), 300, run/'tok', force=True, progress=False)
        p = run_jojo('sample', '--checkpoint', 'r', '--max-new-tokens', '3', '--device', 'cpu', cwd=run)
        assert p.returncode == 0, p.stderr[-1500:]  # the run's own copy is used
        shutil.rmtree(kept); shutil.copytree(run/'tok', kept)
        assert Tokenizer(str(kept)).n_vocab == 300  # the same size: only the identity tells them apart
        p = run_jojo('sample', '--checkpoint', 'r', '--max-new-tokens', '3', '--device', 'cpu', cwd=run)
        refused(p, 'runs/r/checkpoints/latest.pt was made with tokenizer')
        p = run_jojo('export', 'r', 'out', '--device', 'cpu', cwd=run)
        refused(p, 'was made with tokenizer')
        assert not (run/'out').exists()
    finally:
        for folder in (run/'tok', kept):
            shutil.rmtree(folder, ignore_errors=True); shutil.copytree(tmp_path/f'{folder.name}_saved', folder)

# --- hole 7: an export is written whole; a folder of the user's is never replaced ---------------------------------
def test_export_is_written_whole(tmp_path, monkeypatch):
    out = tmp_path/'hf'
    export_hf(tiny_gpt(), out, tokenizer=Tokenizer('bytes'))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    def disk_full(*args, **kwargs): raise OSError(28, 'No space left on device')
    monkeypatch.setattr(hf, 'hf_config', disk_full)  # fails after model.safetensors is written, before config.json
    with pytest.raises(OSError, match='No space left'): export_hf(tiny_gpt(seed=1), out, tokenizer=Tokenizer('bytes'))
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ['hf']  # no temporary folder left behind
    export_hf(tiny_gpt(seed=1), out, tokenizer=Tokenizer('bytes'))  # over its own export: replaced whole
    assert (out/'model.safetensors').read_bytes() != before['model.safetensors']
    legacy = tmp_path/'legacy'; legacy.mkdir()  # an export of an older jojo_nb: jojo_export.json, no .jojo.json
    for f in ('config.json', 'model.safetensors'): shutil.copy(out/f, legacy/f)
    (legacy/EXPORT_MARK).write_text(json.dumps({'format': 'hf', 'tokenizer': {'name': 'bytes', 'chat': False}}))
    assert load_for_inference(str(legacy), 'cpu').tokenizer.name == 'bytes'
    export_safetensors(tiny_gpt(), legacy)
    assert (legacy/MARKER).is_file() and not (legacy/EXPORT_MARK).exists()

def test_export_never_replaces_a_users_folder(run, tmp_path):
    mine = tmp_path/'mine'; mine.mkdir()
    (mine/'config.json').write_text('{"my": "notes"}'); (mine/'notes.txt').write_text('keep me\n')
    p = run_jojo('export', run/'runs'/'r', mine, '--device', 'cpu', '--force', cwd=tmp_path)
    refused(p, 'is not a folder jojo made')
    assert sorted(f.name for f in mine.iterdir()) == ['config.json', 'notes.txt']
    assert (mine/'config.json').read_text() == '{"my": "notes"}'

# --- hole 8 and 14: Hugging Face folders are loaded strictly ------------------------------------------------------
@pytest.fixture(scope='module')
def hf_export(tmp_path_factory):
    out = tmp_path_factory.mktemp('hf')/'hf'
    export_hf(tiny_gpt(), out, tokenizer=Tokenizer('bytes'))
    return out

def variant(src, dst, config=None, drop=(), weights=None):
    "A copy of the export `src` with keys of config.json changed (None deletes one) and model.safetensors replaced."
    from safetensors.torch import save_file
    shutil.copytree(src, dst)
    if config is not None:
        c = {**json.loads((src/'config.json').read_text()), **config}
        (dst/'config.json').write_text(json.dumps({k: v for k, v in c.items() if v is not None}))
    if weights is not None: save_file(weights, dst/'model.safetensors')
    return dst

def test_hf_init_from_is_strict(hf_export, tmp_path):
    from safetensors.torch import load_file
    sd = load_file(hf_export/'model.safetensors')
    two = variant(hf_export, tmp_path/'two', weights=dict(list(sd.items())[:2]))
    with pytest.raises(CheckpointError, match=r'lacks 26 of the 28 weights its config.json implies \(the first: '):
        load_hf(two)
    assert load_hf(two, partial=True).cfg.n_layer == 2
    one = variant(hf_export, tmp_path/'one', weights={**sd, 'transformer.h.0.ln_1.weight': torch.ones(1)})
    with pytest.raises(CheckpointError, match=r'transformer.h.0.ln_1.weight has shape \[1\], but its config.json implies \[32\]'):
        load_hf(one)
    extra = variant(hf_export, tmp_path/'extra', weights={**sd, 'h.5.mlp.c_fc.bias': torch.zeros(128)})
    with pytest.raises(CheckpointError, match="holds a weight 'h.5.mlp.c_fc.bias'"): load_hf(extra)

def test_hf_init_from_cli_refuses_an_incomplete_folder(hf_export, tmp_path, data):
    from safetensors.torch import load_file
    sd = load_file(hf_export/'model.safetensors')
    two = variant(hf_export, tmp_path/'two', weights=dict(list(sd.items())[:2]))
    over = {'--model.n_layer': 2, '--model.n_embd': 32, '--model.block_size': 16}
    p = run_jojo('train', *tiny_args(data, steps=6, **over), '--run-name', 'x', '--init-from', two, cwd=tmp_path)
    refused(p, 'lacks 26 of the 28 weights')
    assert not (tmp_path/'runs'/'x'/'checkpoints'/'latest.pt').exists()

def test_hf_folder_damage_is_one_line(hf_export, tmp_path):
    cases = {'missing': ({'n_embd': None}, "the key 'n_embd' is missing"),
             'string': ({'n_layer': '2'}, "n_layer must be a whole number, not '2'"),
             'negative': ({'n_head': -2}, 'n_head=-2 must be at least 1'),
             'zero heads': ({'n_head': 0}, 'n_head=0 must be at least 1'),
             'indivisible': ({'n_head': 5}, 'is not divisible by model.n_head=5'),
             'huge': ({'n_layer': 10**9}, 'n_layer=1000000000'),
             'huge vocab': ({'vocab_size': 10**12}, 'vocab_size'),
             'float': ({'n_embd': 32.5}, 'n_embd must be a whole number'),
             'not loadable': ({'model_type': 'mistral'}, "model_type 'mistral' is not one jojo_nb loads (gpt2, llama, qwen3)"),
             'n_inner': ({'n_inner': 64}, 'n_inner=64 is not 4 x n_embd')}
    for name, (config, expected) in cases.items():
        t0 = time.time()
        with pytest.raises(JojoError, match=re.escape(expected)):
            load_for_inference(str(variant(hf_export, tmp_path/name, config=config)), 'cpu')
        assert time.time() - t0 < 5, name
    raw = (hf_export/'model.safetensors').read_bytes()
    n = int.from_bytes(raw[:8], 'little')
    header = json.loads(raw[8:8 + n])
    def with_header(h:dict|bytes, body=raw[8 + n:]):
        b = h if isinstance(h, bytes) else json.dumps(h).encode()
        return len(b).to_bytes(8, 'little') + b + body
    first = next(k for k in header if k != '__metadata__')
    bad_headers = {'length past the end': (10**15).to_bytes(8, 'little') + raw[8:],
                   'short file': raw[:5],
                   'not json': with_header(b'{"a": [1, 2'),
                   'deep json': with_header(b'[' * 100000 + b']' * 100000),
                   'a list': with_header(b'[1, 2, 3]'),
                   'unknown dtype': with_header({**header, first: {**header[first], 'dtype': 'F7'}}),
                   'string shape': with_header({**header, first: {**header[first], 'shape': ['4']}}),
                   'offsets outside': with_header({**header, first: {**header[first], 'data_offsets': [0, 10**12]}}),
                   'truncated data': with_header(header, raw[8 + n:-100])}
    for name, content in bad_headers.items():
        folder = variant(hf_export, tmp_path/f'h_{name}')
        (folder/'model.safetensors').write_bytes(content)
        with pytest.raises(JojoError, match='model.safetensors'): load_hf(folder)
    folder = variant(hf_export, tmp_path/'listmark')
    (folder/MARKER).unlink(); (folder/EXPORT_MARK).write_text('[1, 2]')
    with pytest.raises(JojoError, match='must hold an object, not a JSON list'): load_for_inference(str(folder), 'cpu')

class Payload:
    def __init__(self, path): self.path = path
    def __reduce__(self): return (Path.write_text, (self.path, 'pwned'))

def test_pickled_pytorch_model_bin(hf_export, tmp_path):
    folder = variant(hf_export, tmp_path/'bin')
    (folder/'model.safetensors').unlink()
    torch.save({'transformer.wte.weight': torch.zeros(256, 32), 'x': Payload(tmp_path/'pwned')},
               folder/'pytorch_model.bin')
    p = run_jojo('sample', '--checkpoint', folder, '--max-new-tokens', '2', '--device', 'cpu', cwd=tmp_path)
    refused(p, 'pytorch_model.bin is not a safe weights file: the safe loader refused it')
    assert not (tmp_path/'pwned').exists()

# --- hole 9: compressed records are refused before torch inflates them ---------------------------------------------
def deflated_copy(src:Path, dst:Path):
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as b:
        for info in a.infolist(): b.writestr(info.filename, a.read(info))

def test_zip_bombs_are_refused(run, tmp_path):
    state = torch.load(run/'runs'/'r'/'checkpoints'/'latest.pt', weights_only=True)
    state['model']['zeros'] = torch.zeros(16 << 20)  # 64 MiB of zeros: about 64 KiB deflated
    torch.save(state, tmp_path/'plain.pt')
    deflated_copy(tmp_path/'plain.pt', tmp_path/'bomb.pt')
    assert (tmp_path/'bomb.pt').stat().st_size < 2 << 20
    p = run_jojo('sample', '--checkpoint', tmp_path/'bomb.pt', '--max-new-tokens', '2', '--device', 'cpu',
                 cwd=run)
    refused(p, 'bomb.pt is not a safe checkpoint', 'is compressed')
    # a stored record whose directory entry claims more bytes than the file holds
    raw = bytearray((tmp_path/'plain.pt').read_bytes())
    at = raw.rfind(b'PK\x01\x02', 0, len(raw))  # the last central directory entry
    raw[at + 20:at + 28] = struct.pack('<II', 1 << 30, 1 << 30)
    (tmp_path/'claims.pt').write_bytes(raw)
    with pytest.raises(CheckpointError, match='claims.pt is not a safe checkpoint'): torch_load(tmp_path/'claims.pt')
    # the same check guards pytorch_model.bin
    folder = tmp_path/'hfbin'; folder.mkdir()
    export_hf(tiny_gpt(), tmp_path/'hfsrc', tokenizer=Tokenizer('bytes'))
    shutil.copy(tmp_path/'hfsrc'/'config.json', folder/'config.json')
    from safetensors.torch import load_file
    torch.save({**load_file(tmp_path/'hfsrc'/'model.safetensors'), 'pad': torch.zeros(1 << 20)}, tmp_path/'w.bin')
    deflated_copy(tmp_path/'w.bin', folder/'pytorch_model.bin')
    with pytest.raises(CheckpointError, match='pytorch_model.bin is not a safe weights file.*is compressed'):
        load_hf(folder)

# --- hole 10: sizes read from files are bounded -----------------------------------------------------------------------
def test_checkpoint_sizes_and_types(run, tmp_path):
    state = torch.load(run/'runs'/'r'/'checkpoints'/'latest.pt', weights_only=True)
    def changed(name, change):
        s = copy.deepcopy(state); change(s); torch.save(s, tmp_path/f'{name}.pt')
        return tmp_path/f'{name}.pt'
    model = lambda key, value: (lambda s: s['config']['model'].__setitem__(key, value))
    cases = {'n_head 0': (model('n_head', 0), 'n_head'), 'negative n_embd': (model('n_embd', -32), 'n_embd'),
             'huge n_layer': (model('n_layer', 10**9), 'n_layer'),
             'more layers than weights': (model('n_layer', 200), 'but it holds'),
             'string step': (lambda s: s.__setitem__('step', 'ten'), "step must be a whole number, not 'ten'"),
             'rng size': (lambda s: s['rng'][0].__setitem__('torch', torch.zeros(3, dtype=torch.uint8)),
                          'random state 0 cannot be restored'),
             'weights not tensors': (lambda s: s['model'].__setitem__('transformer.wte.weight', [1, 2]),
                                     'is not a weight tensor'),
             'deep config': (lambda s: s.__setitem__('meta', json.loads('[' * 100 + ']' * 100)), 'nested more than'),
             'string format': (lambda s: s.__setitem__('format_version', 'one'), 'is not a checkpoint format')}
    for name, (change, expected) in cases.items():
        t0 = time.time()
        with pytest.raises(JojoError, match=expected): load_for_inference(str(changed(name.replace(' ', '_'), change)), 'cpu')
        assert time.time() - t0 < 10, name
    # on the command line: a resume (which restores the random state) from a damaged checkpoint
    r = tmp_path/'runs'/'r'; shutil.copytree(run/'runs'/'r', r)
    shutil.copy(tmp_path/'rng_size.pt', r/'checkpoints'/'bad.pt')
    p = run_jojo('train', '--run-name', 'r', '--resume', r/'checkpoints'/'bad.pt', '--train.max_steps', '12',
                 cwd=tmp_path)
    refused(p, 'random state 0 cannot be restored')

def test_dcp_metadata_declaring_huge_tensors(tmp_path):
    import torch.distributed.checkpoint as dcp
    from jojo_nb.checkpoint import safe_dcp_reader
    path = tmp_path/'sharded'
    dcp.save({'model': {'w': torch.randn(8, 8)}}, storage_writer=dcp.FileSystemWriter(path), no_dist=True)
    write_checkpoint(path/'trainer.pt', {'model': {}, 'step': 1}, {'step': 1})
    assert load_checkpoint(path, verify=False)['model']['w'].shape == (8, 8)
    md = pickle.loads((path/'.metadata').read_bytes())  # the test's own file: unpickled to be changed
    md.state_dict_metadata['model.w'].size = torch.Size([1 << 20, 1 << 20])
    (path/'.metadata').write_bytes(pickle.dumps(md))
    t0 = time.time()
    with pytest.raises(CheckpointError, match='declares .* bytes of tensors, but its shard files hold'):
        load_checkpoint(path, verify=False)
    assert time.time() - t0 < 5
    md.state_dict_metadata['model.w'].size = torch.Size([8, 8])
    info = next(iter(md.storage_data.values())); info.length = 1 << 40
    (path/'.metadata').write_bytes(pickle.dumps(md))
    with pytest.raises(CheckpointError, match='points outside its shard file'): safe_dcp_reader(path).read_metadata()

# --- hypothesis: mutated HF folders and .pt files load or fail in one line ----------------------------------------
SETTINGS = settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-2, max_value=70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids,
                                                                                              max_size=3), max_leaves=6)

@pytest.fixture(scope='module')
def specimens(tmp_path_factory):
    "A tiny HF export and a tiny jojo `.pt` (with its config and tokenizer identity, no sidecar)."
    d = tmp_path_factory.mktemp('specimens')
    export_hf(tiny_gpt(), d/'hf', tokenizer=Tokenizer('bytes'))
    cfg = RunConfig(); cfg.model = tiny_gpt().cfg; cfg.data.tokenizer = 'bytes'
    state = {'model': tiny_gpt().state_dict(), 'config': to_dict(cfg), 'step': 3, 'tokens': 100, 'epoch': 0,
             'rng': [capture_rng()], 'tokenizer': Tokenizer('bytes').identity()}
    torch.save(state, d/'ck.pt')
    assert load_for_inference(str(d/'hf'), 'cpu').model.cfg.n_layer == 2
    assert load_for_inference(str(d/'ck.pt'), 'cpu').meta['step'] == 3
    return d, state

def _load(path): return HostileTally.attempt(load_for_inference, str(path), 'cpu')

@SETTINGS
@given(key=st.sampled_from(['n_layer', 'n_head', 'n_embd', 'n_positions', 'vocab_size', 'model_type', 'n_inner']),
       value=json_values, whole=st.one_of(st.none(), st.binary(max_size=64)))
def test_property_hf_config(specimens, tmp_path_factory, key, value, whole):
    d, _ = specimens
    out = tmp_path_factory.mktemp('c')/'hf'; shutil.copytree(d/'hf', out)
    c = json.loads((out/'config.json').read_text()); c[key] = value
    (out/'config.json').write_bytes(whole if whole is not None else json.dumps(c, allow_nan=True).encode())
    _load(out)

json_bytes = st.text(alphabet='0123456789-,.[]{}:" eFIU', min_size=1, max_size=6).map(str.encode)

@SETTINGS
@given(edits=st.lists(st.tuples(st.integers(min_value=0, max_value=4000), st.binary(min_size=1, max_size=8) | json_bytes),
                      min_size=1, max_size=4), cut=st.one_of(st.none(), st.integers(min_value=0, max_value=200_000)))
def test_property_safetensors_bytes(specimens, tmp_path_factory, edits, cut):
    d, _ = specimens
    out = tmp_path_factory.mktemp('s')/'hf'; shutil.copytree(d/'hf', out)
    raw = bytearray((out/'model.safetensors').read_bytes())
    n = int.from_bytes(raw[:8], 'little')
    for at, b in edits:  # the header: its length and JSON
        at %= 8 + n
        raw[at:at + len(b)] = b
    (out/'model.safetensors').write_bytes(bytes(raw[:cut] if cut is not None else raw))
    _load(out)

@SETTINGS
@given(field=st.sampled_from(['dtype', 'shape', 'data_offsets', None]), which=st.integers(min_value=0, max_value=40),
       value=json_values)
def test_property_safetensors_header(specimens, tmp_path_factory, field, which, value):
    "One tensor's dtype, shape or offsets (or the whole entry) replaced by any JSON value."
    d, _ = specimens
    out = tmp_path_factory.mktemp('h')/'hf'; shutil.copytree(d/'hf', out)
    raw = (out/'model.safetensors').read_bytes()
    n = int.from_bytes(raw[:8], 'little')
    header = json.loads(raw[8:8 + n])
    name = sorted(header)[which % len(header)]
    if field is None: header[name] = value
    else: header[name] = {**header[name], field: value} if isinstance(header[name], dict) else value
    b = json.dumps(header, allow_nan=True).encode()
    (out/'model.safetensors').write_bytes(len(b).to_bytes(8, 'little') + b + raw[8 + n:])
    _load(out)

@SETTINGS
@given(edits=st.lists(st.tuples(st.floats(min_value=0, max_value=1), st.binary(min_size=1, max_size=8)),
                      min_size=1, max_size=4), cut=st.one_of(st.none(), st.floats(min_value=0, max_value=1)))
def test_property_pt_bytes(specimens, tmp_path_factory, edits, cut):
    d, _ = specimens
    raw = bytearray((d/'ck.pt').read_bytes())
    for where, b in edits:  # anywhere: the pickle, the records, the zip directory at the end
        at = min(int(where * len(raw)), len(raw) - 1)
        raw[at:at + len(b)] = b
    out = tmp_path_factory.mktemp('p')/'ck.pt'
    out.write_bytes(bytes(raw[:int(cut * len(raw))] if cut is not None else raw))
    _load(out)

@SETTINGS
@given(key=st.sampled_from(['step', 'tokens', 'epoch', 'rng', 'tokenizer', 'config', 'metrics', 'loader', 'meta',
                            'format_version', 'model.n_layer', 'model.n_head', 'model.n_embd', 'model.vocab_size',
                            'model.block_size', 'model.vocab_multiple', 'model.rotary', 'model.norm']),
       value=json_values)
def test_property_pt_state(specimens, tmp_path_factory, key, value):
    d, state = specimens
    s = copy.deepcopy(state)
    if key.startswith('model.'): s['config']['model'][key[6:]] = value
    else: s[key] = value
    out = tmp_path_factory.mktemp('q')/'ck.pt'
    torch.save(s, out)
    _load(out)
