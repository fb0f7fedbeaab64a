"The house rules: each module, imported alone in a fresh interpreter, pulls in only the jojo_nb modules below it."
import json, subprocess, sys
import pytest

# what each module may import (directly or not); the CLI alone may import everything
ALLOWED = {
    'core': set(),
    'config': {'core'},
    'device': {'core'},
    'runs': {'core', 'config'},
    'tokenizer': {'core'},
    'data': {'core', 'config', 'tokenizer'},
    'model': {'core', 'config'},
    'checkpoint': {'core', 'config', 'runs', 'device'},
    'hf': {'core', 'config', 'device', 'runs', 'tokenizer', 'model', 'checkpoint'},
    'metrics': {'core', 'config', 'runs'},
    'fp8': {'core'},
    'sample': {'core', 'config', 'device', 'runs', 'tokenizer', 'model', 'checkpoint', 'hf'},
    'evaluate': {'core', 'config', 'device', 'runs', 'tokenizer', 'data', 'model', 'checkpoint', 'hf'},
    'monitor': {'core', 'config', 'runs', 'metrics'},
    'compare': {'core', 'config', 'device', 'runs', 'tokenizer', 'data', 'model', 'checkpoint', 'hf', 'evaluate'},
    'bpe': {'core', 'config', 'tokenizer', 'data'},
    'estimate': {'core', 'config', 'device', 'tokenizer', 'data', 'model'},
    'core_score': {'core', 'config', 'device', 'runs', 'tokenizer', 'data', 'model', 'checkpoint', 'hf', 'evaluate'},
    'lm_eval_adapter': {'core', 'config', 'device', 'runs', 'tokenizer', 'data', 'model', 'checkpoint', 'hf',
                        'evaluate'},
}
NEVER = {  # the rules in words, checked on top of the lists above
    'config': 'imports nothing of ours but core', 'model': 'imports only config',
    'data': 'never imports the model', 'monitor': 'reads files; never imports the trainer',
}

def imported_by(module:str) -> set[str]:
    code = (f"import sys, json; import jojo_nb.{module}; "
            f"print(json.dumps(sorted(m[8:] for m in sys.modules if m.startswith('jojo_nb.'))))")
    p = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return set(json.loads(p.stdout.strip().splitlines()[-1])) - {module, '_modidx'}

@pytest.mark.parametrize('module', sorted(ALLOWED))
def test_layering(module):
    extra = imported_by(module) - ALLOWED[module]
    why = f" ({module} {NEVER[module]})" if module in NEVER else ''
    assert not extra, f"jojo_nb.{module} pulls in {sorted(extra)}{why}"

def test_no_import_circle():
    "Every module imports cleanly on its own, whatever was imported first (a circle fails one of these orders)."
    mods = [*ALLOWED, 'trainer', 'cli']
    for first in mods:
        code = f"import jojo_nb.{first}; " + '; '.join(f"import jojo_nb.{m}" for m in mods)
        p = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"importing jojo_nb.{first} first: {p.stderr[-1500:]}"

def test_trainer_is_imported_only_by_the_cli():
    for module in ALLOWED:
        assert 'trainer' not in imported_by(module), module
