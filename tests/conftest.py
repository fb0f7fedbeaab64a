import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/'shared'/'data'
BIN = Path(sys.executable).parent

# Offline stand-ins, as CI sets them; tests never write into ../shared.
if SHARED.is_dir():
    os.environ.setdefault('TIKTOKEN_CACHE_DIR', str(SHARED/'tiktoken_cache'))
    os.environ.setdefault('JOJO_DATA_DIR', str(SHARED))

def run_jojo(*args, cwd=None, timeout=600, env=None, **kw):
    "Run the installed `jojo` command; returns the CompletedProcess (text)."
    return subprocess.run([str(BIN/'jojo'), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, **kw)

@pytest.fixture
def jojo(): return run_jojo

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason='needs ../shared/data')

def one_line_error(p, *needles):
    """Assert that the finished `jojo` process `p` refused a mistake as the house rules say: exit code 2, one line
    on stderr and no traceback, with each of `needles` in it."""
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert 'Traceback' not in p.stderr and p.stderr.count('\n') == 1, p.stderr
    for n in needles: assert n in p.stderr, (n, p.stderr)

@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv('JOJO_CACHE_DIR', str(tmp_path_factory.getbasetemp()/'jojo_cache'))

TINY = {'--data.tokenizer': 'bytes', '--data.split': 'tail', '--model.n_layer': 2, '--model.n_head': 2,
        '--model.n_embd': 32, '--model.block_size': 32, '--train.micro_batch_size': 4, '--optim.warmup_steps': 5,
        '--eval.interval': 10, '--eval.iters': 2, '--eval.sample_tokens': 8, '--checkpoint.interval': 10,
        '--log.tensorboard': 'false'}

def tiny_args(data, steps=40, **over) -> list[str]:
    "`jojo train` options for a tiny byte-level model on `data` that trains `steps` steps in seconds on a CPU."
    args = {'--data.dataset': data, **TINY, '--train.max_steps': steps, **over}
    return [str(x) for kv in args.items() for x in kv]

def train_tiny(folder, data, steps:int, name:str='r', **over):
    "Train the tiny model on `data` for `steps` steps as run `name` under `folder`/runs; fails the test if it fails."
    p = run_jojo('train', *tiny_args(data, steps=steps, **over), '--run-name', name, cwd=folder)
    assert p.returncode == 0, p.stderr[-2000:]
    return folder

# The hostile-input tally: tests that feed jojo malformed or extreme input count each input here; the summary at the
# end of the session prints how many were tried, how many ended in a traceback (must be 0) and how many files outside
# a test's own folder were touched (must be 0).
class HostileTally:
    tried, tracebacks, touched = 0, [], []

    @classmethod
    def attempt(cls, fn, *args, **kwargs):
        "Call `fn`: its result, or the `JojoError` it raised; any other exception is a traceback, recorded and raised."
        from jojo_nb.core import JojoError
        cls.tried += 1
        try: return fn(*args, **kwargs)
        except JojoError as e: return e
        except Exception as e:
            cls.tracebacks.append(f"{getattr(fn, '__name__', fn)}: {type(e).__name__}: {e}"[:300])
            raise

def pytest_terminal_summary(terminalreporter):
    t = HostileTally
    if not t.tried: return
    terminalreporter.write_line(f"hostile inputs: {t.tried} tried, {len(t.tracebacks)} tracebacks, "
                                f"{len(t.touched)} files outside the tests' own folders touched")
    for line in (t.tracebacks + t.touched)[:20]: terminalreporter.write_line(f"  {line}")

@pytest.fixture
def hostile(): return HostileTally
