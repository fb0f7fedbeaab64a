"`jojo compare` on short runs trained for real: tables, config diff, generations, weight change, tokenizers; errors."
import re
import pytest
from conftest import run_jojo

TEXT = ''.join(f"ROMEO: line {i} of the play, with words that repeat and repeat.\n" for i in range(600))

def train_two_runs(root, runs=(('a', '1e-3', 'bytes'), ('b', '1e-2', 'bytes'))):
    "Runs `(name, lr, tokenizer)` under root/runs (default: `a`, `b` on bytes), 30 steps each, a checkpoint every 15."
    (root/'text.txt').write_text(TEXT)
    for name, lr, tokenizer in runs:
        p = run_jojo('train', '--run-name', name, '--data.dataset', root/'text.txt', '--data.tokenizer', tokenizer,
                     '--data.split', 'tail', '--model.n_layer', '2', '--model.n_head', '2', '--model.n_embd', '32',
                     '--model.block_size', '32', '--train.micro_batch_size', '4', '--train.max_steps', '30',
                     '--optim.lr', lr, '--optim.warmup_steps', '3', '--eval.interval', '15', '--eval.iters', '2',
                     '--eval.sample_tokens', '8', '--checkpoint.interval', '15', '--log.tensorboard', 'false', cwd=root)
        assert p.returncode == 0, p.stderr[-2000:]

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp('compare')
    train_two_runs(root)
    return root

COMPARE = ('compare', 'a', 'b', 'a:step_0000015', '--prompt', 'ROMEO:', '--max-new-tokens', '16', '--seed', '3')

def test_compare_two_runs_in_the_terminal(runs):
    p = run_jojo(*COMPARE, cwd=runs)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    a, b, early = 'a:latest = best = step_0000030', 'b:latest = best = step_0000030', 'a:step_0000015'
    for expected in ('checkpoint', f'{a}  ', f'{b}  ', early, f'reference: {early}', '3,840',
                     'loss on one fixed batch (512 tokens', 'bits per byte', 'generations (seed 3',
                     f'weight change {early}', f'-> {a} (mean', f'-> {b} (mean', 'layer 1'):
        assert expected in out, (expected, out)
    assert f'optim.lr: {a}=0.001 | {b}=0.01 | {early}' in out, out
    assert out.count('--- ') == 3 and '(mean token loss' in out and 'the reference)' in out
    again = run_jojo(*COMPARE, cwd=runs)
    assert again.stdout == out  # same seed, same report

def test_best_is_named_even_when_it_is_latest(runs):
    p = run_jojo('compare', 'a:best', 'a:step_0000015', '--max-new-tokens', '4', cwd=runs)
    assert p.returncode == 0, p.stderr
    assert 'a:best = latest = step_0000030' in p.stdout and 'configs identical' in p.stdout, p.stdout
    assert 'weights identical' not in p.stdout

def test_compare_across_tokenizers_in_bits_per_byte(runs):
    train_two_runs(runs, [('g', '2e-3', 'gpt2')])
    p = run_jojo('compare', 'a', 'g', '--prompt', 'ROMEO:', '--max-new-tokens', '8', cwd=runs)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.count('different tokenizers') == 1 and 'bytes' in out and 'gpt2' in out, out
    assert 'bits per byte' in out and 'perplexity' not in out and 'prepare the data again' not in out, out
    assert 'weight change' not in out and 'not compared' in out, out
    rows = re.findall(r'(?m)^[ag]:latest.*\s(bytes|gpt2)\s+([\d,]+)\s+([\d.]+)$', out)
    assert [r[0] for r in rows] == ['bytes', 'gpt2'] and rows[0][1] != rows[1][1], rows  # each in its own tokens...
    assert all(0 < float(r[2]) < 20 for r in rows), rows  # ...scored in bits per byte of the same text

def test_compare_user_mistakes(runs):
    p = run_jojo('compare', 'a', cwd=runs)
    assert p.returncode == 2 and 'two or more' in p.stderr and 'Traceback' not in p.stderr
    p = run_jojo('compare', 'a', 'nosuchrun', cwd=runs)
    assert p.returncode == 2 and "nosuchrun" in p.stderr and 'Traceback' not in p.stderr, p.stderr
    p = run_jojo('compare', 'a', 'b:step_9999999', cwd=runs)
    assert p.returncode == 2 and 'step_9999999' in p.stderr and 'Traceback' not in p.stderr, p.stderr
    p = run_jojo('compare', 'a', 'b', '--device', 'tpu', cwd=runs)
    assert p.returncode == 2 and "'tpu'" in p.stderr and 'Traceback' not in p.stderr, p.stderr
    hf = runs/'hf'
    hf.mkdir(exist_ok=True); (hf/'config.json').write_text('{}'); (hf/'model.safetensors').write_bytes(b'')
    p = run_jojo('compare', 'a', hf, cwd=runs)
    assert p.returncode == 2 and 'Hugging Face folder' in p.stderr and 'Traceback' not in p.stderr, p.stderr

def test_compare_shows_every_saved_evaluation(runs):
    "lm-eval and HellaSwag results saved with a run are in `jojo compare`'s table, as the registry declares them."
    from jojo_nb.checkpoint import resolve_checkpoint
    from jojo_nb.evaluate import save_eval
    ckpt = resolve_checkpoint('b', runs/'runs')
    save_eval(ckpt, 'lm_eval', {'tasks': {'arc_easy': {'acc': 0.3125, 'acc_norm': 0.375}}},
              {'tasks': ['arc_easy'], 'limit': 16, 'lm_eval': '0.4.9', 'include_sha256': None})
    save_eval(ckpt, 'hellaswag', {'acc': 0.25, 'acc_norm': 0.2625, 'n': 80}, {'file': 'hs.jsonl', 'limit': 80})
    p = run_jojo('compare', 'a', 'b', '--max-new-tokens', '4', cwd=runs)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert 'evaluations (saved results' in out, out
    assert re.search(r'(?m)^HellaSwag acc_norm\s+-\s+0\.2625$', out), out
    assert re.search(r'(?m)^lm-eval: arc_easy/acc_norm\s+-\s+0\.3750$', out), out
    assert 'lm-evaluation-harness 0.4.9: arc_easy, 16 items per task at most' in out, out
    assert 'HellaSwag: 80 items, 0-shot, acc_norm' in out, out
