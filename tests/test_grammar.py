"One way to name a checkpoint everywhere: `jojo sample|eval|compare|export` take PATH, RUN and RUN:WHICH, and --device."
import json
import pytest
from conftest import run_jojo, train_tiny
from test_train import data  # noqa: F401  (the module-scoped text fixture)

@pytest.fixture(scope='module')
def root(tmp_path_factory, data):
    return train_tiny(tmp_path_factory.mktemp('grammar'), data, 20,
                      **{'--checkpoint.interval': 5, '--checkpoint.keep': 10})

SPECS = {  # each form of the grammar, and the file it names
    'PATH file': ('runs/r/checkpoints/rolling/step_0000010.pt', 'runs/r/checkpoints/rolling/step_0000010.pt'),
    'PATH run folder': ('runs/r', 'runs/r/checkpoints/latest.pt'),
    'RUN': ('r', 'runs/r/checkpoints/latest.pt'),
    'RUN:latest': ('r:latest', 'runs/r/checkpoints/latest.pt'),
    'RUN:best': ('r:best', 'runs/r/checkpoints/best.pt'),
    'RUN:backup': ('r:backup', 'runs/r/checkpoints/latest_backup.pt'),
    'RUN:step_N': ('r:step_15', 'runs/r/checkpoints/rolling/step_0000015.pt'),
    'RUN:file stem': ('r:step_0000015', 'runs/r/checkpoints/rolling/step_0000015.pt'),
}

@pytest.mark.parametrize('form', SPECS)
def test_sample_takes_every_form(root, form):
    spec, path = SPECS[form]
    p = run_jojo('sample', '--checkpoint', spec, '--prompt', 'line', '--max-new-tokens', '4', '--device', 'cpu',
                 cwd=root)
    assert p.returncode == 0, p.stderr[-1500:]
    assert p.stdout.startswith('line'), p.stdout

def test_run_and_checkpoint_spell_the_same(root):
    a = run_jojo('sample', '--run', 'r', '--checkpoint', 'step_10', '--prompt', 'x', '--max-new-tokens', '6',
                 '--temperature', '0', cwd=root)
    b = run_jojo('sample', '--checkpoint', 'r:step_10', '--prompt', 'x', '--max-new-tokens', '6', '--temperature', '0',
                 cwd=root)
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == b.stdout

def test_eval_names_the_resolved_file(root, data):
    prep = run_jojo('prepare', data, '--tokenizer', 'bytes', '--split', 'tail', '--out', root/'prepared', cwd=root)
    assert prep.returncode == 0, prep.stderr[-1500:]
    for spec, path in (SPECS['RUN:best'], SPECS['RUN:step_N'], SPECS['PATH run folder']):
        p = run_jojo('eval', '--checkpoint', spec, '--data', root/'prepared', '--limit', '2', '--device', 'cpu',
                     cwd=root)
        assert p.returncode == 0, p.stderr[-1500:]
        out = json.loads(p.stdout)
        assert out['checkpoint'] == path and out['val_loss'] > 0, out

def test_compare_and_export_take_the_grammar(root):
    p = run_jojo('compare', 'r:step_10', 'r:best', 'runs/r/checkpoints/rolling/step_0000020.pt',
                 '--max-new-tokens', '4', '--device', 'cpu', cwd=root)
    assert p.returncode == 0, p.stderr[-1500:]
    assert 'r:step_0000010' in p.stdout
    for spec in ('r:best', 'r', 'runs/r/checkpoints/latest.pt'):
        p = run_jojo('export', spec, f'out_{spec.replace("/", "_").replace(":", "_")}', '--format', 'safetensors',
                     '--device', 'cpu', cwd=root)
        assert p.returncode == 0 and 'wrote' in p.stdout, p.stderr[-1500:]

@pytest.mark.parametrize('cmd', ['sample', 'eval', 'compare', 'export'])
def test_missing_checkpoint_lists_what_exists(root, cmd):
    args = {'sample': ['sample', '--checkpoint', 'r:step_7'],
            'eval': ['eval', '--checkpoint', 'r:step_7', '--hellaswag'],
            'compare': ['compare', 'r:step_7', 'r'], 'export': ['export', 'r:step_7', 'out_missing']}[cmd]
    p = run_jojo(*args, cwd=root)
    assert p.returncode == 2 and 'Traceback' not in p.stderr, p.stderr[-1500:]
    line = p.stderr.strip().splitlines()[-1]
    assert "no checkpoint 'step_7'" in line and 'it has: latest' in line and 'step_0000015' in line, line

def test_unknown_run_and_bad_device(root):
    p = run_jojo('sample', '--checkpoint', 'nope:best', cwd=root)
    assert p.returncode == 2 and "no run 'nope'" in p.stderr, p.stderr
    p = run_jojo('sample', '--checkpoint', 'r', '--device', 'gpu', cwd=root)
    assert p.returncode == 2 and "device 'gpu'" in p.stderr and 'Traceback' not in p.stderr, p.stderr
    p = run_jojo('sample', '--checkpoint', 'r', '--device', 'cuda', cwd=root)
    assert p.returncode == 2 and 'CUDA is not available' in p.stderr, p.stderr
