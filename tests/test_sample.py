"`jojo sample`: prompts, a chat session driven through stdin, and an exported Hugging Face folder."
import json, subprocess
from pathlib import Path
import pytest
from conftest import BIN, run_jojo, tiny_args

@pytest.fixture(scope='module')
def chat_run(tmp_path_factory):
    d = tmp_path_factory.mktemp('chat')
    lines = [json.dumps({'messages': [{'role': 'user', 'content': f'What is {i} plus one?'},
                                      {'role': 'assistant', 'content': f'It is {i + 1}.'}]}) for i in range(400)]
    (d/'chat.jsonl').write_text('\n'.join(lines) + '\n')
    args = [*tiny_args(d/'chat.jsonl', 30, **{'--data.format': 'chat', '--data.split': 'documents',
                                              '--model.block_size': 64, '--eval.interval': 15,
                                              '--eval.sample_prompts': '[]'}), '--run-name', 'chat']
    p = run_jojo('train', *args, cwd=d)
    assert p.returncode == 0, p.stderr[-2000:]
    return d

def test_sample_prompts(chat_run):
    p = run_jojo('sample', '--run', 'chat', '--prompt', 'What', '--prompt', 'It', '--max-new-tokens', '10',
                 cwd=chat_run)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith('What') and '\nIt' in p.stdout

def test_interactive_chat_through_stdin(chat_run):
    p = subprocess.run([str(BIN/'jojo'), 'sample', '--run', 'chat', '--interactive', '--max-new-tokens', '12'],
                       input='What is 3 plus one?\nAnd 7?\n/exit\n', capture_output=True, text=True, cwd=chat_run,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count('model> ') == 2 and p.stdout.count('you> ') >= 2

def test_sample_from_hf_folder(chat_run, tmp_path):
    pytest.importorskip('transformers')
    from jojo_nb.config import ModelConfig
    from jojo_nb.model import GPT
    from jojo_nb.hf import export_hf
    export_hf(GPT(ModelConfig(n_layer=1, n_head=2, n_embd=32, block_size=32, vocab_size=50257)), tmp_path/'hf')
    p = run_jojo('sample', '--checkpoint', tmp_path/'hf', '--prompt', 'Hello', '--max-new-tokens', '5')
    assert p.returncode == 0 and p.stdout.startswith('Hello'), p.stderr

def test_eval_hellaswag_and_val_loss(chat_run, tmp_path):
    hs = tmp_path/'hs.jsonl'
    items = ({'ctx': f'What is {i} plus one?', 'endings': [f'It is {i + 1}.', 'Blue.', 'No', 'Maybe later'], 'label': 0}
             for i in range(12))
    hs.write_text('\n'.join(map(json.dumps, items)) + '\n')
    p = run_jojo('eval', '--run', 'chat', '--hellaswag', hs, '--limit', '10', cwd=chat_run)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out['hellaswag_n'] == 10 and 0 <= out['hellaswag_acc'] <= 1
    data = next(Path(chat_run).glob('chat.jsonl'))
    p = run_jojo('eval', '--run', 'chat', '--data', data, cwd=chat_run)
    assert p.returncode == 0 and json.loads(p.stdout)['val_loss'] > 0, p.stderr
    bad = tmp_path/'bad.jsonl'; bad.write_text('{"ctx": "a"}\n')
    p = run_jojo('eval', '--run', 'chat', '--hellaswag', bad, cwd=chat_run)
    assert p.returncode == 2 and 'bad.jsonl:1' in p.stderr
