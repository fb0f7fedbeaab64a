"""What an attacker and an unlucky user try: a crafted sharded checkpoint, two trainers on one run, full disks,
read-only folders, bad files and values for every command. Each ends in one line (exit 2) and loses nothing."""
import errno, io, json, os, pickle, shutil, signal, socket, subprocess, sys, time
from contextlib import contextmanager
from pathlib import Path
import pytest, torch
from conftest import run_jojo, tiny_args, train_tiny
from test_train import data, start, wait_for_step, losses  # noqa: F401  (the module-scoped text fixture)

def error_line(p) -> str:
    "The one error line of a finished `jojo` command: no traceback, exactly one `jojo: error:` line."
    assert 'Traceback' not in p.stderr, p.stderr[-3000:]
    errors = [l for l in p.stderr.splitlines() if l.startswith('jojo: error:')]
    assert len(errors) == 1, p.stderr[-3000:]
    print(f"exit {p.returncode}: {errors[0]}")  # the closing note's table: pytest -s shows them
    return errors[0]

def verified(folder) -> dict:
    "The status `jojo checkpoints verify` gives each checkpoint in `folder`, by its path there."
    from jojo_nb.checkpoint import Checkpoints, verify_all
    return {str(p.relative_to(folder)): s for p, s in verify_all(Checkpoints(folder).files())}

@pytest.fixture(scope='module')
def run(tmp_path_factory, data):
    "A finished run: 20 steps, checkpoints every 5."
    d = tmp_path_factory.mktemp('safety')
    return train_tiny(d, data, 20, **{'--checkpoint.interval': 5})/'runs'/'r'

def copy_run(run, tmp_path, name='r'):
    dst = tmp_path/'runs'/name
    shutil.copytree(run, dst)
    return dst

# 1. A crafted sharded checkpoint runs no code
class Payload:
    "What an attacker hides in a checkpoint: unpickling it writes a file."
    def __init__(self, path): self.path = str(path)
    def __reduce__(self): return (exec, (f"open({self.path!r}, 'w').write('code ran')",))

def craft(ck:Path, marker:Path):
    "Turn one optimizer entry of sharded checkpoint `ck` into a pickled `Payload`, with the sidecar's digests updated."
    from torch.distributed.checkpoint.metadata import BytesStorageMetadata, MetadataIndex
    from torch.distributed.checkpoint.filesystem import _StorageInfo
    from jojo_nb.core import sha256_file, write_json
    md = pickle.loads((ck/'.metadata').read_bytes())
    key = next(k for k in md.state_dict_metadata if k.startswith('optim.') and k.endswith('.step'))
    md.state_dict_metadata[key] = BytesStorageMetadata()
    md.storage_data = {i: v for i, v in md.storage_data.items() if i.fqn != key}
    shard = ck/'__0_0.distcp'
    shutil.copy(shard, ck/'copy'); os.replace(ck/'copy', shard)  # its own file: sharded/best links the original
    buf = io.BytesIO(); torch.save(Payload(marker), buf)
    offset = shard.stat().st_size
    with open(shard, 'ab') as f: f.write(buf.getvalue())
    md.storage_data[MetadataIndex(key)] = _StorageInfo(shard.name, offset, len(buf.getvalue()))
    (ck/'.metadata').unlink(); (ck/'.metadata').write_bytes(pickle.dumps(md))
    side = json.loads(ck.with_suffix('.json').read_text())
    side['shards'].update({shard.name: sha256_file(shard), '.metadata': sha256_file(ck/'.metadata')})
    write_json(ck.with_suffix('.json'), side)
    return key

@pytest.mark.slow
def test_crafted_sharded_checkpoint_runs_no_code(data, tmp_path):
    fsdp = ['--nproc', '2', '--train.strategy', 'fsdp', '--optim.name', 'adamw']  # FSDP refuses Muon
    p = run_jojo('train', *tiny_args(data, steps=20), '--run-name', 'f', *fsdp, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    ck = tmp_path/'runs'/'f'/'checkpoints'/'sharded'/'step_0000020'
    marker = tmp_path/'pwned'
    key = craft(ck, marker)
    # the crafted checkpoint is real: torch's own reader runs the payload
    import torch.distributed.checkpoint as dcp
    dcp.load({key: torch.zeros(())}, storage_reader=dcp.FileSystemReader(ck), no_dist=True)
    assert marker.exists(); marker.unlink()
    # every command that reads a sharded checkpoint refuses it, and nothing runs
    p = run_jojo('checkpoints', 'verify', 'f', cwd=tmp_path)
    assert p.returncode == 1 and 'pickled Python object' in p.stdout and p.stdout.count('ok') == 2, p.stdout
    for cmd in (['sample', '--checkpoint', ck, '--max-new-tokens', '4'], ['export', ck, tmp_path/'out'],
                ['eval', '--checkpoint', ck, '--data', data], ['compare', ck, ck],
                ['train', *tiny_args(data, steps=6), '--run-name', 'g', '--init-from', ck]):
        p = run_jojo(*cmd, cwd=tmp_path)
        assert p.returncode == 2 and 'not made by jojo_nb' in error_line(p), (cmd, p.stderr[-2000:])
        assert not marker.exists(), cmd
    # resume refuses it and goes on from the newest one that verifies
    p = run_jojo('train', '--run-name', 'f', '--resume', 'latest', *fsdp, cwd=tmp_path)
    assert p.returncode == 0 and 'not made by jojo_nb' in p.stderr and 'at step 10' in p.stderr, p.stderr[-3000:]
    assert not marker.exists()
    assert list(verified(tmp_path/'runs'/'f'/'checkpoints').values()) == ['ok'] * 3

# 2. One trainer per run
@pytest.mark.slow
def test_one_trainer_per_run(data, tmp_path):
    first = start([*tiny_args(data, steps=2000), '--run-name', 'one'], tmp_path)
    run = tmp_path/'runs'/'one'
    try:
        wait_for_step(run, 12, first)
        for extra in ([*tiny_args(data)], [*tiny_args(data), '--train.seed', '7'], ['--resume', 'latest'],
                      ['--resume', 'latest', '--nproc', '2']):
            p = run_jojo('train', '--run-name', 'one', *extra, cwd=tmp_path)
            line = error_line(p)
            assert p.returncode == 2 and f'process {first.pid} on host {socket.gethostname()}' in line, (extra, line)
        assert first.poll() is None
    finally:
        first.kill(); first.communicate()
    logged = losses(run)
    assert sorted(logged) == list(range(1, max(logged) + 1))  # nobody else wrote into it
    assert all(s.startswith('ok') for s in verified(run/'checkpoints').values())
    # a killed trainer holds no lock: the run continues
    p = run_jojo('train', '--run-name', 'one', '--resume', 'latest', '--train.max_steps', str(max(logged) + 2),
                 cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]

# 3. Faults: a full disk, read-only folders
@contextmanager
def mounted(path:Path, *opts):
    "Mount a tmpfs (`size=...`) or bind-mount `path` read-only; skipped where mounting is not allowed."
    path.mkdir(parents=True, exist_ok=True)
    cmds = [['mount', '-t', 'tmpfs', '-o', opts[0], 'tmpfs', str(path)]] if opts else \
           [['mount', '--bind', str(path), str(path)], ['mount', '-o', 'remount,bind,ro', str(path)]]
    done = 0
    for c in cmds:
        for _ in range(100):  # a remount waits for files being written to close
            r = subprocess.run(c, capture_output=True, text=True)
            if r.returncode == 0 or 'busy' not in r.stderr: break
            time.sleep(0.05)
        if r.returncode != 0:
            for _ in range(done): subprocess.run(['umount', str(path)])
            pytest.skip(f"cannot mount here: {r.stderr.strip()}")
        done += c[1] != '-o'
    try: yield path
    finally:
        for _ in range(done): subprocess.run(['umount', '-l', str(path)], check=True)

def fill(folder:Path, leave:int):
    "Fill the file system of `folder` until `leave` bytes are free."
    free = shutil.disk_usage(folder).free
    try: f = open(folder/'filler', 'wb')
    except OSError as e:  # the run itself filled it first: as full as it gets
        if e.errno == errno.ENOSPC: return
        raise
    try:
        with f:
            while free - leave > 0:
                n = min(free - leave, 1 << 22)
                try: f.write(b'\0' * n); f.flush()
                except OSError: break
                free -= n
    except OSError as e:  # closing flushes what was buffered: the disk is full, which is what was asked
        if e.errno != errno.ENOSPC: raise

@pytest.mark.slow
@pytest.mark.parametrize('leave', [2 << 20, 0])
def test_disk_full_mid_run(data, tmp_path, leave):
    with mounted(tmp_path/'disk', 'size=48m') as disk:
        proc = start([*tiny_args(data, steps=2000, **{'--checkpoint.interval': 5, '--eval.interval': 0}),
                      '--run-name', 'd', '--runs-dir', disk/'runs'], tmp_path)
        run = disk/'runs'/'d'
        wait_for_step(run, 12, proc)
        fill(disk, leave)
        out, err = proc.communicate(timeout=120)
        p = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        line = error_line(p)
        assert p.returncode == 2, err[-2000:]
        refused = 'not enough free space' in line and 'safety margin needed' in line
        assert refused or 'No space left on device' in line, line
        assert all(s == 'ok' for s in verified(run/'checkpoints').values()), verified(run/'checkpoints')
        if leave:
            st = json.loads((run/'run.json').read_text())
            assert st['status'] == 'crashed' and st['exit_code'] == 2 and 'free space' in st['error'], st

FAULTS = {  # inside torch.save, the sidecar, and TensorBoard's writer thread: each a real OSError from the writer
    'torch.save': """
import torch, errno
real, calls = torch.save, [0]
def save(obj, f, *a, **k):
    calls[0] += 1
    if calls[0] < 3: return real(obj, f, *a, **k)
    f.write(b'PK' * 100)
    try: raise OSError(errno.ENOSPC, 'No space left on device')
    except OSError: raise RuntimeError('[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598')
torch.save = save
""",
    'sidecar': """
import errno, jojo_nb.checkpoint as c
real, calls = c.write_json, [0]
def write_json(path, obj, *a, **k):
    if str(path).endswith('.latest.new.json'):
        calls[0] += 1
        if calls[0] >= 3: raise OSError(errno.ENOSPC, 'No space left on device', str(path))
    return real(path, obj, *a, **k)
c.write_json = write_json
""",
    'tensorboard': """
import errno
from tensorboard.summary.writer import record_writer
real, calls = record_writer.RecordWriter.write, [0]
def write(self, data):
    calls[0] += 1
    if calls[0] > 30: raise OSError(errno.ENOSPC, 'No space left on device')
    return real(self, data)
record_writer.RecordWriter.write = write
"""}

@pytest.mark.slow
@pytest.mark.parametrize('fault', list(FAULTS))
def test_write_fault_is_one_line(data, tmp_path, fault):
    args = ['train', *tiny_args(data, steps=40, **{'--checkpoint.interval': 5, '--log.tensorboard': 'true'}),
            '--run-name', 'w']
    code = FAULTS[fault] + f"\nimport sys\nfrom jojo_nb.cli import main\nsys.exit(main({args!r}))"
    p = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    line = error_line(p)
    assert p.returncode == 2 and 'No space left on device; free some space' in line, p.stderr[-3000:]
    run = tmp_path/'runs'/'w'
    st = json.loads((run/'run.json').read_text())
    assert st['status'] == 'crashed' and 'No space left' in st['error'], st
    assert all(s == 'ok' for s in verified(run/'checkpoints').values())
    assert not [f for f in (run/'checkpoints').iterdir() if f.name.startswith('.')]  # no temporary file left behind

@pytest.mark.slow
def test_read_only_checkpoints_mid_run_and_at_resume(data, tmp_path):
    proc = start([*tiny_args(data, steps=2000, **{'--checkpoint.interval': 5, '--eval.interval': 0}),
                  '--run-name', 'ro'], tmp_path)
    run = tmp_path/'runs'/'ro'
    wait_for_step(run, 7, proc)
    with mounted(run/'checkpoints'):
        out, err = proc.communicate(timeout=120)
    p = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    line = error_line(p)  # at the next save's start (could not write) or during its commit (could not finish)
    assert p.returncode == 2 and 'checkpoint' in line and 'read-only' in line, err[-2000:]
    assert json.loads((run/'run.json').read_text())['status'] == 'crashed'
    before = {f: f.read_bytes() for f in run.rglob('*') if f.is_file()}
    with mounted(run):  # the whole run folder, at resume
        p = run_jojo('train', '--run-name', 'ro', '--resume', 'latest', cwd=tmp_path)
        assert p.returncode == 2 and 'Read-only file system' in error_line(p), p.stderr[-2000:]
    assert {f: f.read_bytes() for f in run.rglob('*') if f.is_file()} == before
    with mounted(tmp_path/'runs'):  # the runs folder, for a new run
        p = run_jojo('train', *tiny_args(data, steps=6), '--run-name', 'new', cwd=tmp_path)
        assert p.returncode == 2 and 'Read-only file system' in error_line(p), p.stderr[-2000:]
    assert all(s == 'ok' for s in verified(run/'checkpoints').values())

# 4. Bad input: one line, exit 2
@pytest.fixture(scope='module')
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp('bad')
    (d/'empty.pt').write_bytes(b'')
    (d/'text.pt').write_text('not a checkpoint\n')
    (d/'binary').write_bytes(bytes(range(256)) * 64)
    (d/'empty.jsonl').write_text('')
    item = {'ctx': 'A man', 'endings': ['a', 'b', 'c', 'd'], 'label': 0}
    (d/'label7.jsonl').write_text(json.dumps({**item, 'label': 7}) + '\n')
    (d/'string_endings.jsonl').write_text(json.dumps({**item, 'endings': 'abcd'}) + '\n')
    (d/'good.jsonl').write_text(json.dumps(item) + '\n')
    (d/'exists.txt').write_text('mine\n')
    (d/'big.json').write_text('{"a": "' + 'x' * (2 << 20) + '"}')
    (d/'extends_zero.json').write_text('{"extends": "/dev/zero"}')
    return d

CASES = {  # name: (argv, a piece of the error line); `{run}` and `{d}` are filled in
    'empty .pt': (['sample', '--checkpoint', '{d}/empty.pt'], 'is empty (0 bytes)'),
    'text .pt': (['sample', '--checkpoint', '{d}/text.pt'], 'is not a safe checkpoint'),
    'top-p 0': (['sample', '--run', '{run}', '--top-p', '0'], '--top-p 0.0'),
    'negative temperature': (['sample', '--run', '{run}', '--temperature', '-1'], '--temperature -1.0'),
    'negative max-new-tokens': (['sample', '--run', '{run}', '--max-new-tokens', '-5'], '--max-new-tokens -5'),
    'binary prompt file': (['sample', '--run', '{run}', '--prompt-file', '{d}/binary'], 'is not UTF-8 text'),
    'binary hellaswag': (['eval', '--run', '{run}', '--hellaswag', '{d}/binary'], 'is not UTF-8 text'),
    'empty hellaswag': (['eval', '--run', '{run}', '--hellaswag', '{d}/empty.jsonl'], 'holds no HellaSwag items'),
    'hellaswag label 7': (['eval', '--run', '{run}', '--hellaswag', '{d}/label7.jsonl'], 'label 0-3'),
    'hellaswag endings as a string': (['eval', '--run', '{run}', '--hellaswag', '{d}/string_endings.jsonl'],
                                      'list of 4'),
    'limit -1': (['eval', '--run', '{run}', '--hellaswag', '{d}/good.jsonl', '--limit', '-1'], '--limit -1'),
    'export onto a file': (['export', '{run}', '{d}/exists.txt'], 'is a file'),
    'nproc 0': (['train', '--nproc', '0'], '--nproc 0'),
    'prune keep -1': (['checkpoints', 'prune', '{run}', '--keep', '-1'], 'keep at least 1'),
    'model too large': (['train', '--model.n_embd', '262144', '--model.n_head', '1', '--model.n_layer', '1',
                         '--data.tokenizer', 'bytes', '--train.device', 'cpu', '--run-name', 'huge'],
                        'does not fit in memory'),  # 0.8e12 parameters: under the declared cap, over any memory
    'config /dev/zero': (['config', 'show', '--config', '/dev/zero'], 'is not a regular file'),
    'extends /dev/zero': (['config', 'show', '--config', '{d}/extends_zero.json'], 'is not a regular file'),
    'config of 2 MiB': (['config', 'show', '--config', '{d}/big.json'], 'more than the 1 MiB'),
}

@pytest.mark.parametrize('case', list(CASES))
def test_bad_input_is_one_line(case, run, bad_files, tmp_path):
    argv, expected = CASES[case]
    argv = [a.format(run=run, d=bad_files) for a in argv]
    before = sorted((f, f.stat().st_size) for f in run.rglob('*') if f.is_file())
    t0 = time.time()
    p = run_jojo(*argv, cwd=tmp_path, timeout=120)
    line = error_line(p)
    assert p.returncode == 2 and expected in line, (line, p.stderr[-1500:])
    assert time.time() - t0 < 60
    assert sorted((f, f.stat().st_size) for f in run.rglob('*') if f.is_file()) == before  # nothing on disk changed

def test_damaged_checkpoint_files(run, tmp_path):
    "A sidecar that is JSON but not an object, a checkpoint without keys, a refused pickle: one line each."
    ck = tmp_path/'ck'; ck.mkdir()
    shutil.copy(run/'checkpoints'/'latest.pt', ck/'a.pt'); (ck/'a.json').write_text('[1, 2]')
    state = torch.load(run/'checkpoints'/'latest.pt', weights_only=True)
    torch.save({'model': state['model']}, ck/'noconfig.pt')
    one_layer = {**state['config'], 'model': {**state['config']['model'], 'n_layer': 1}}
    torch.save({'model': state['model'], 'config': one_layer}, ck/'wrongshape.pt')
    (ck/'evil.pt').write_bytes(pickle.dumps({'model': print}))
    torch.save({'model': {}, 'x': Payload(tmp_path/'pwned')}, ck/'evil2.pt')
    for name, expected in [('a.pt', 'sidecar'), ('noconfig.pt', 'holds no model config'),
                           ('wrongshape.pt', 'do not fit its own config'), ('evil.pt', 'is not a safe checkpoint'),
                           ('evil2.pt', 'is not a safe checkpoint')]:
        p = run_jojo('sample', '--checkpoint', ck/name, '--max-new-tokens', '2')
        line = error_line(p)
        assert p.returncode == 2 and expected in line and 'weights_only' not in p.stderr, (name, line)
    assert not (tmp_path/'pwned').exists()
    p = run_jojo('checkpoints', 'verify', ck/'evil2.pt')  # a file with no sidecar is loaded (safely) to be checked
    assert p.returncode == 1 and 'not a checkpoint' in p.stdout, p.stdout
    for f in ('empty.pt', 'text.pt'):
        (ck/f).write_bytes(b'' if f == 'empty.pt' else b'hello\n')
        p = run_jojo('checkpoints', 'verify', ck/f)
        assert p.returncode == 1 and 'not a checkpoint' in p.stdout, p.stdout
    # a resume from a checkpoint without its optimizer
    r = copy_run(run, tmp_path, 'noopt')
    st = torch.load(r/'checkpoints'/'latest.pt', weights_only=True); st.pop('optimizer')
    torch.save(st, r/'checkpoints'/'x.pt')
    p = run_jojo('train', '--run-name', 'noopt', '--resume', r/'checkpoints'/'x.pt', cwd=tmp_path)
    assert p.returncode == 2 and 'lacks optimizer' in error_line(p)

def test_plot_of_binary_metrics(run, tmp_path):
    r = copy_run(run, tmp_path)
    head = (r/'metrics.jsonl').read_bytes()[:300]
    (r/'metrics.jsonl').write_bytes(bytes(range(256)) * 8 + b'\n' + head + b'\n\xff\xfe\n')
    p = run_jojo('plot', r, '--out', tmp_path/'plots')
    assert p.returncode == 0 and 'Traceback' not in p.stderr, p.stderr[-2000:]
    assert list((tmp_path/'plots').glob('*.png'))

def test_invalid_utf8_is_our_own_line(tmp_path):
    (tmp_path/'t.txt').write_bytes(b'hello \xff\xfe world\n' * 500)
    p = run_jojo('prepare', tmp_path/'t.txt', '--tokenizer', 'bytes', '--split', 'tail', '--out', tmp_path/'prep')
    assert p.returncode == 0, p.stderr
    assert 'UserWarning' not in p.stderr and '.py:' not in p.stderr, p.stderr
    lines = [l for l in p.stderr.splitlines() if 'invalid UTF-8' in l]
    assert len(lines) == 1 and lines[0].startswith('jojo: warning: ') and 'replaced by U+FFFD' in lines[0], p.stderr

# 6. --init-from is strict
def test_init_from_lacking_weights(run, tmp_path, data):
    st = torch.load(run/'checkpoints'/'latest.pt', weights_only=True)
    st['model'] = {k: v for k, v in st['model'].items() if '.h.1.' not in k}
    torch.save(st, tmp_path/'partial.pt')
    args = [*tiny_args(data, steps=6), '--init-from', tmp_path/'partial.pt']
    p = run_jojo('train', *args, '--run-name', 'strict', cwd=tmp_path)
    line = error_line(p)
    assert p.returncode == 2 and 'lacks' in line and 'transformer.h.1.' in line and '--init-partial' in line, line
    p = run_jojo('train', *args, '--run-name', 'partial', '--init-partial', cwd=tmp_path)
    assert p.returncode == 0 and 'keep their initial values' in p.stderr, p.stderr[-2000:]

# 7. Run names are folder names
@pytest.mark.parametrize('name', ['../../x', '/tmp/abs', '..', '.', 'a\nb', 'a/b', ''])
def test_run_name_is_one_folder(name, tmp_path):
    p = run_jojo('train', '--run-name', name, '--train.max_steps', '1', cwd=tmp_path)
    assert p.returncode == 2 and 'is not a plain folder name' in error_line(p), p.stderr[-1000:]
    assert not (tmp_path/'runs').exists() and not Path('/tmp/abs').exists() and not (tmp_path.parent/'x').exists()

# 8. Export never overwrites the user's files by surprise
def test_export_into_users_folder(run, tmp_path):
    mine = tmp_path/'mine'; mine.mkdir(); (mine/'config.json').write_text('{"my": "notes"}')
    p = run_jojo('export', run, mine, '--format', 'safetensors')
    assert p.returncode == 2 and 'is not a folder jojo made' in error_line(p)
    assert (mine/'config.json').read_text() == '{"my": "notes"}'
    for _ in range(2):  # a new folder, then the same export again
        assert run_jojo('export', run, tmp_path/'out', '--format', 'safetensors').returncode == 0
    p = run_jojo('export', run, mine, '--format', 'safetensors', '--force')  # --force never overwrites the user's files
    assert p.returncode == 2 and 'is not a folder jojo made' in error_line(p)
    assert sorted(f.name for f in mine.iterdir()) == ['config.json'] and json.loads((mine/'config.json').read_text()) == {'my': 'notes'}

# 9. Resume takes the newest checkpoint that verifies, never a link of a damaged one
def test_resume_takes_newest_that_verifies(run, tmp_path):
    r = copy_run(run, tmp_path, 'gone')
    (r/'checkpoints'/'latest.pt').unlink(); (r/'checkpoints'/'latest.json').unlink()
    p = run_jojo('train', '--run-name', 'gone', '--resume', 'latest', '--train.max_steps', '22', cwd=tmp_path)
    assert p.returncode == 0 and 'at step 20' in p.stderr, p.stderr[-2000:]  # rolling/step_20, not the backup (15)
    r = copy_run(run, tmp_path, 'flip')
    f, link = r/'checkpoints'/'latest.pt', r/'checkpoints'/'rolling'/'step_0000020.pt'
    link.unlink(); os.link(f, link)  # as the trainer made them (a copy of the run made two files)
    raw = bytearray(f.read_bytes()); raw[len(raw) // 2] ^= 1
    with open(f, 'r+b') as fh: fh.write(raw)  # in place: its hard link rolling/step_0000020.pt is damaged too
    p = run_jojo('train', '--run-name', 'flip', '--resume', 'latest', '--train.max_steps', '22', cwd=tmp_path)
    assert p.returncode == 0 and 'at step 15' in p.stderr and 'latest_backup.pt instead' in p.stderr, p.stderr[-2000:]
    assert 'step_0000020' not in p.stderr  # the link of the damaged file was not tried
    r = copy_run(run, tmp_path, 'emerg')  # an emergency checkpoint newer than latest.pt is not a last resort
    st = torch.load(r/'checkpoints'/'latest.pt', weights_only=True)
    from jojo_nb.checkpoint import write_checkpoint
    write_checkpoint(r/'checkpoints'/'emergency_step_0000022.pt', {**st, 'step': 22}, {'step': 22, 'kind': 'crash'})
    p = run_jojo('train', '--run-name', 'emerg', '--resume', 'latest', '--train.max_steps', '24', cwd=tmp_path)
    assert p.returncode == 0 and 'emergency_step_0000022.pt at step 22' in p.stderr, p.stderr[-2000:]

# 10. Bookkeeping
@pytest.mark.slow
def test_signals_and_logs(data, tmp_path):
    args = [*tiny_args(data, steps=2000, **{'--checkpoint.interval': 5}), '--run-name', 's']
    run = tmp_path/'runs'/'s'
    proc = start(args, tmp_path)
    wait_for_step(run, 13, proc)
    proc.kill(); proc.communicate()
    p = run_jojo('train', '--run-name', 's', '--resume', 'latest', '--train.max_steps', '24', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    steps = [int(l.split()[0]) for l in (run/'log.txt').read_text().splitlines() if ' train ' in l]
    assert steps == list(range(1, 25)), steps  # log.txt is trimmed on resume like metrics.jsonl
    proc = start(['--run-name', 's', '--resume', 'latest', '--train.max_steps', '2000'], tmp_path)
    wait_for_step(run, 28, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    st = json.loads((run/'run.json').read_text())
    assert proc.returncode == 143, err[-2000:]
    assert (st['status'], st['exit_code'], st['signal']) == ('interrupted', 143, 'SIGTERM'), (st, err[-2000:])
    proc = start(['--run-name', 's', '--resume', 'latest', '--train.max_steps', '2000'], tmp_path)
    wait_for_step(run, st['step'] + 3, proc)
    proc.send_signal(signal.SIGINT); time.sleep(0.02); proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    st = json.loads((run/'run.json').read_text())
    assert proc.returncode == 130 and st['status'] == 'interrupted' and st['exit_code'] == 130, err[-2000:]
    assert f"run s: interrupted at step {st['step']}" in err and 'Traceback' not in err, err[-2000:]
    statuses = verified(run/'checkpoints')
    assert all(s == 'ok' for s in statuses.values()), statuses  # which file, if the kill -9 above left one unlabelled
