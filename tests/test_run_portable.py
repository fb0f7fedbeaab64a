"""A run is self-contained (issue 29.1): trained with the user's own tokenizer, it keeps a copy of it, so the run
folder moved elsewhere still samples, evaluates, exports and resumes after the original tokenizer folder moved; a
run without the copy says where to put the folder back. And a finished run extended to a longer length says what
happens to its learning rate, with the alternatives of `optim.extend` (issue 29.5)."""
import json, shutil
from pathlib import Path
import pytest
from conftest import run_jojo, tiny_args, one_line_error
from jojo_nb.metrics import read_metrics

TEXT = ''.join(f"The {i % 7} little pigs went to market on day {i * 7 % 13}, and came back by noon.\n"
               for i in range(2500))

@pytest.fixture(scope='module')
def moved(tmp_path_factory):
    """Own tokenizer -> prepare -> train 6 steps; then the tokenizer folder and the whole runs folder are moved.
    Returns (the new home, the tokenizer's original path)."""
    home = tmp_path_factory.mktemp('portable')
    (home/'text.txt').write_text(TEXT)
    p = run_jojo('tokenizer', 'train', 'text.txt', '--vocab-size', '300', '--out', 'tok', cwd=home)
    assert p.returncode == 0, p.stderr
    p = run_jojo('prepare', 'text.txt', '--tokenizer', 'tok', '--split', 'tail', '--out', 'prepared',
                 cwd=home)
    assert p.returncode == 0, p.stderr
    p = run_jojo('train', *tiny_args('prepared', steps=6, **{'--data.tokenizer': 'tok', '--eval.interval': 3}),
                 '--run-name', 'r', cwd=home)
    assert p.returncode == 0, p.stderr[-2000:]
    copy = home/'runs'/'r'/'tokenizer'
    assert json.loads((copy/'jojo_tokenizer.json').read_text())['identity'] == \
           json.loads((home/'tok'/'jojo_tokenizer.json').read_text())['identity']
    shutil.move(home/'tok', home/'tok_elsewhere')
    (home/'elsewhere').mkdir()
    shutil.move(home/'runs', home/'elsewhere'/'runs')
    shutil.copytree(home/'elsewhere'/'runs', home/'old'/'runs')
    shutil.rmtree(home/'old'/'runs'/'r'/'tokenizer')  # as a run made before jojo kept a copy
    return home, str(home/'tok')

def test_sample_and_export_use_the_runs_copy(moved):
    home, _ = moved
    runs = home/'elsewhere'/'runs'
    p = run_jojo('sample', '--checkpoint', 'r', '--runs-dir', runs, '--prompt', 'The', '--max-new-tokens', '8',
                 '--device', 'cpu', cwd=home)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip(), p.stdout
    p = run_jojo('export', 'r', home/'exported', '--runs-dir', runs, '--device', 'cpu', cwd=home)
    assert p.returncode == 0, p.stderr
    names = {f.name for f in (home/'exported').iterdir()}
    assert {'tokenizer.json', 'jojo_tokenizer.json', 'model.safetensors'} <= names, names
    p = run_jojo('eval', '--checkpoint', 'r', '--runs-dir', runs, '--data', home/'prepared', '--device', 'cpu',
                 cwd=home)
    assert p.returncode == 0, p.stderr
    assert 'loss' in p.stdout, p.stdout

def test_resume_after_the_move(moved):
    home, _ = moved
    runs = home/'elsewhere'/'runs'
    p = run_jojo('train', '--run-name', 'r', '--runs-dir', runs, '--resume', 'latest', '--train.max_steps', '8',
                 cwd=home)
    assert p.returncode == 0, p.stderr[-2000:]
    steps = [r['step'] for r in read_metrics(runs/'r'/'metrics.jsonl') if 'loss' in r]
    assert steps[-1] == 8, steps

def test_old_run_without_a_copy_says_what_to_do(moved):
    home, original = moved
    old = home/'old'/'runs'
    p = run_jojo('sample', '--checkpoint', 'r', '--runs-dir', old, '--prompt', 'The', '--device', 'cpu', cwd=home)
    one_line_error(p, original, 'put the folder back there', str(old/'r'/'tokenizer'))
    shutil.copytree(home/'tok_elsewhere', old/'r'/'tokenizer')  # what the line says to do
    p = run_jojo('sample', '--checkpoint', 'r', '--runs-dir', old, '--prompt', 'The', '--max-new-tokens', '4',
                 '--device', 'cpu', cwd=home)
    assert p.returncode == 0, p.stderr

def lrs(run) -> dict[int, float]:
    return {r['step']: r['lr'] for r in read_metrics(run/'metrics.jsonl') if 'lr' in r}

def resume_longer(folder, how:str) -> str:
    "Resume the finished run `r` in `folder` to 16 steps with `--optim.extend how`; returns what it said."
    p = run_jojo('train', '--run-name', 'r', '--resume', 'latest', '--train.max_steps', '16', '--optim.extend', how,
                 cwd=folder)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stderr

@pytest.mark.parametrize('how', ['restretch', 'constant', 'decay'])
def test_extending_a_finished_run(tmp_path, how):
    (tmp_path/'text.txt').write_text(TEXT)
    over = {'--optim.warmup_steps': 2, '--optim.lr': '1e-3', '--optim.min_lr': '1e-4', '--eval.interval': 0,
            '--checkpoint.interval': 0, '--optim.schedule': 'constant' if how == 'decay' else 'cosine'}
    p = run_jojo('train', *tiny_args('text.txt', steps=8, **over), '--run-name', 'r', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    said = resume_longer(tmp_path, how)
    assert 'from 8 to 16 steps' in said, said
    lr = lrs(tmp_path/'runs'/'r')
    assert lr[8] == pytest.approx(1e-3 if how == 'decay' else 1e-4, rel=1e-3)  # where the finished run ended
    if how == 'restretch':
        assert 'jumps from 0.0001 to' in said and '--optim.extend constant' in said, said
        assert lr[9] > 3e-4, lr
    elif how == 'constant':
        assert 'goes on at 0.0001' in said, said
        assert all(lr[s] == pytest.approx(1e-4, rel=1e-3) for s in range(9, 17)), lr
    else:  # a constant-rate run (WSD's stable phase) decays over its new steps
        assert 'decays from 0.001 to 0.0001 over the 8 new steps' in said, said
        new = [lr[s] for s in range(9, 17)]
        assert new == sorted(new, reverse=True) and new[0] < 1e-3 and new[-1] == pytest.approx(1e-4, rel=1e-3), new

def test_the_journey_ends_in_a_published_model(moved):
    """The researcher's loop to its end (issue 29): the moved run scored on a held-out file, exported with its model
    card, and the export loaded by transformers alone in a fresh process, which generates the same tokens as jojo."""
    import subprocess, sys
    home, _ = moved
    runs = home/'elsewhere'/'runs'
    (home/'held_out.txt').write_text(TEXT[:3000])
    p = run_jojo('eval', '--checkpoint', 'r', '--runs-dir', runs, '--data', home/'held_out.txt', '--device', 'cpu',
                 cwd=home)
    assert p.returncode == 0, p.stderr
    scored = json.loads(p.stdout)
    assert scored['scored'] == 'the whole of held_out.txt' and scored['bytes'] > 2900, scored
    p = run_jojo('export', 'r', home/'published', '--runs-dir', runs, '--device', 'cpu', cwd=home)
    assert p.returncode == 0, p.stderr
    from huggingface_hub import ModelCard
    card = ModelCard.load(home/'published'/'README.md')
    assert card.data.library_name == 'transformers' and 'AutoModelForCausalLM' in card.text
    code = ("import sys, torch; from transformers import AutoModelForCausalLM, AutoTokenizer\n"
            f"m = AutoModelForCausalLM.from_pretrained({str(home/'published')!r}); "
            f"t = AutoTokenizer.from_pretrained({str(home/'published')!r})\n"
            "ids = t('The 3 little', return_tensors='pt').input_ids\n"
            "out = m.generate(ids, max_new_tokens=6, do_sample=False)\n"
            "print(t.decode(out[0][ids.shape[1]:]))")
    theirs = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert theirs.returncode == 0, theirs.stderr[-2000:]
    ours = run_jojo('sample', '--checkpoint', 'r', '--runs-dir', runs, '--prompt', 'The 3 little', '--temperature', '0',
                    '--max-new-tokens', '6', '--device', 'cpu', cwd=home)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.strip().removeprefix('The 3 little') == theirs.stdout.rstrip('\n'), (ours.stdout, theirs.stdout)
