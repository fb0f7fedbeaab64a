"`jojo prepare` end to end, offline with the project's shared data: real sources, cache, bad input."
import json, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import SHARED, run_jojo, needs_shared, one_line_error

@needs_shared
@pytest.mark.parametrize('args', [
    ['tinyshakespeare', '--tokenizer', 'bytes', '--split', 'tail', '--val-fraction', '0.1'],
    [str(SHARED/'gutenberg')],
    [str(SHARED/'chat'/'byu_chitchat_subset.jsonl'), '--format', 'chat'],
    [str(SHARED/'chat'/'taskmaster4_coffee.jsonl'), '--format', 'chat'],
])
def test_prepare_offline_then_cached(args, tmp_path):
    out = tmp_path/'out'
    p = run_jojo('prepare', *args, '--out', out, '--stats')
    assert p.returncode == 0, p.stderr
    meta = json.loads((out/'metadata.json').read_text())
    assert meta['train']['tokens'] > 0 and meta['val']['tokens'] > 0 and 'tokens' in p.stdout
    before = {f.name: f.stat().st_mtime_ns for f in out.iterdir()}
    t0 = time.time()
    p = run_jojo('prepare', *args, '--out', out)
    assert p.returncode == 0 and 'up to date' in p.stderr, p.stderr
    assert {f.name: f.stat().st_mtime_ns for f in out.iterdir()} == before
    print(f"cached prepare took {time.time() - t0:.2f}s (with interpreter start)")

def test_changed_source_invalidates(tmp_path):
    src = tmp_path/'docs'; src.mkdir()
    for i in range(10): (src/f'{i}.txt').write_text(f'document {i} ' * 100)
    out = tmp_path/'out'
    assert run_jojo('prepare', src, '--out', out, '--tokenizer', 'bytes').returncode == 0
    (src/'3.txt').write_text('something else')
    p = run_jojo('prepare', src, '--out', out, '--tokenizer', 'bytes')
    assert p.returncode == 0 and f"{src/'3.txt'} changed" in p.stderr, p.stderr
    p = run_jojo('prepare', src, '--out', out, '--tokenizer', 'bytes', '--split', 'tail')
    assert p.returncode == 0 and 'split changed' in p.stderr, p.stderr

def test_bad_inputs(tmp_path):
    one_line_error(run_jojo('prepare', tmp_path/'missing.txt'), 'missing.txt does not exist')
    (tmp_path/'empty.txt').write_text('')
    one_line_error(run_jojo('prepare', tmp_path/'empty.txt', '--out', tmp_path/'o1'), 'empty.txt is empty')
    (tmp_path/'x.bin').write_bytes(bytes(range(256)) * 4)
    one_line_error(run_jojo('prepare', tmp_path/'x.bin', '--out', tmp_path/'o2'), 'looks binary')
    (tmp_path/'bad.jsonl').write_text('{"text": "a"}\n{"text": "b"}\n{oops\n')
    one_line_error(run_jojo('prepare', tmp_path/'bad.jsonl', '--format', 'jsonl', '--out', tmp_path/'o3'),
                   'bad.jsonl:3: malformed JSON')
    (tmp_path/'nofield.jsonl').write_text('{"body": "a"}\n')
    one_line_error(run_jojo('prepare', tmp_path/'nofield.jsonl', '--format', 'jsonl', '--out', tmp_path/'o4'),
                   "no field 'text'")
    one_line_error(run_jojo('prepare', 'tinyshakespear'), 'named datasets are tinyshakespeare')
    one_line_error(run_jojo('prepare', tmp_path/'bad.jsonl', '--tokenizer', 'gtp2'), "unknown tokenizer 'gtp2'")
    for o in ('o1', 'o2', 'o3', 'o4'): assert not (tmp_path/o).exists()
    assert not [f for f in tmp_path.iterdir() if '.tmp-' in f.name]

def test_hub_dataset_offline_names_the_file(tmp_path):
    env = dict(JOJO_DATA_DIR=str(tmp_path/'data'), HF_HUB_OFFLINE='1')
    want = tmp_path/'data'/'tinystories'/'default-train-first500.jsonl'
    one_line_error(run_jojo('prepare', 'tinystories:500', '--out', tmp_path/'o', env=env),
                   'could not stream tinystories', f'at {want}')
    assert not (tmp_path/'o').exists() and not list(want.parent.iterdir())
    stories = [json.dumps({'text': f'Once upon a time there was a cat called {i}.'}) + '\n' for i in range(500)]
    want.write_text(''.join(stories))
    p = run_jojo('prepare', 'tinystories:500', '--out', tmp_path/'o', '--stats', env=env)  # a file placed by hand
    assert p.returncode == 0 and 'documents        500' in p.stdout, p.stderr

@needs_shared
@pytest.mark.parametrize('rows', ['pack', 'pad'])
def test_chat_sft_rows(rows, tmp_path):
    "A short chat run on real conversations, packed or padded: it trains and its loss goes down."
    p = run_jojo('train', '--data.dataset', SHARED/'chat'/'taskmaster4_coffee.jsonl', '--data.format', 'chat',
                 '--data.chat_rows', rows, '--data.tokenizer', 'gpt2', '--model.vocab_size', '0',
                 '--optim.warmup_steps', '5', '--model.n_layer', '2', '--model.n_head', '2', '--model.n_embd', '64', '--model.block_size', '128',
                 '--train.micro_batch_size', '8', '--train.max_steps', '30',
                 '--eval.interval', '30', '--eval.iters', '2',
                 '--log.tensorboard', 'false', '--run-name', rows, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    recs = [json.loads(l) for l in (tmp_path/'runs'/rows/'metrics.jsonl').read_text().splitlines()]
    losses = [r['loss'] for r in recs if 'loss' in r]
    assert losses[-1] < losses[0] - 1, losses

def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    src = tmp_path/'docs'; src.mkdir()
    (src/'a.txt').write_bytes(b'caf\xe9 ' * 50)
    (src/'b.txt').write_text('fine text ' * 50)
    p = run_jojo('prepare', src, '--out', tmp_path/'out')
    assert p.returncode == 0 and '50 invalid UTF-8' in p.stderr, p.stderr
    assert json.loads((tmp_path/'out'/'metadata.json').read_text())['replaced_chars'] == 50

@needs_shared
def test_interrupted_prepare_leaves_nothing(tmp_path):
    out = tmp_path/'out'
    proc = subprocess.Popen([str(Path(sys.executable).parent/'jojo'), 'prepare', str(SHARED/'gutenberg'),
                             '--out', str(out), '--no-cache', '--workers', '1'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(2000):  # kill it while it writes its temporary folder
        if list(tmp_path.glob('.out.tmp-*')) or proc.poll() is not None: break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, 'prepare finished before it could be killed'
    assert not out.exists() and list(tmp_path.glob('.out.tmp-*'))
    p = run_jojo('prepare', SHARED/'gutenberg', '--out', out)  # a later prepare starts over cleanly
    assert p.returncode == 0 and (out/'metadata.json').exists(), p.stderr
    assert not list(tmp_path.glob('.out.tmp-*'))  # and removes what the killed one left

def test_prepare_imports_only_what_it_uses(tmp_path):
    "Start-up is part of `jojo prepare`'s time: no torch, no transformers, no trainer behind it."
    (tmp_path/'a.txt').write_text('Some text to prepare.\n' * 200)
    code = ("import sys; from jojo_nb.cli import main; "
            f"assert main(['prepare', {str(tmp_path/'a.txt')!r}, '--out', {str(tmp_path/'out')!r}, '--split', 'tail']) == 0; "
            "heavy = [m for m in ('torch', 'transformers', 'tokenizers', 'rustbpe', 'matplotlib', 'jojo_nb.model', "
            "'jojo_nb.trainer') if m in sys.modules]; assert not heavy, heavy")
    p = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr

@needs_shared
def test_shards_hold_exactly_the_tokenizer_ids(tmp_path):
    "The threaded fast path (arrays straight from tiktoken) writes the ids `Tokenizer.encode` gives, document by document."
    from jojo_nb.data import PIECE, read_shard
    from jojo_nb.tokenizer import Tokenizer
    src = tmp_path/'docs'; src.mkdir()
    texts = [(SHARED/'gutenberg'/'pg11-0.txt').read_bytes(), 'Prose\r\n\tcode  🙂 <|endoftext|>\n'.encode() * 5000]
    assert all(len(t) < PIECE for t in texts)  # one piece each: encoded whole, as below
    for i, t in enumerate(texts): (src/f'{i}.txt').write_bytes(t)
    for name in ('gpt2', 'cl100k_base'):
        p = run_jojo('prepare', src, '--out', tmp_path/name, '--tokenizer', name, '--split', 'documents', '--workers', '2',
                     '--val-fraction', '0.5')  # one whole document each side: none is cut
        assert p.returncode == 0, p.stderr
        tok = Tokenizer(name)
        want = sorted(tok.encode(t.decode()) + [tok.eot] for t in texts)
        got = sorted(read_shard(tmp_path/name/f'{s}_000000.bin').tolist() for s in ('train', 'val'))
        assert got == want
