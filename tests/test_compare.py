"`jojo compare` on two short runs trained for real: tables, config diff, generations, weight change; clear errors."
import pytest
from conftest import run_jojo

TEXT = ''.join(f"ROMEO: line {i} of the play, with words that repeat and repeat.\n" for i in range(600))

def train_two_runs(root):
    "Runs `a` (lr 1e-3) and `b` (lr 1e-2) under root/runs, 30 steps each, a checkpoint every 15."
    (root/'text.txt').write_text(TEXT)
    for name, lr in (('a', '1e-3'), ('b', '1e-2')):
        p = run_jojo('train', '--run-name', name, '--data.dataset', root/'text.txt', '--data.tokenizer', 'bytes',
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
    for expected in ('checkpoint', 'a:latest', 'b:latest', 'a:step_0000015',
                     'optim.lr: a:latest=0.001 | b:latest=0.01 | a:step_0000015=0.001', 'loss on one fixed batch',
                     'generations (seed 3', 'weight change a:latest -> b:latest', 'layer 1'):
        assert expected in out, (expected, out)
    assert out.count('--- ') == 3
    again = run_jojo(*COMPARE, cwd=runs)
    assert again.stdout == out  # same seed, same report

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
