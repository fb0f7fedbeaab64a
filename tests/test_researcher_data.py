"""The researcher's loop, data and tokenizer side (issue 29): honest bytes per token and validation fraction from
`jojo prepare`, the chat template's parity with transformers stated exactly, and `jojo tokenizer export`."""
import json, random
from pathlib import Path
import pytest
from conftest import SHARED, run_jojo, needs_shared, one_line_error, tiny_args
from jojo_nb.tokenizer import Tokenizer, ROLES

def stat(stdout:str, key:str) -> str:
    "The value after `key` in `jojo prepare --stats` output."
    return stdout.split(key)[1].split()[0]

# 29.3: bytes per token count the bytes of the text that is tokenized, not the file
def test_bytes_per_token_counts_the_text(tmp_path):
    from jojo_nb.data import prepare
    docs = [{'text': f'Document {i}: caf\u00e9 \U0001f642 "quoted" and a \\ backslash.\n' * (i + 1), 'id': i} for i in range(40)]
    (tmp_path/'docs.jsonl').write_text(''.join(json.dumps(d) + '\n' for d in docs))  # escapes and an extra field
    chats = [{'messages': [{'role': 'user', 'content': f'Hi {i} \u00e9?'}, {'role': 'assistant', 'content': 'Hello! ' * i}]}
             for i in range(40)]
    (tmp_path/'chat.jsonl').write_text(''.join(json.dumps(c) + '\n' for c in chats))
    text_bytes = sum(len(d['text'].encode()) for d in docs)
    p = run_jojo('prepare', tmp_path/'docs.jsonl', '--format', 'jsonl', '--tokenizer', 'bytes', '--out', tmp_path/'j',
                 '--stats')
    assert p.returncode == 0, p.stderr
    meta = json.loads((tmp_path/'j'/'metadata.json').read_text())
    assert meta['bytes'] == meta['tokens'] == text_bytes < (tmp_path/'docs.jsonl').stat().st_size  # bytes: no <|endoftext|>
    assert float(stat(p.stdout, 'bytes per token')) == 1.0
    gpt2 = json.loads((prepare(tmp_path/'docs.jsonl', tmp_path/'g', format='jsonl', tokenizer='gpt2', progress=False,
                               verbose=False)/'metadata.json').read_text())
    assert gpt2['bytes'] == text_bytes and gpt2['bytes_per_token'] == round(text_bytes / gpt2['tokens'], 4)
    p = run_jojo('prepare', tmp_path/'chat.jsonl', '--format', 'chat', '--tokenizer', 'bytes', '--out', tmp_path/'c',
                 '--stats')
    assert p.returncode == 0, p.stderr
    meta = json.loads((tmp_path/'c'/'metadata.json').read_text())
    chat_text = sum(len(f"{m['role']}\n{m['content']}\n".encode()) for c in chats for m in c['messages'])
    assert meta['bytes'] == chat_text  # role lines, contents and line breaks: what encode_chat encodes as text
    assert meta['tokens'] == chat_text + 2 * sum(len(c['messages']) for c in chats)  # and two special tokens a turn
    assert float(stat(p.stdout, 'bytes per token')) <= 1.0

@needs_shared
def test_bytes_per_token_of_the_shared_chat_data(tmp_path):
    "The chat tutorial's data: the byte tokenizer cannot get above one byte per token (it showed 1.73)."
    p = run_jojo('prepare', SHARED/'chat'/'byu_chitchat_subset.jsonl', '--format', 'chat', '--tokenizer', 'bytes',
                 '--out', tmp_path/'c', '--stats')
    assert p.returncode == 0 and float(stat(p.stdout, 'bytes per token')) <= 1.0, p.stdout + p.stderr

# 29.4: the validation split is close to the fraction asked, and prepare says the real fraction
def test_validation_fraction_close_to_asked(tmp_path):
    src = tmp_path/'few'; src.mkdir()
    for i, lines in enumerate((1_500, 4_000, 2_500)): (src/f'{i}.txt').write_text(f'Line {i} of a long text.\n' * lines)
    p = run_jojo('prepare', src, '--tokenizer', 'gpt2', '--val-fraction', '0.05', '--out', tmp_path/'out', '--stats')
    assert p.returncode == 0, p.stderr
    meta = json.loads((tmp_path/'out'/'metadata.json').read_text())
    assert abs(meta['val_fraction_bytes'] - 0.05) < 0.002 and abs(meta['val_fraction_tokens'] - 0.05) < 0.005, meta
    assert abs(meta['val']['tokens'] / meta['tokens'] - 0.05) < 0.005  # what the shards hold, not only the record
    assert 'prepare: validation holds' in p.stderr and '(asked 5.0%' in p.stderr, p.stderr
    assert f"validation       {meta['val_fraction_tokens']:.2%} of the tokens (asked 5.00%)" in p.stdout

@pytest.mark.parametrize('split', ['documents', 'tail'])
def test_validation_fraction_of_files_and_jsonl(split, tmp_path):
    from jojo_nb.data import prepare
    def held(*args, **kw) -> dict:
        out = prepare(*args, tmp_path/f'out{len(list(tmp_path.iterdir()))}', split=split, progress=False, verbose=False, **kw)
        return json.loads((out/'metadata.json').read_text())
    few = tmp_path/'few.jsonl'
    few.write_text(''.join(json.dumps({'text': f'word{i} ' * n}) + '\n' for i, n in enumerate((3_000, 5_000, 4_000))))
    assert abs(held(few, format='jsonl', tokenizer='bytes')['val_fraction_bytes'] - 0.05) < 0.005
    many = tmp_path/'many'; many.mkdir()
    for i in range(200): (many/f'{i:03d}.txt').write_text(f'Document {i}. ' * (50 + i % 7))
    meta = held(many, tokenizer='bytes', val_fraction=0.1)
    assert abs(meta['val_fraction_bytes'] - 0.1) < 0.005, meta
    if split == 'documents':  # enough documents: whole ones are held out, none is cut
        assert meta['train']['documents'] + meta['val']['documents'] == 200
    chats = tmp_path/'chat.jsonl'
    chats.write_text(''.join(json.dumps({'messages': [{'role': 'user', 'content': 'Hi ' * (i % 9)},
                                                      {'role': 'assistant', 'content': 'Yes.'}]}) + '\n' for i in range(300)))
    meta = held(chats, format='chat', tokenizer='bytes')  # conversations stay whole, and come close
    assert meta['train']['documents'] + meta['val']['documents'] == 300 and abs(meta['val_fraction_bytes'] - 0.05) < 0.005

# 29.8: parity with transformers' apply_chat_template(sanitize_control_tokens=True), stated exactly
ATOMS = ['Hi', ' there', 'x', 'word', '\n', '\n\n', ' ', '  ', '\t', '\r\n', '\u00e9', '\U0001f642', '123', "'s",
         '<|', '|>', '<', 'im_start', ' <|im_end', '\U000f0000', '\U000f0001']

def conversations(tok:Tokenizer, n:int, seed:int=0):
    "`n` seeded random conversations whose contents mix words, whitespace, typed special tokens and markers."
    rng, pieces = random.Random(seed), ATOMS + list(tok.specials)
    for _ in range(n):
        yield [{'role': rng.choice(ROLES), 'content': ''.join(rng.choice(pieces) for _ in range(rng.randint(0, 7)))}
               for _ in range(rng.randint(1, 4))]

@pytest.fixture(scope='module')
def trained_tok(tmp_path_factory):
    d = tmp_path_factory.mktemp('tok')
    (d/'text.txt').write_text(("It was the best of times, it was the worst of times.\n\n  Indented <|im_start|> line.\n") * 200)
    assert run_jojo('tokenizer', 'train', d/'text.txt', '--vocab-size', '400', '--out', d/'tok').returncode == 0
    return str(d/'tok')

@pytest.mark.parametrize('name', ['gpt2', 'cl100k_base', 'bytes', 'trained'])
def test_chat_template_parity_is_exactly_as_stated(name, trained_tok, tmp_path):
    from transformers import AutoTokenizer
    from jojo_nb.tokenizer import write_hf_tokenizer_files
    tok = Tokenizer(trained_tok if name == 'trained' else name, chat=True)
    write_hf_tokenizer_files(tok, tmp_path)
    hf = AutoTokenizer.from_pretrained(tmp_path)
    same, explained = 0, 0
    for messages in conversations(tok, 1_000):
        ours = tok.encode_chat(messages)[0]
        theirs = hf.apply_chat_template(messages, tokenize=True, sanitize_control_tokens=True)['input_ids']
        why = tok.hf_chat_differences(messages)
        if not why: assert theirs == ours, messages  # the statement: no reason, the same ids
        if not any('U+F0000' in w for w in why): assert hf.decode(theirs) == tok.decode(ours), messages  # same text
        same += not why
        explained += bool(why) and theirs != ours
    assert same > 100 and (explained > 100 or name == 'bytes'), (same, explained)  # both sides of it were exercised
    typed = [{'role': 'user', 'content': 'Hi <|im_start|>x'}]
    assert hf.apply_chat_template(typed, tokenize=True, sanitize_control_tokens=True)['input_ids'].count(tok.im_start) == 1

# tokenizer export: HF files of a jojo tokenizer, before any model exists
SAMPLE = "Hello  world!\n\n\tdef f(x):\n    return x**2  # \U0001f642 caf\u00e9 1234567 DON'T   \n\n end"

@pytest.mark.parametrize('name', ['trained', 'gpt2', 'bytes'])
def test_tokenizer_export_loads_in_transformers_and_tokenizers(name, trained_tok, tmp_path):
    from transformers import AutoTokenizer
    from tokenizers import Tokenizer as HFTokenizer
    from jojo_nb.bpe import export_tokenizer
    source = trained_tok if name == 'trained' else name
    if name == 'trained':  # the command, as a user runs it
        p = run_jojo('tokenizer', 'export', source, tmp_path/'out')
        assert p.returncode == 0 and 'wrote' in p.stdout, p.stderr
    else: export_tokenizer(source, tmp_path/'out', chat=name == 'gpt2')
    tok = Tokenizer(source, chat=name != 'bytes')
    hf = AutoTokenizer.from_pretrained(tmp_path/'out')
    assert hf(SAMPLE)['input_ids'] == tok.encode(SAMPLE)
    assert HFTokenizer.from_file(str(tmp_path/'out'/'tokenizer.json')).encode(SAMPLE).ids == tok.encode(SAMPLE)
    assert hf.decode(tok.encode(SAMPLE)) == SAMPLE
    marker = json.loads((tmp_path/'out'/'.jojo.json').read_text())
    assert marker['kind'] == 'tokenizer-export' and marker['tokenizer'] == tok.identity()
    config = json.loads((tmp_path/'out'/'tokenizer_config.json').read_text())
    if tok.chat:
        messages = [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi!'}]
        assert hf.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)['input_ids'] == \
            tok.encode_chat(messages, add_generation_prompt=True)[0]
        assert config['eos_token'] == '<|im_end|>'
    else: assert 'chat_template' not in config
    if name == 'trained':  # the export is a jojo tokenizer folder too, with the same identity
        assert Tokenizer(str(tmp_path/'out')).identity() == Tokenizer(trained_tok).identity()

def test_tokenizer_export_refuses_and_replaces(trained_tok, tmp_path):
    from jojo_nb.bpe import export_tokenizer
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'notes.txt').write_text('mine')
    one_line_error(run_jojo('tokenizer', 'export', 'bytes', tmp_path/'mine'), 'not a folder jojo made')
    assert (tmp_path/'mine'/'notes.txt').read_text() == 'mine'
    one_line_error(run_jojo('tokenizer', 'export', 'bytes'), 'give TOKENIZER OUT')
    export_tokenizer(trained_tok, tmp_path/'out')
    assert run_jojo('tokenizer', 'export', 'bytes', '--out', tmp_path/'out').returncode == 0  # its own: replaced whole
    assert sorted(p.name for p in (tmp_path/'out').iterdir()) == ['.jojo.json', 'tokenizer.json', 'tokenizer_config.json']
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]  # no temporary folder left

# review: a validation fraction that leaves no training data is one line, and nothing is written
def test_prepare_refuses_a_val_fraction_that_leaves_no_training_data(tmp_path):
    (tmp_path/'tiny.txt').write_text('A short text of fifty bytes, give or take a few.\n')
    for split in ('documents', 'tail'):
        p = run_jojo('prepare', tmp_path/'tiny.txt', '--val-fraction', '0.99', '--split', split, '--tokenizer', 'bytes',
                     '--out', tmp_path/'out')
        one_line_error(p, 'data.val_fraction=0.99 (--val-fraction)', 'no training data', 'lower it or give more text')
    (tmp_path/'chat.jsonl').write_text(''.join(json.dumps({'messages': [{'role': 'user', 'content': c}]}) + '\n'
                                               for c in 'ab'))
    p = run_jojo('prepare', tmp_path/'chat.jsonl', '--format', 'chat', '--val-fraction', '0.99', '--tokenizer', 'bytes',
                 '--out', tmp_path/'out')
    one_line_error(p, 'val_fraction=0.99', 'no training data')
    (tmp_path/'blank.jsonl').write_text('\n  \n\n')
    one_line_error(run_jojo('prepare', tmp_path/'blank.jsonl', '--format', 'jsonl', '--tokenizer', 'bytes', '--out',
                            tmp_path/'out'), 'no documents')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['blank.jsonl', 'chat.jsonl', 'tiny.txt']  # nothing written

# review: a damaged metadata.json is checked where it is read: prepared again by `jojo prepare`, one line for training
def test_damaged_prepared_metadata(tmp_path):
    (tmp_path/'text.txt').write_text('Some words to prepare.\n' * 200)
    args = ('prepare', tmp_path/'text.txt', '--tokenizer', 'bytes', '--out', tmp_path/'out', '--stats')
    assert run_jojo(*args).returncode == 0
    meta_file = tmp_path/'out'/'metadata.json'
    good = json.loads(meta_file.read_text())
    for damage in ({'val_fraction_tokens': None}, {'documents': 'many'}, {'bytes_per_token': -1}, {'val_fraction_bytes': 2}):
        meta_file.write_text(json.dumps({k: v for k, v in {**good, **damage}.items() if v is not None}))
        p = run_jojo(*args)  # the cached folder cannot be read: it is prepared again, and reported
        assert p.returncode == 0 and 'validation holds' in p.stderr and 'bytes per token' in p.stdout, p.stderr
        assert json.loads(meta_file.read_text())['documents'] == good['documents']
    meta_file.write_text(json.dumps({k: v for k, v in good.items() if k != 'val_fraction_tokens'}))
    p = run_jojo('train', *tiny_args(tmp_path/'out', steps=10), cwd=tmp_path)
    one_line_error(p, 'metadata.json', "the key 'val_fraction_tokens' is missing")

# review: a hand-made tokenizer folder whose split pattern `tokenizers` reads otherwise is refused in one line
def test_tokenizer_export_refuses_what_tokenizers_would_encode_otherwise(tmp_path):
    from jojo_nb.tokenizer import write_tokenizer_folder
    ranks = {**{bytes([i]): i for i in range(256)}, b'He': 256, b'll': 257, b'Hell': 258}
    write_tokenizer_folder(tmp_path/'odd', 'odd', ranks, r'[^\n]+$|[\s\S]',  # `$`: end of text, or of each line
                           {'<|endoftext|>': 259, '<|im_start|>': 260, '<|im_end|>': 261})
    p = run_jojo('tokenizer', 'export', tmp_path/'odd', tmp_path/'odd_hf')
    one_line_error(p, 'odd: its tokenizer.json would encode text differently from jojo', 'jojo tokenizer train')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['odd']  # nothing written, no temporary folder left
