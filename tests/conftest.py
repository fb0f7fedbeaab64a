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

@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv('JOJO_CACHE_DIR', str(tmp_path_factory.getbasetemp()/'jojo_cache'))
