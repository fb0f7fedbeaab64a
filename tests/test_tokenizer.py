"""`jojo tokenizer train|stats` end to end: a real rustbpe training, the folder it writes, its use by `prepare` and
`train`, and bad input that fails with one line and leaves nothing behind."""
import json, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import SHARED, run_jojo, tiny_args, needs_shared, one_line_error
from jojo_nb.tokenizer import Tokenizer

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "A 600-token tokenizer trained by the CLI on 300,000 characters of Tiny Shakespeare."
    out = tmp_path_factory.mktemp('tok')/'shakespeare_tok'
    p = run_jojo('tokenizer', 'train', 'tinyshakespeare', '--vocab-size', '600', '--max-chars', '300000', '--out', out)
    assert p.returncode == 0, p.stderr
    assert 'wrote' in p.stdout and '600 tokens' in p.stdout, p.stdout
    return out

def test_train_writes_a_folder_tiktoken_encodes(trained):
    assert sorted(f.name for f in trained.iterdir()) == ['.jojo.json', 'jojo_tokenizer.json', 'merges.tiktoken']
    meta = json.loads((trained/'jojo_tokenizer.json').read_text())
    assert meta['n_vocab'] == 600 and meta['trained']['chars'] == 300_000 and meta['trained']['pattern_name'] == 'gpt4'
    tok = Tokenizer(str(trained))
    text = "KING HENRY:\n\tdef f(x):  return 42  # 🙂 naïve \ufffd <|im_start|><|endoftext|>\n\n"
    ids = tok.encode(text)
    assert tok.decode(ids) == text and len(ids) < len(text.encode())
    assert not {tok.eot, tok.im_start, tok.im_end} & set(ids)  # text never makes a special token
    assert (tok.eot, tok.im_start, tok.im_end) == (597, 598, 599)

def test_gpt2_pattern_and_chat_sources(tmp_path):
    out = tmp_path/'chat_tok'
    p = run_jojo('tokenizer', 'train', SHARED/'chat'/'taskmaster4_coffee.jsonl', '--format', 'chat', '--pattern', 'gpt2',
                 '--vocab-size', '400', '--max-chars', '200000', '--out', out)
    assert p.returncode == 0, p.stderr
    tok = Tokenizer(str(out), chat=True)
    assert tok.pattern.startswith("'(?:[sdmt]") and len(tok.encode('assistant\n')) < 10
    ids, _ = tok.encode_chat([{'role': 'user', 'content': 'A latte, please.'}])
    assert ids[0] == tok.im_start and tok.decode(ids) == '<|im_start|>user\nA latte, please.<|im_end|>\n'

def test_stats_side_by_side(trained, tmp_path):
    (tmp_path/'held.txt').write_text((SHARED/'tinyshakespeare'/'input.txt').read_text()[-50_000:])
    p = run_jojo('tokenizer', 'stats', trained, 'gpt2', 'bytes', '--text', tmp_path/'held.txt')
    assert p.returncode == 0, p.stderr
    rows = {line[:16].strip(): line[16:].split() for line in p.stdout.splitlines()}
    assert p.stdout.split()[:3] == ['shakespeare_tok', 'gpt2', 'bytes'], p.stdout
    ours, gpt2, byte = map(float, rows['bytes per token'])
    assert byte == 1.0 and 1.5 < ours < gpt2, p.stdout
    assert 'longest tokens' in rows
    one_line_error(run_jojo('tokenizer', 'stats', trained, 'gpt2'), 'give --text FILES')

def test_prepare_and_train_with_a_folder(trained, tmp_path):
    p = run_jojo('prepare', 'tinyshakespeare', '--tokenizer', trained, '--split', 'tail', '--out', tmp_path/'data', '--stats')
    assert p.returncode == 0, p.stderr
    meta = json.loads((tmp_path/'data'/'metadata.json').read_text())
    assert meta['tokenizer'] == Tokenizer(str(trained)).identity() and meta['tokenizer']['n_vocab'] == 600
    assert float(p.stdout.split('bytes per token')[1].split()[0]) > 2
    p = run_jojo('prepare', 'tinyshakespeare', '--tokenizer', trained, '--split', 'tail')  # the default cache folder
    assert p.returncode == 0 and 'shakespeare_tok' in Path(p.stdout.strip()).name, p.stdout
    # the model's vocabulary must hold the tokenizer's ids
    one_line_error(run_jojo('train', *tiny_args(tmp_path/'data', steps=10, **{'--data.tokenizer': trained,
                                                                          '--model.vocab_size': 300}), cwd=tmp_path),
                   'model.vocab_size=300 is smaller', '600')
    # data prepared with one tokenizer is refused by a run with another, as for gpt2
    other = tmp_path/'other_tok'
    assert run_jojo('tokenizer', 'train', 'tinyshakespeare', '--vocab-size', '600', '--max-chars', '100000',
                    '--out', other).returncode == 0
    one_line_error(run_jojo('train', *tiny_args(tmp_path/'data', steps=10, **{'--data.tokenizer': other}), cwd=tmp_path),
                   "was made with tokenizer 'shakespeare_tok'")

def test_edited_or_missing_files_are_refused(trained, tmp_path):
    tok = tmp_path/'tok'; shutil.copytree(trained, tok)
    merges = tok/'merges.tiktoken'
    lines = merges.read_bytes().splitlines(keepends=True)
    lines[300], lines[301] = lines[301].replace(b' 301', b' 300'), lines[300].replace(b' 300', b' 301')
    merges.write_bytes(b''.join(lines))  # two merges swapped: a different tokenizer under the same name
    one_line_error(run_jojo('prepare', 'tinyshakespeare', '--tokenizer', tok, '--out', tmp_path/'o1'),
                   'were changed after training')
    meta = json.loads((trained/'jojo_tokenizer.json').read_text())
    shutil.copyfile(trained/'merges.tiktoken', merges)
    (tok/'jojo_tokenizer.json').write_text(json.dumps({**meta, 'pattern': r'\S+|\s+'}))
    one_line_error(run_jojo('prepare', 'tinyshakespeare', '--tokenizer', tok, '--out', tmp_path/'o2'),
                   'were changed after training')
    merges.unlink()
    one_line_error(run_jojo('prepare', 'tinyshakespeare', '--tokenizer', tok, '--out', tmp_path/'o3'),
                   'merges.tiktoken is missing')
    one_line_error(run_jojo('prepare', 'tinyshakespeare', '--tokenizer', tmp_path/'nope', '--out', tmp_path/'o4'),
                   'does not exist')
    assert not any((tmp_path/f'o{i}').exists() for i in range(1, 5))

@needs_shared
def test_bad_input(tmp_path):
    (tmp_path/'empty.txt').write_text('')
    (tmp_path/'blank.txt').write_text(' \n\n\t ')
    (tmp_path/'x.bin').write_bytes(bytes(range(256)) * 4)
    (tmp_path/'ok.txt').write_text((SHARED/'tinyshakespeare'/'input.txt').read_text()[:20_000])
    train = lambda *a: run_jojo('tokenizer', 'train', *a, cwd=tmp_path)
    one_line_error(train('ok.txt', '--vocab-size', '258', '--out', 'a'), '259')
    one_line_error(train('empty.txt', '--vocab-size', '300', '--out', 'b'), 'empty.txt is empty')
    one_line_error(train('blank.txt', '--vocab-size', '300', '--out', 'c'), 'no text to train on')
    one_line_error(train('x.bin', '--vocab-size', '300', '--out', 'd'), 'looks binary')
    one_line_error(train('missing.txt', '--vocab-size', '300', '--out', 'e'), 'missing.txt does not exist')
    one_line_error(train('ok.txt', '--out', 'f'), 'give --vocab-size')
    one_line_error(train('ok.txt', '--vocab-size', '300'), 'give --out DIR')
    one_line_error(train('ok.txt', '--vocab-size', '300', '--max-chars', '0', '--out', 'g'), '--max-chars 0')
    assert sorted(f.name for f in tmp_path.iterdir()) == ['blank.txt', 'empty.txt', 'ok.txt', 'x.bin']
    assert train('ok.txt', '--vocab-size', '300', '--out', 'tok').returncode == 0
    one_line_error(train('ok.txt', '--vocab-size', '300', '--out', 'tok'), 'add --force')
    p = train('ok.txt', '--vocab-size', '280', '--out', 'tok', '--force')
    assert p.returncode == 0 and Tokenizer(str(tmp_path/'tok')).n_vocab == 280, p.stderr
    one_line_error(train('ok.txt', '--vocab-size', '300', '--out', 'ok.txt', '--force'), 'is a file')
    (tmp_path/'short.txt').write_text('some text ' * 100)  # too little text for the vocabulary asked: a warning
    p = train('short.txt', '--vocab-size', '300', '--out', 'short_tok')
    assert p.returncode == 0 and 'the text allows only 8 merges' in p.stderr, p.stderr
    (tmp_path/'notes').mkdir(); (tmp_path/'notes'/'a.txt').write_text('mine')
    one_line_error(train('ok.txt', '--vocab-size', '300', '--out', 'notes', '--force'), 'not a folder jojo made')
    assert (tmp_path/'notes'/'a.txt').read_text() == 'mine'

@needs_shared
def test_interrupted_training_leaves_no_tokenizer(tmp_path):
    src = tmp_path/'src'; src.mkdir()
    for i in range(4):
        for f in (SHARED/'gutenberg').iterdir(): shutil.copyfile(f, src/f'{i}_{f.name}')
    out = tmp_path/'tok'
    proc = subprocess.Popen([str(Path(sys.executable).parent/'jojo'), 'tokenizer', 'train', str(src),
                             '--vocab-size', '32768', '--out', str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)  # start-up and part of the reading
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, ('training finished before it could be interrupted', proc.returncode, err)
    assert not out.exists() and not list(tmp_path.glob('.tok.*')), list(tmp_path.iterdir())
