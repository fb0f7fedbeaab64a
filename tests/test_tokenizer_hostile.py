"""Hostile tokenizer folders (issue 27, holes 5 and 14): whatever `jojo_tokenizer.json` and `merges.tiktoken` hold,
`Tokenizer(folder)` works or raises one `JojoError` naming the file and what is wrong (never a traceback, never a
Rust panic from tiktoken); a folder's identity tells retrained folders apart; `jojo tokenizer train` replaces only
a tokenizer folder it made and refuses vocabulary sizes it cannot write."""
import base64, json, os, random, shutil, tempfile
from pathlib import Path
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st
from conftest import HostileTally, run_jojo
from jojo_nb.core import JojoError, MARKER, marker_kind, write_json
from jojo_nb.tokenizer import (ENDOFTEXT, IM_START, IM_END, MAX_VOCAB, SPLIT_PATTERNS, TOKENIZER_META, TOKENIZER_MERGES,
                               Tokenizer, check_identity, folder_identity, merges_file_bytes, write_tokenizer_folder)
from jojo_nb.bpe import train_tokenizer

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
RANKS = {**{bytes([i]): i for i in range(256)}, b'th': 256, b'he': 257, b'the': 258, b' t': 259, b' the': 260}
SPECIALS = {ENDOFTEXT: 261, IM_START: 262, IM_END: 263}
TEXT = "the theme: <|im_start|> naïve 🙂 123\n\n  x\ty\r\n"

def tiny_folder(folder, pattern=SPLIT_PATTERNS['gpt2'], ranks=RANKS, specials=SPECIALS) -> Path:
    return write_tokenizer_folder(folder, 'tiny', ranks, pattern, specials, {'trained': {'sources': ['x']}})

def meta_of(folder) -> dict: return json.loads((Path(folder)/TOKENIZER_META).read_text())

def rewrite(folder, meta:dict|None=None, merges:bytes|None=None, rehash:bool=True) -> Path:
    "Change the folder's files; with `rehash`, record the identity the new contents have (as a forger would)."
    folder = Path(folder)
    if merges is not None: (folder/TOKENIZER_MERGES).write_bytes(merges)
    meta = meta_of(folder) if meta is None else meta
    if rehash and isinstance(meta, dict):
        try: meta['identity'] = folder_identity((folder/TOKENIZER_MERGES).read_bytes(), meta['pattern'],
                                                meta['special_tokens'])
        except (KeyError, TypeError, AttributeError): pass  # a value the hash cannot take: the reader must refuse it
    (folder/TOKENIZER_META).write_text(json.dumps(meta, allow_nan=True))
    return folder

def refused(folder, *needles):
    "The `JojoError` reading `folder` raises: one line naming the folder and each of `needles`."
    HostileTally.tried += 1
    with pytest.raises(JojoError) as e: Tokenizer(str(folder))
    msg = str(e.value)
    assert '\n' not in msg and str(Path(folder).name) in msg, msg
    for n in needles: assert n in msg, (n, msg)
    return msg

def works_or_refuses(folder):
    "Read `folder`: a tokenizer that round-trips text and keeps its ids below n_vocab, or a `JojoError`."
    tok = HostileTally.attempt(Tokenizer, str(folder))
    if isinstance(tok, JojoError):
        assert '\n' not in str(tok), str(tok)
        return tok
    ids = tok.encode(TEXT)
    assert tok.decode(ids) == TEXT and max(ids) < tok.n_vocab <= MAX_VOCAB
    assert tok.encode_array(TEXT).tolist() == ids and max(tok.specials.values()) < tok.n_vocab
    return tok

@pytest.fixture(scope='module')
def base(tmp_path_factory) -> Path:
    return tiny_folder(tmp_path_factory.mktemp('tok')/'tiny')

def copy_of(base) -> Path:
    out = Path(tempfile.mkdtemp(prefix='tok-', dir=base.parent))/'tiny'
    shutil.copytree(base, out)
    return out

# ---------------------------------------------------------------------------------------------------------------
# Property tests: the description and the merges file, mutated
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.sampled_from([255, 256, 263, 264, 65536]),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(['', 'a*', '((', r'\w+', '(?<=e)|.', r'(a|aa)+(?=b)|[\s\S]', r'[\s\S]', '.',
                                     SPLIT_PATTERNS['gpt4'], '264', 'jojo-tokenizer']))
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids,
                                                                                     max_size=3), max_leaves=8)
KEYS = ['format', 'version', 'name', 'pattern', 'special_tokens', 'n_vocab', 'identity', 'trained']

@st.composite
def meta_mutations(draw, meta:dict):
    meta = json.loads(json.dumps(meta))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(['set', 'delete', 'special', 'add']))
        key = draw(st.sampled_from(KEYS))
        if how == 'set': meta[key] = draw(values)
        elif how == 'delete': meta.pop(key, None)
        elif how == 'add': meta[draw(st.text(max_size=6))] = draw(values)
        elif isinstance(meta.get('special_tokens'), dict):
            name = draw(st.sampled_from([*SPECIALS, '', 'x', '<|pad|>']))
            meta['special_tokens'][name] = draw(st.one_of(st.integers(-3, 300), values))
    return meta

@SETTINGS
@given(data=st.data(), rehash=st.booleans())
def test_any_description_works_or_refuses(base, data, rehash):
    folder = copy_of(base)
    rewrite(folder, data.draw(meta_mutations(meta_of(base))), rehash=rehash)
    works_or_refuses(folder)

@st.composite
def merges_mutations(draw, merges:bytes):
    lines = merges.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(['junk', 'duplicate', 'drop', 'truncate', 'empty', 'rank', 'swap', 'bytes']))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if how == 'junk': lines.insert(i, draw(st.binary(max_size=30)) + b'\n')
        elif how == 'duplicate' and lines: lines.insert(i, lines[i])
        elif how == 'drop' and lines: del lines[i]
        elif how == 'truncate': lines = [b''.join(lines)[:draw(st.integers(0, len(b''.join(lines))))]]
        elif how == 'empty': lines = []
        elif how == 'rank' and lines:
            token = lines[i].split(b' ')[0]
            lines[i] = token + b' ' + draw(st.sampled_from([b'-1', b'70000', b'1e3', b'9' * 5000, b'0', b'x', b'260',
                                                             str(2**31).encode()])) + b'\n'
        elif how == 'swap' and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1)); lines[i], lines[j] = lines[j], lines[i]
        elif how == 'bytes':
            lines.insert(i, base64.b64encode(draw(st.binary(min_size=1, max_size=8))) + b' %d\n' % draw(st.integers(0, 300)))
    return b''.join(lines)

@SETTINGS
@given(data=st.data(), rehash=st.booleans())
def test_any_merges_file_works_or_refuses(base, data, rehash):
    folder = copy_of(base)
    rewrite(folder, merges=data.draw(merges_mutations((base/TOKENIZER_MERGES).read_bytes())), rehash=rehash)
    works_or_refuses(folder)

@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(pattern=st.one_of(st.text(max_size=20), st.text(alphabet='()[]|*+?{}.\\^$=<!:aswSW1,', max_size=20)),
       text=st.text(max_size=40))
def test_any_pattern_works_or_refuses(base, pattern, text):
    "Split patterns, rehashed: tiktoken never panics, at construction or on any text, and no text is lost."
    folder = copy_of(base)
    rewrite(folder, {**meta_of(base), 'pattern': pattern})
    tok = works_or_refuses(folder)
    if isinstance(tok, Tokenizer): assert tok.decode(tok.encode(text)) == text

# ---------------------------------------------------------------------------------------------------------------
# Hole 5: n_vocab, and identities that tell tokenizers apart
def test_n_vocab_must_match_the_ids(base):
    folder = tiny_folder(copy_of(base), specials={ENDOFTEXT: 70000})  # the folder: 300 recorded, id 70000
    assert meta_of(folder)['n_vocab'] == 70001 and Tokenizer(str(folder)).dtype.__name__ == 'uint32'
    rewrite(folder, {**meta_of(folder), 'n_vocab': 300})
    refused(folder, 'n_vocab is 300', 'it must be 70001')
    folder = copy_of(base)
    rewrite(folder, {**meta_of(base), 'n_vocab': 300})
    refused(folder, 'n_vocab is 300', 'must be 264')

def test_identity_of_current_folders_is_unchanged(base):
    "Checkpoints and prepared data record folder identities: the formula must not change under them."
    assert meta_of(base)['identity'] == folder_identity(merges_file_bytes(RANKS), SPLIT_PATTERNS['gpt2'], SPECIALS)
    assert meta_of(base)['identity'] == '93a438f9c451b277'
    ident = Tokenizer(str(base)).identity()
    assert ident == dict(name='tiny', ranks_sha256='93a438f9c451b277', special_tokens=dict(sorted(SPECIALS.items())),
                         n_vocab=264)

_rng = random.Random(27)
TRAIN_TEXT = ' '.join(''.join(_rng.choice('etaoinshrdlucmfw') for _ in range(_rng.randint(1, 8))) for _ in range(6000))

def test_retrained_folder_has_another_identity(tmp_path):
    (tmp_path/'a.txt').write_text(TRAIN_TEXT)
    (tmp_path/'b.txt').write_text(TRAIN_TEXT.replace('a', 'o'))
    out = tmp_path/'tok'
    first = Tokenizer(str(train_tokenizer(str(tmp_path/'a.txt'), 300, out, progress=False))).identity()
    again = Tokenizer(str(train_tokenizer(str(tmp_path/'b.txt'), 300, out, force=True, progress=False))).identity()
    assert first['n_vocab'] == again['n_vocab'] == 300 and first['name'] == again['name'] == 'tok'
    assert first['ranks_sha256'] != again['ranks_sha256']
    with pytest.raises(JojoError, match='ranks_sha256'): check_identity(first, again, 'checkpoint latest.pt')

# ---------------------------------------------------------------------------------------------------------------
# Hole 14: each bad folder in one line
@pytest.mark.parametrize('change, needles', [
    ({'pattern': '(('}, ['split pattern', 'not a regular expression']),
    ({'pattern': 'a*'}, ['can match empty text']),
    ({'pattern': ''}, ['1 to 10,000 characters']),
    ({'pattern': r'\w+'}, ['skips some text']),
    ({'pattern': r'(a|aa)+(?=b)|[\s\S]'}, ['lookaround']),
    ({'special_tokens': ['<|endoftext|>']}, ['special_tokens must be an object']),
    ({'special_tokens': {ENDOFTEXT: 261, IM_START: 261}}, ['same id 261']),
    ({'special_tokens': {ENDOFTEXT: 5}}, ["special token '<|endoftext|>' has id 5"]),
    ({'special_tokens': {ENDOFTEXT: '261'}}, ["has id '261'"]),
    ({'special_tokens': {'': 261}}, ['1 to 256 characters']),
    ({'n_vocab': '264'}, ['n_vocab must be a whole number']),
    ({'n_vocab': 10**12}, ['n_vocab=']),
    ({'version': 'x'}, ['version must be a whole number']),
    ({'version': 99}, ['newer jojo_nb']),
    ({'format': None}, ["not 'jojo-tokenizer'"]),
    ({'name': 7}, ['name must be a string']),
    ({'identity': None}, ['identity must be a string']),
])
def test_bad_description(base, change, needles):
    folder = copy_of(base)
    rewrite(folder, {**meta_of(base), **change}, rehash='identity' not in change)
    refused(folder, *needles)

def _lines(): return merges_file_bytes(RANKS).splitlines(keepends=True)

@pytest.mark.parametrize('merges, needles', [
    (b''.join(_lines()) + base64.b64encode(b'ab') + b' 259\n', ['merges.tiktoken:262', 'rank 259 is given to two tokens']),
    (b''.join(_lines()) + _lines()[-1], ['merges.tiktoken:262', 'listed twice']),
    (merges_file_bytes({**{t: r for t, r in RANKS.items() if r}, b'zz': 0}), ['single-byte token 0x00 is missing']),
    (b''.join(_lines()[1:]), ['the ranks must run from 0 to 259', '0 is missing']),
    (merges_file_bytes({b'ab': 0, b'cd': 1}), ['the single-byte tokens 0x00, 0x01, 0x02, 0x03... are missing']),
    (b''.join(_lines()) + b'!!notbase64 261\n', ['merges.tiktoken:262 is not a tiktoken merges line']),
    (b''.join(_lines()) + b'YWI= 70000\n', ['the ranks must run from 0 to 261', '261 is missing']),
    (b''.join(_lines()) + b'YWI= 9999999999\n', ['rank 9999999999 is not between 0 and']),
    (b''.join(_lines()) + b'YWI= -1\n', ['rank -1 is not between']),
    (b''.join(_lines()) + b'\n', ['is not a tiktoken merges line']),
    (b'', ['single-byte tokens 0x00']),
    (b''.join(_lines())[:-7], ['is not a tiktoken merges line']),
])
def test_bad_merges(base, merges, needles):
    folder = copy_of(base)
    rewrite(folder, merges=merges)
    refused(folder, *needles)

def test_unhashed_edits_are_refused(base):
    folder = copy_of(base)
    rewrite(folder, {**meta_of(base), 'pattern': r'[\s\S]'}, rehash=False)
    refused(folder, 'were changed after training')
    (folder/TOKENIZER_META).unlink()
    refused(folder, 'is not a tokenizer folder')

def test_huge_and_deep_files(base):
    folder = copy_of(base)
    (folder/TOKENIZER_META).write_text(json.dumps({**meta_of(base), 'pad': 'x' * (2 << 20)}))
    refused(folder, 'tokenizer description', 'MiB')
    (folder/TOKENIZER_META).write_text('[' * 100_000 + ']' * 100_000)
    refused(folder, 'nested')
    (folder/TOKENIZER_META).write_text('{"format": ' + '{"a":' * 5000 + '1' + '}' * 5000 + '}')
    refused(folder, 'nested')
    (folder/TOKENIZER_META).write_bytes(b'\xff\xfe{')
    refused(folder, 'invalid JSON')
    folder = copy_of(base)
    with open(folder/TOKENIZER_MERGES, 'r+b') as f: f.truncate(3 << 30)  # sparse: 3 GiB that take no disk
    refused(folder, 'tokenizer merges file', 'MiB')
    (folder/TOKENIZER_MERGES).unlink(); (folder/TOKENIZER_MERGES).mkdir()
    refused(folder, 'is a folder')

# ---------------------------------------------------------------------------------------------------------------
# Training: only a tokenizer folder jojo made is replaced, and only sizes it can write are accepted
@pytest.fixture
def text_file(tmp_path) -> Path:
    (tmp_path/'a.txt').write_text(TRAIN_TEXT)
    return tmp_path/'a.txt'

@pytest.mark.parametrize('vocab_size, needle', [(10**10, 'too large'), (MAX_VOCAB + 1, 'too large'), (1e10, 'whole number'),
                                                ('300', 'whole number'), (True, 'whole number'), (258, 'at least 259')])
def test_train_refuses_vocab_sizes(text_file, vocab_size, needle):
    with pytest.raises(JojoError, match=needle): train_tokenizer(str(text_file), vocab_size, text_file.parent/'t', progress=False)
    assert not (text_file.parent/'t').exists()

def test_train_replaces_only_its_own_tokenizer_folder(text_file):
    root = text_file.parent
    out = train_tokenizer(str(text_file), 280, root/'tok', progress=False)
    assert marker_kind(out) == 'tokenizer' and (out/MARKER).is_file()
    with pytest.raises(JojoError, match='add --force'): train_tokenizer(str(text_file), 290, out, progress=False)
    assert Tokenizer(str(train_tokenizer(str(text_file), 290, out, force=True, progress=False))).n_vocab == 290
    legacy = root/'legacy'; shutil.copytree(out, legacy); (legacy/MARKER).unlink()  # an older jojo's folder
    assert Tokenizer(str(train_tokenizer(str(text_file), 300, legacy, force=True, progress=False))).n_vocab == 300
    (root/'notes').mkdir(); (root/'notes'/'a.txt').write_text('mine')
    prepared = root/'prepared'; prepared.mkdir(); write_json(prepared/MARKER, {'kind': 'prepared'})
    exported = root/'exported'; shutil.copytree(out, exported); (exported/MARKER).unlink()
    (exported/'jojo_export.json').write_text('{}')  # an HF export carries a tokenizer folder too
    for other in ('notes', 'prepared', 'exported', 'a.txt'):
        with pytest.raises(JojoError, match='jojo|file'): train_tokenizer(str(text_file), 300, root/other, force=True,
                                                                          progress=False)
    assert (root/'notes'/'a.txt').read_text() == 'mine' and (exported/'jojo_export.json').read_text() == '{}'
    assert (prepared/MARKER).is_file() and text_file.read_text() == TRAIN_TEXT
    os.symlink(out, root/'link')
    with pytest.raises(JojoError): train_tokenizer(str(text_file), 300, root/'link', force=True, progress=False)
    assert not [p.name for p in root.iterdir() if p.name.startswith('.')]  # no temporary folder left behind

def test_cli_vocab_size_is_one_line(text_file):
    p = run_jojo('tokenizer', 'train', text_file, '--vocab-size', '1e10', '--out', text_file.parent/'t')
    assert p.returncode == 2 and p.stderr.count('\n') == 1 and 'Traceback' not in p.stderr, p.stderr
    assert not (text_file.parent/'t').exists()
