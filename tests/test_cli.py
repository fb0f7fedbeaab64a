"End-to-end behaviour of the `jojo` command: its surface, its config handling and its errors."
import json, subprocess
import pytest
from conftest import ROOT, BIN, one_line_error

def test_version(jojo):
    p = jojo('--version')
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith('jojo_nb ') and 'torch ' in p.stdout and 'devices: ' in p.stdout

def test_config_show_gpt2(jojo):
    p = jojo('config', 'show', '--preset', 'gpt2')
    assert p.returncode == 0, p.stderr
    cfg = json.loads(p.stdout)
    m = cfg['model']
    assert (m['n_layer'], m['n_head'], m['n_embd'], m['block_size'], m['vocab_size']) == (12, 12, 768, 1024, 50257)
    assert cfg['train']['total_batch_size'] == 2**19 and cfg['optim']['warmup_steps'] == 715
    assert cfg['preset'] == 'gpt2'

def test_misspelt_key_suggests(jojo):
    one_line_error(jojo('config', 'show', '--preset', 'gpt2', '--model.n_layers', '4'), 'did you mean model.n_layer')
    one_line_error(jojo('train', '--model.n_layers', '4'), 'did you mean model.n_layer')

def test_bad_value_and_combination(jojo):
    one_line_error(jojo('config', 'validate', '--model.n_layer', 'four'), "model.n_layer='four'")
    one_line_error(jojo('config', 'validate', '--preset', 'gpt2', '--train.micro_batch_size', '48'),
                   'train.total_batch_size=524288', 'use a multiple of 49152')

def test_extends_missing_file(jojo, tmp_path):
    f = tmp_path/'exp.json'
    f.write_text(json.dumps({'extends': 'base.json', 'model': {'n_layer': 2}}))
    one_line_error(jojo('config', 'show', '--config', f), str(tmp_path/'base.json'), 'does not exist')

def test_extends_cycle(jojo, tmp_path):
    (tmp_path/'a.json').write_text(json.dumps({'extends': 'b.json'}))
    (tmp_path/'b.json').write_text(json.dumps({'extends': 'sub/c.json'}))
    (tmp_path/'sub').mkdir()
    (tmp_path/'sub'/'c.json').write_text(json.dumps({'extends': '../a.json'}))
    one_line_error(jojo('config', 'show', '--config', tmp_path/'a.json'), 'cyclic extends', str(tmp_path/'a.json'))

def test_extends_chain_and_save(jojo, tmp_path):
    (tmp_path/'base.json').write_text(json.dumps({'extends': 'shakespeare-char', 'model': {'n_layer': 2}}))
    (tmp_path/'run.json').write_text(json.dumps({'extends': 'base.json', 'optim': {'lr': 5e-4}}))
    out = tmp_path/'resolved.json'
    p = jojo('config', 'save', out, '--config', tmp_path/'run.json', '--train.max_steps', '300')
    assert p.returncode == 0, p.stderr
    cfg = json.loads(out.read_text())
    got = (cfg['model']['n_layer'], cfg['optim']['lr'], cfg['train']['max_steps'], cfg['model']['n_embd'])
    assert got == (2, 5e-4, 300, 128), got
    assert jojo('config', 'validate', '--config', out).returncode == 0

def test_debug_shows_traceback(jojo):
    p = jojo('config', 'show', '--model.n_layers', '4', '--debug')
    assert p.returncode == 2 and 'Traceback' in p.stderr and 'did you mean' in p.stderr

def test_unknown_command_and_argument(jojo):
    one_line_error(jojo('fly'), 'invalid choice')
    one_line_error(jojo('export', 'a', 'b', '--bogus'), 'unrecognized arguments')

def test_help_lists_config_keys(jojo):
    p = jojo('train', '--help')
    assert p.returncode == 0 and '--optim.lr FLOAT' in p.stdout and 'peak learning rate' in p.stdout

def _clone(tmp_path):
    dst = tmp_path/'clone'
    subprocess.run(['git', 'clone', '-q', str(ROOT), str(dst)], check=True)
    return dst

def _check(repo):
    env_path = f"{BIN}:{subprocess.os.environ['PATH']}"
    return subprocess.run(['bash', '.ci/check_notebooks'], cwd=repo, capture_output=True, text=True,
                          env={**subprocess.os.environ, 'PATH': env_path}, timeout=300)

@pytest.mark.slow
def test_ci_fails_on_notebook_edited_without_export(tmp_path):
    if subprocess.run(['git', '-C', str(ROOT), 'rev-parse', 'HEAD'], capture_output=True).returncode:
        pytest.skip('not a git checkout with commits')
    repo = _clone(tmp_path)
    p = _check(repo)
    assert p.returncode == 0, p.stdout + p.stderr
    nb_path = repo/'nbs'/'00_core.ipynb'
    nb = json.loads(nb_path.read_text())
    cell = next(c for c in nb['cells'] if c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| export'))
    cell['source'] = ''.join(cell['source']) + '\n\ndef added_without_export(): return 42'
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    subprocess.run(['git', '-C', str(repo), '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'edit'],
                   check=True)
    p = _check(repo)
    assert p.returncode == 1, p.stdout + p.stderr
    assert 'jojo_nb/core.py' in p.stdout
