"""Issue 27, the CLI's part: a restart never takes over a run (hole 2), workers die with their torchrun agent (hole 12),
numeric options are checked where they are declared (hole 14), W&B failures are one line and never leave a run
"running", and the logs are never appended through a link. Every mistake: one line, exit 2."""
import contextlib, hashlib, io, json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import BIN, run_jojo, tiny_args, train_tiny
from jojo_nb.cli import main
from jojo_nb.device import child_pids
from jojo_nb.core import JojoError
from jojo_nb.metrics import MetricsLogger, check_wandb_project
from jojo_nb.runs import RunDir
from test_train import data  # noqa: F401  (the module-scoped text fixture)

ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}

def one_line(stderr:str) -> str:
    "The one error line of `stderr` (progress lines such as a cached prepare's may come before it)."
    errors = [l for l in stderr.splitlines() if l.startswith('jojo: error: ')]
    assert len(errors) == 1 and 'Traceback' not in stderr, stderr[-3000:]
    return errors[0]

def in_process(*argv) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()): code = main(list(map(str, argv)))
    return code, err.getvalue()

def digests(folder:Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob('*')) if p.is_file() and p.name != '.lock'}

# --- hole 14: numeric options, checked by their declared type -------------------------------------------------------
BAD_OPTIONS = {  # argv: a piece of the one line
    'sample seed 1e23': (['sample', '--checkpoint', 'r', '--seed', '1e23'], '--seed 1e23'),
    'sample seed too big': (['sample', '--checkpoint', 'r', '--seed', str(10**23)], f'--seed {10**23}'),
    'sample temperature 1e-300': (['sample', '--checkpoint', 'r', '--temperature', '1e-300'], '--temperature 1e-300'),
    'sample temperature nan': (['sample', '--checkpoint', 'r', '--temperature', 'nan'], '--temperature nan'),
    'sample top-p 1e-300': (['sample', '--checkpoint', 'r', '--top-p', '1e-300'], '--top-p 1e-300'),
    'sample top-p inf': (['sample', '--checkpoint', 'r', '--top-p', 'inf'], '--top-p inf'),
    'sample repetition-penalty 0': (['sample', '--checkpoint', 'r', '--repetition-penalty', '0'], '--repetition-penalty'),
    'sample top-k -1': (['sample', '--checkpoint', 'r', '--top-k', '-1'], '--top-k -1'),
    'compare broken escape': (['compare', 'a', 'b', '--prompt', '\\x'], '--prompt \\x'),
    'compare temperature inf': (['compare', 'a', 'b', '--temperature', 'inf'], '--temperature inf'),
    'compare reference 0': (['compare', 'a', 'b', '--reference', '0'], '--reference 0'),
    'tokenizer vocab 1e10': (['tokenizer', 'train', 'x.txt', '--vocab-size', '1e10', '--out', 'tk'], '--vocab-size 1e10'),
    'tokenizer vocab 10**10': (['tokenizer', 'train', 'x.txt', '--vocab-size', str(10**10), '--out', 'tk'],
                               '--vocab-size 10000000000'),
    'tokenizer max-chars 0': (['tokenizer', 'train', 'x.txt', '--vocab-size', '300', '--max-chars', '0'], '--max-chars 0'),
    'eval batch-size 0': (['eval', '--run', 'r', '--batch-size', '0'], '--batch-size 0'),
    'eval max-per-task -3': (['eval', '--run', 'r', '--max-per-task', '-3'], '--max-per-task -3'),
    'estimate nproc huge': (['estimate', '--nproc', str(10**10)], '--nproc'),
    'train max-restarts -1': (['train', '--max-restarts', '-1'], '--max-restarts -1'),
    'prepare workers 0': (['prepare', 'x.txt', '--workers', '0'], '--workers 0'),
    'config nproc nan': (['config', 'validate', '--nproc', 'nan'], '--nproc nan'),
}

@pytest.mark.parametrize('case', list(BAD_OPTIONS))
def test_bad_numbers_are_one_line_before_any_work(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv, piece = BAD_OPTIONS[case]
    code, err = in_process(*argv)
    assert code == 2 and piece in one_line(err), err
    assert list(tmp_path.iterdir()) == []  # nothing was read or written: the parser refused it

@pytest.mark.parametrize('argv', [['sample', '--checkpoint', 'r', '--temperature', '0', '--top-p', '1e-6', '--seed',
                                   str(2**63 - 1)], ['compare', 'a', 'b', '--prompt', 'a\\n\\x41'],
                                  ['tokenizer', 'train', 'x.txt', '--vocab-size', '259']])
def test_edge_values_parse(argv):
    from jojo_nb.cli import build_parser
    args = build_parser().parse_args(argv)
    assert args.command == argv[0]

def test_prepare_out_dot_is_one_line(tmp_path, data):
    (tmp_path/'mine.txt').write_text('keep me\n')
    p = run_jojo('prepare', data, '--tokenizer', 'bytes', '--out', '.', cwd=tmp_path, timeout=120)
    assert p.returncode == 2, p.stderr[-2000:]
    one_line(p.stderr)
    assert (tmp_path/'mine.txt').read_text() == 'keep me\n'

def test_every_error_is_one_line(monkeypatch):
    "A JojoError or OSError whose text holds a newline (a file name, a quoted value) is still printed on one line."
    import jojo_nb.cli as cli
    def bad(args, extra): raise JojoError('first\nsecond')
    def disk(args, extra): raise OSError(28, 'No space left on device', 'a\nb')
    import jojo_nb.train as train  # `jojo config` lives in the train chapter
    for handler, piece in ((bad, 'first second'), (disk, 'No space left')):
        monkeypatch.setattr(train, 'cmd_config', handler)
        code, err = in_process('config', 'show')
        assert code == 2 and piece in one_line(err), err

# --- W&B ------------------------------------------------------------------------------------------------------------
def test_wandb_project_names_wandb_refuses(jojo, tmp_path):
    for name in ('a/b', 'x:y', 'p' * 129, 'why?'):
        with pytest.raises(JojoError, match='W&B refuses'): check_wandb_project(name)
        p = jojo('config', 'validate', '--log.wandb_project', name, cwd=tmp_path)
        assert p.returncode == 2 and 'log.wandb_project' in one_line(p.stderr)
    assert check_wandb_project('my-project_1.2 (test)') == 'my-project_1.2 (test)'
    assert check_wandb_project('p' * 128) == 'p' * 128

def wandb_env(tmp_path, **more) -> dict:
    "No key anywhere W&B looks (HOME's .netrc, its config dir), no network: a fresh user on a machine offline."
    env = {k: v for k, v in ENV.items() if not k.startswith('WANDB_')}
    return {**env, 'HOME': str(tmp_path/'home'), 'WANDB_CONFIG_DIR': str(tmp_path/'wandb-config'),
            'WANDB_CACHE_DIR': str(tmp_path/'wandb-cache'), 'WANDB_MODE': 'online', 'WANDB_SILENT': 'true',
            'WANDB_BASE_URL': 'http://127.0.0.1:9', 'WANDB_INIT_TIMEOUT': '3', **more}

@pytest.mark.parametrize('key', [None, '0123456789' * 4], ids=['no key', 'a key, no network'])
def test_wandb_that_cannot_start_is_one_line_and_the_run_is_not_left_running(tmp_path, data, key):
    pytest.importorskip('wandb')
    env = wandb_env(tmp_path, **({'WANDB_API_KEY': key} if key else {}))
    t0 = time.time()
    p = subprocess.run([str(BIN/'jojo'), 'train', *tiny_args(data, 10), '--log.wandb', 'true', '--run-name', 'wb'],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 2, p.stderr[-3000:]
    assert 'W&B could not start' in one_line(p.stderr)
    assert time.time() - t0 < 60  # a bounded wait, not wandb's default 90 s
    st = json.loads((tmp_path/'runs/wb/run.json').read_text())
    assert st['status'] == 'crashed' and 'W&B' in st['error'] and st['exit_code'] == 2, st

def test_a_refused_project_name_stops_train_before_the_run(jojo, tmp_path, data):
    p = jojo('train', *tiny_args(data, 10), '--log.wandb', 'true', '--log.wandb_project', 'team/proj',
             '--run-name', 'wb', cwd=tmp_path)
    assert p.returncode == 2 and 'W&B refuses' in one_line(p.stderr)
    assert not (tmp_path/'runs/wb').exists()

# --- hole 4 (the logs): never appended through a link ---------------------------------------------------------------
@pytest.mark.parametrize('name', ['metrics.jsonl', 'samples.jsonl', 'log.txt'])
def test_logs_are_never_appended_through_a_link(tmp_path, name):
    victim = tmp_path/'victim.txt'; victim.write_text('precious\n')
    rd = RunDir(tmp_path/'run'); rd.path.mkdir()
    (rd.path/name).symlink_to(victim)
    with pytest.raises(JojoError, match='symbolic link'): MetricsLogger(rd, tensorboard=False, wandb=False)
    assert victim.read_text() == 'precious\n'

# --- hole 2: a restart never takes over a run -----------------------------------------------------------------------
def test_a_restarted_worker_continues_only_its_own_launch(tmp_path, data):
    "A worker restarted by torchrun (restart count 1) resumes only a run whose run.json carries its launch's id."
    train_tiny(tmp_path, data, 20)
    run = tmp_path/'runs/r'
    before = digests(run)
    worker = lambda launch: subprocess.run(
        [sys.executable, '-m', 'jojo_nb.train', *tiny_args(data, 30), '--run-name', 'r'], cwd=tmp_path,
        capture_output=True, text=True, timeout=300,
        env={**ENV, 'TORCHELASTIC_RESTART_COUNT': '1', 'JOJO_LAUNCH_ID': launch})
    p = worker('another-launch')
    assert p.returncode == 2 and 'already has checkpoints' in one_line(p.stderr)
    assert digests(run) == before
    RunDir(run).update_status(launch_id='this-launch')  # as the launch that started or resumed it records
    p = worker('this-launch')
    assert p.returncode == 0 and 'resumed from' in p.stderr, p.stderr[-2000:]

def start(args, cwd):
    return subprocess.Popen([str(BIN/'jojo'), *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, env=ENV)

def wait_for(cond, timeout=180, what='condition'):
    t = time.time()
    while not cond():
        if time.time() - t > timeout: raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.2)

def alive(pid:int) -> bool:
    try: return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError: return False

@pytest.mark.slow
def test_max_restarts_never_takes_over_an_existing_run(tmp_path, data):
    "Issue 27's reproduction with a real torchrun: refused once, in one line, and the run is byte-identical."
    train_tiny(tmp_path, data, 20)
    run = tmp_path/'runs/r'
    before = digests(run)
    p = start(['train', *tiny_args(data, 40), '--run-name', 'r', '--max-restarts', 1, '--checkpoint.keep', 1], tmp_path)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 2 and 'already has checkpoints' in one_line(err), err[-3000:]
    assert digests(run) == before
    assert child_pids(p.pid) == []

@pytest.mark.slow
def test_workers_die_with_a_killed_agent(tmp_path, data):
    p = start(['train', *tiny_args(data, 100000, **{'--checkpoint.interval': 20}), '--run-name', 'r',
               '--max-restarts', 2], tmp_path)
    try:
        wait_for(lambda: (tmp_path/'runs/r/checkpoints/latest.json').exists(), what='the first checkpoint')
        agent, = child_pids(p.pid)
        workers = child_pids(agent)
        assert len(workers) == 1
        os.kill(agent, signal.SIGKILL)
        out, err = p.communicate(timeout=60)
        wait_for(lambda: not any(map(alive, workers)), timeout=20, what='the orphaned worker to end')
    finally:
        for pid in [p.pid, *child_pids(p.pid)]:
            with contextlib.suppress(ProcessLookupError): os.kill(pid, signal.SIGKILL)
    line = err.strip().splitlines()[-1]
    assert p.returncode == 128 + signal.SIGKILL, err[-3000:]
    assert "agent" in line and 'killed by SIGKILL' in line and '--resume auto' in line, line
    assert 'failed 3 times' not in err
    wait_for(lambda: not any(Path(f'/proc/{w}').exists() for w in workers), timeout=20, what='the worker reaped')
    assert RunDir(tmp_path/'runs/r').status()['status'] == 'crashed'  # its process is gone: not left running
