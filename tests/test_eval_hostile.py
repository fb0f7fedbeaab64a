"""Hostile input for `jojo eval` (issue 27): lm-eval task folders that would run code (hole 3), saved results keyed on
the content scored (hole 6), and CORE bundles, HellaSwag files and saved results that are malformed in every way
(hole 14): each a one-line `JojoError`, never a traceback."""
import json, os, shutil, subprocess, sys, tempfile
from pathlib import Path
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from conftest import SHARED, run_jojo, train_tiny
from test_train import data  # noqa: F401  (the module-scoped text fixture)
from jojo_nb.core import JojoError
from jojo_nb.core_score import load_bundle, task_items, core_settings
from jojo_nb.evaluate import hellaswag_items, hellaswag_settings, save_eval, eval_file
from jojo_nb.suites import saved_results

BUNDLE, HS = SHARED/'core', SHARED/'hellaswag'/'hellaswag_val_full.jsonl'
needs_data = pytest.mark.skipif(not (BUNDLE/'core.yaml').exists() or not HS.exists(), reason='no offline eval data')

@pytest.fixture(scope='module')
def root(tmp_path_factory, data):
    return train_tiny(tmp_path_factory.mktemp('eval_hostile'), data, 10, **{'--model.block_size': 64})

def one_line(p, *says):
    "`p` ended with exit 2 and one line holding each of `says`."
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and 'Traceback' not in p.stderr, p.stderr[-2000:]
    assert all(s in lines[0] for s in says), (says, lines[0])

# ---------------------------------------------------------------- hole 3: lm-eval task folders that import Python

DOCS = [dict(ctx=f'c{i}', endings=['a', 'b', 'c', 'd'], label=i % 4) for i in range(4)]

def code_folder(folder:Path, python_in:str='process_docs') -> Path:
    "A task folder whose YAML makes lm-eval import `utils.py`, which writes `imported.txt` when imported."
    tasks = folder/'tasks'; tasks.mkdir(parents=True)
    (folder/'docs.jsonl').write_text(''.join(json.dumps(d) + '\n' for d in DOCS))
    (tasks/'utils.py').write_text("from pathlib import Path\n"
                                  "Path(__file__).with_name('imported.txt').write_text('ran')\n"
                                  "def process_docs(ds): return ds\n")
    body = (f"task: trusty\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    validation: {folder/'docs.jsonl'}\n"
            "validation_split: validation\noutput_type: multiple_choice\ndoc_to_text: \"{{ctx}}\"\n"
            "doc_to_choice: \"{{endings}}\"\ndoc_to_target: \"{{label}}\"\nmetric_list:\n  - metric: acc\n")
    if python_in == 'process_docs': body += "process_docs: !function utils.process_docs\n"
    elif python_in == 'include':  # lm-eval's own convention for a template the indexer skips
        (tasks/'_default_template_yaml').write_text("process_docs: !function utils.process_docs\n")
        body += "include: _default_template_yaml\n"
    elif python_in == 'outside':  # a YAML outside the folder, whose own utils.py would be imported
        (folder/'elsewhere').mkdir()
        (folder/'elsewhere/base.yaml').write_text("process_docs: !function utils.process_docs\n")
        shutil.copy(tasks/'utils.py', folder/'elsewhere/utils.py')
        body += "include: ../elsewhere/base.yaml\n"
    elif python_in == 'nested':
        body += "filter_list:\n  - name: f\n    filter:\n      - function: !function utils.process_docs\n"
    elif python_in == 'class': body += "class: !function utils.process_docs\n"
    (tasks/'trusty.yaml').write_text(body)
    return tasks

@pytest.mark.parametrize('python_in, says', [
    ('process_docs', 'process_docs: !function utils.process_docs'),
    ('include', 'include: _default_template_yaml (whose process_docs: !function'),
    ('outside', 'include: ../elsewhere/base.yaml (whose process_docs: !function'),
    ('nested', 'function: !function utils.process_docs'),
    ('class', 'class: ')])
def test_task_folder_that_imports_python_is_refused(tmp_path, python_in, says):
    pytest.importorskip('lm_eval')
    from jojo_nb.lm_eval_adapter import check_include
    tasks = code_folder(tmp_path, python_in)
    with pytest.raises(JojoError) as e: check_include(tasks)
    assert says in str(e.value) and 'trusty.yaml' in str(e.value) and '--lm-eval-trust-code' in str(e.value)
    assert '\n' not in str(e.value) and not (tasks/'imported.txt').exists()
    assert check_include(tasks, trust_code=True) == tasks

def test_plain_task_folder_is_accepted(tmp_path):
    pytest.importorskip('lm_eval')
    from jojo_nb.lm_eval_adapter import check_include
    tasks = code_folder(tmp_path, 'none')
    assert check_include(tasks) == tasks

def test_jojo_eval_refuses_a_task_folder_that_imports_python(tmp_path):
    pytest.importorskip('lm_eval')
    tasks = code_folder(tmp_path)
    p = run_jojo('eval', '--checkpoint', 'nothing', '--lm-eval', 'trusty', '--lm-eval-include', tasks,
                 '--device', 'cpu', cwd=tmp_path, env={'HF_HOME': str(tmp_path/'hf'), 'HF_DATASETS_OFFLINE': '1'})
    one_line(p, 'trusty.yaml: process_docs: !function utils.process_docs', 'add --lm-eval-trust-code if you trust it')
    assert not (tasks/'imported.txt').exists()  # refused before lm-eval read the folder

TRUSTED_RUN = """
import sys, torch
from pathlib import Path
from jojo_nb.config import ModelConfig
from jojo_nb.model import GPT
from jojo_nb.tokenizer import Tokenizer
from jojo_nb.hf import InferenceModel
from jojo_nb.core import JojoError
from jojo_nb.lm_eval_adapter import run_lm_eval
torch.manual_seed(0)
tok = Tokenizer('bytes')
loaded = InferenceModel(GPT(ModelConfig(n_layer=1, n_head=2, n_embd=32, block_size=64, vocab_size=tok.n_vocab)).eval(),
                        tok, Path('tiny.pt'), None)
try: run_lm_eval(loaded, 'trusty', include=sys.argv[1], limit=2); print('not refused')
except JojoError as e: print('refused:', e)
print('imported before trust:', (Path(sys.argv[1])/'imported.txt').exists())
print('result:', run_lm_eval(loaded, 'trusty', include=sys.argv[1], limit=2, trust_code=True))
"""

def test_trusted_task_folder_runs(tmp_path):
    "With trust the harness runs the folder's code (utils.py writes its file) and scores the task."
    pytest.importorskip('lm_eval')
    tasks = code_folder(tmp_path)
    env = {**os.environ, 'HF_HOME': str(tmp_path/'hf'), 'HF_DATASETS_OFFLINE': '1'}
    p = subprocess.run([sys.executable, '-c', TRUSTED_RUN, str(tasks)], cwd=tmp_path, capture_output=True, text=True,
                       env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    assert 'refused: ' in p.stdout and 'imported before trust: False' in p.stdout, p.stdout
    assert "result: {'trusty': {'acc':" in p.stdout and (tasks/'imported.txt').read_text() == 'ran'

def test_jojo_eval_trust_code_option(root, tmp_path):
    "Once the CLI has --lm-eval-trust-code (the parser is another chapter's), `jojo eval` runs the trusted folder."
    pytest.importorskip('lm_eval')
    if '--lm-eval-trust-code' not in run_jojo('eval', '--help').stdout:
        pytest.skip('jojo eval has no --lm-eval-trust-code yet')
    tasks = code_folder(tmp_path)
    p = run_jojo('eval', '--checkpoint', 'r', '--lm-eval', 'trusty', '--lm-eval-include', tasks, '--lm-eval-trust-code',
                 '--limit', 2, '--device', 'cpu', cwd=root,
                 env={'HF_HOME': str(tmp_path/'hf'), 'HF_DATASETS_OFFLINE': '1'})
    assert p.returncode == 0, p.stderr[-2000:]
    assert 'acc' in json.loads(p.stdout)['lm_eval']['trusty'] and (tasks/'imported.txt').exists()

# ---------------------------------------------------------------- hole 6: results keyed on what was scored

def small_bundle(folder:Path, gold:int=0, n:int=3) -> Path:
    "A one-task CORE bundle (copa) whose items all have answer `gold`."
    (folder/'eval_data/x').mkdir(parents=True)
    (folder/'core.yaml').write_text("icl_tasks:\n- label: copa\n  dataset_uri: x/copa.jsonl\n  num_fewshot: [0]\n"
                                    "  icl_task_type: multiple_choice\n")
    (folder/'eval_meta_data.csv').write_text("Eval Task,Task Category,Task Type,#shots,#datapoints,Random baseline\n"
                                             "copa,commonsense reasoning,multiple choice,0,2,50\n")
    (folder/'eval_data/x/copa.jsonl').write_text(f'{{"query": "q", "choices": ["a", "b"], "gold": {gold}}}\n' * n)
    return folder

def test_same_names_other_content_get_other_keys(tmp_path):
    a, b = small_bundle(tmp_path/'a'/'bundle', 0), small_bundle(tmp_path/'b'/'bundle', 1)
    sa, sb = core_settings(load_bundle(a), 3), core_settings(load_bundle(b), 3)
    assert sa['tasks'] == sb['tasks'] and sa != sb
    assert core_settings(load_bundle(a), 3) == sa  # the same content: the same key
    (tmp_path/'a/hs.jsonl').write_text(json.dumps(DOCS[0]) + '\n')
    (tmp_path/'b/hs.jsonl').write_text(json.dumps(DOCS[1]) + '\n')
    assert hellaswag_settings(tmp_path/'a/hs.jsonl', 5) != hellaswag_settings(tmp_path/'b/hs.jsonl', 5)

def test_another_file_or_bundle_with_the_same_name_is_scored_again(root, tmp_path):
    run = lambda *a: run_jojo('eval', '--checkpoint', 'r', '--device', 'cpu', *a, cwd=root)
    for d, label in (('a', 0), ('b', 1)):
        small_bundle(tmp_path/d/'bundle', label)
        shifted = [{**x, 'label': (x['label'] + label) % 4} for x in DOCS]
        (tmp_path/d/'hs.jsonl').write_text(''.join(json.dumps(x) + '\n' for x in shifted))
    first = run('--core', tmp_path/'a/bundle', '--hellaswag', tmp_path/'a/hs.jsonl', '--recompute')
    assert first.returncode == 0, first.stderr[-2000:]
    other = run('--core', tmp_path/'b/bundle', '--hellaswag', tmp_path/'b/hs.jsonl')
    assert other.returncode == 0 and 'reused' not in other.stderr, other.stderr[-2000:]
    same = run('--core', tmp_path/'b/bundle', '--hellaswag', tmp_path/'b/hs.jsonl')
    assert same.returncode == 0 and same.stderr.count('is reused') == 2, same.stderr[-2000:]
    # a damaged saved result (hole 14) is scored again, never a traceback
    # (more kinds of damage: test_damaged_saved_results_are_skipped)
    saved = root/'runs/r/evals/latest.core.json'
    good = json.loads(saved.read_text())
    saved.write_text('[' * 200_000)
    not_a_result = {**json.loads(other.stdout), 'suite': 'hellaswag'}  # jojo eval's output, not a saved result
    (root/'runs/r/evals/latest.hellaswag.json').write_text(json.dumps(not_a_result))
    again = run('--core', tmp_path/'b/bundle', '--hellaswag', tmp_path/'b/hs.jsonl')
    assert again.returncode == 0 and 'reused' not in again.stderr, again.stderr[-2000:]
    assert 'Traceback' not in again.stderr
    assert json.loads(saved.read_text())['score'] == good['score']

# ---------------------------------------------------------------- hole 14: malformed bundles and files, one line each

ITEM = '{"query": "q", "choices": ["a", "b"], "gold": 0}'
CSV, CSV_SAYS = 'eval_meta_data.csv', ('eval_meta_data.csv:2', 'Random baseline')
BREAKS = {  # case: (file, new text, what the line must name)
    'baseline 100': (CSV, 'Eval Task,Random baseline\ncopa,100\n', CSV_SAYS),
    'baseline text': (CSV, 'Eval Task,Random baseline\ncopa,half\n', CSV_SAYS),
    'baseline nan': (CSV, 'Eval Task,Random baseline\ncopa,nan\n', CSV_SAYS),
    'negative shots': ('core.yaml', 'num_fewshot: [-3]', ('core.yaml', 'copa', 'num_fewshot')),
    'string shots': ('core.yaml', 'num_fewshot: [three]', ('core.yaml', 'copa', 'num_fewshot')),
    'string shot count': ('core.yaml', 'num_fewshot: "3"', ('core.yaml', 'copa', 'num_fewshot')),
    'huge shots': ('core.yaml', 'num_fewshot: 100000000000', ('core.yaml', 'copa', 'num_fewshot')),
    'delimiter not text': ('core.yaml', 'num_fewshot: 0\n  continuation_delimiter: [1]',
                           ('core.yaml', 'continuation_delimiter')),
    'label not text': ('core.yaml', 'num_fewshot: 0\n  label: [copa]', ('core.yaml', 'label')),
    'uri outside': ('core.yaml', 'num_fewshot: 0\n  dataset_uri: /etc/passwd', ('core.yaml', 'dataset_uri')),
    'uri up': ('core.yaml', 'num_fewshot: 0\n  dataset_uri: ../../x/copa.jsonl', ('core.yaml', 'dataset_uri')),
    'bad yaml': ('core.yaml', 'num_fewshot: [0\n  : :', ('core.yaml', 'not valid YAML')),
    'deep yaml': ('core.yaml', 'num_fewshot: ' + '[' * 5000 + ']' * 5000, ('core.yaml', 'nested')),
    'yaml alias bomb': ('core.yaml', 'num_fewshot: 0\n' + '  x0: &a0 [1,1,1,1,1,1,1,1,1,1]\n' + ''.join(
        f'  x{i}: &a{i} [{",".join(f"*a{i-1}" for _ in range(10))}]\n' for i in range(1, 9)), ('core.yaml', 'values')),
    'tasks not a list': ('core.yaml', None, ('core.yaml', 'icl_tasks')),
    'gold out of range': ('copa.jsonl', '{"query": "q", "choices": ["a", "b"], "gold": 2}', ('copa.jsonl:1', 'gold')),
    'gold negative': ('copa.jsonl', '{"query": "q", "choices": ["a", "b"], "gold": -1}', ('copa.jsonl:1', 'gold')),
    'gold text': ('copa.jsonl', '{"query": "q", "choices": ["a", "b"], "gold": "0"}', ('copa.jsonl:1', 'gold')),
    'gold true': ('copa.jsonl', '{"query": "q", "choices": ["a", "b"], "gold": true}', ('copa.jsonl:1', 'gold')),
    'empty choices': ('copa.jsonl', '{"query": "q", "choices": [], "gold": 0}', ('copa.jsonl:1', 'choices')),
    'choices not text': ('copa.jsonl', '{"query": "q", "choices": [1, 2], "gold": 0}', ('copa.jsonl:1', 'choices')),
    'query not text': ('copa.jsonl', '{"query": ["q"], "choices": ["a", "b"], "gold": 0}', ('copa.jsonl:1', 'query')),
    'item a list': ('copa.jsonl', f'[{ITEM}]', ('copa.jsonl:1', 'needs')),
    'missing key': ('copa.jsonl', '{"query": "q", "gold": 0}', ('copa.jsonl:1', 'choices')),
    'deep line': ('copa.jsonl', ITEM + '\n' + '[' * 100_000, ('copa.jsonl:2', 'nested')),
    'not utf-8': ('copa.jsonl', b'\xff\xfe' + ITEM.encode(), ('copa.jsonl', 'UTF-8')),
    'no items': ('copa.jsonl', '\n\n', ('copa.jsonl', 'no items')),
}

def break_bundle(b:Path, case:str) -> Path:
    name, text, _ = BREAKS[case]
    f = b/'eval_data/x/copa.jsonl' if name == 'copa.jsonl' else b/name
    if name == 'core.yaml':
        text = 'icl_tasks: {label: copa}\n' if text is None else f.read_text().replace('num_fewshot: [0]', text)
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    return b

def load_all(b:Path):
    "Everything `jojo eval --core` reads before loading a model."
    bundle = load_bundle(b)
    return bundle, {t.label: task_items(t) for t in bundle.tasks}

@pytest.mark.parametrize('case', BREAKS)
def test_bad_bundle_is_one_line_naming_file_and_key(tmp_path, case, hostile):
    b = break_bundle(small_bundle(tmp_path/'bundle'), case)
    err = hostile.attempt(load_all, b)
    assert isinstance(err, JojoError), (case, err)
    assert '\n' not in str(err) and all(s in str(err) for s in BREAKS[case][2]), (case, str(err))

def test_bad_bundle_through_the_cli(tmp_path):
    "Checked before the model is loaded: no checkpoint is needed to be told."
    b = break_bundle(small_bundle(tmp_path/'bundle'), 'gold out of range')
    one_line(run_jojo('eval', '--checkpoint', 'nothing', '--core', b, '--device', 'cpu', cwd=tmp_path),
             'copa.jsonl:1', 'gold=2 must be between 0 and 1')

HS_LINE = json.dumps(DOCS[0])
hs_label = lambda v: (HS_LINE.replace('"label": 0', f'"label": {v}'), 'label')
HS_BREAKS = {
    'not json': ('{"ctx": ', 'invalid JSON'), 'a list': (f'[{HS_LINE}]', 'needs'), 'label 4': hs_label(4),
    'label -1': hs_label(-1), 'label 1.5': hs_label(1.5), 'label true': hs_label('true'), 'label null': hs_label('null'),
    'ctx number': (HS_LINE.replace('"c0"', '7'), 'ctx'), 'three endings': (HS_LINE.replace('"a", ', ''), 'endings'),
    'ending number': (HS_LINE.replace('"a"', '1'), 'endings'), 'deep': ('[' * 100_000, 'nested'),
    'long line': ('"' + 'x' * (1 << 21) + '"', 'longer than 1 MiB'),
    'missing label': (HS_LINE.replace(', "label": 0', ''), 'needs'),
}

@pytest.mark.parametrize('case', HS_BREAKS)
def test_bad_hellaswag_line_is_one_line(tmp_path, case, hostile):
    f = tmp_path/'hs.jsonl'
    f.write_text(HS_LINE + '\n' + HS_BREAKS[case][0] + '\n')
    err = hostile.attempt(hellaswag_items, f)
    assert isinstance(err, JojoError) and '\n' not in str(err), (case, err)
    assert 'hs.jsonl:2' in str(err) and HS_BREAKS[case][1] in str(err), (case, str(err))

def test_hellaswag_not_utf8_folder_or_empty(tmp_path, hostile):
    (tmp_path/'bin.jsonl').write_bytes(b'\xff' * 10)
    (tmp_path/'empty.jsonl').write_text('\n')
    for f in ('bin.jsonl', 'empty.jsonl', '.', 'missing.jsonl'):
        assert isinstance(hostile.attempt(hellaswag_items, tmp_path/f), JojoError), f

def test_damaged_saved_results_are_skipped(tmp_path, hostile):
    ck = tmp_path/'runs/r/checkpoints/latest.pt'; ck.parent.mkdir(parents=True)
    (tmp_path/'runs/r/config.json').write_text('{}'); ck.write_bytes(b'weights')
    good = json.loads(save_eval(ck, 'hellaswag', dict(acc=0.5, acc_norm=0.5, n=4), {'limit': 4}).read_text())
    assert saved_results(ck)['hellaswag']['acc'] == 0.5
    for damaged in (b'[' * 200_000, b'\xff\xfe', b'{"a": 1e999999}', json.dumps({**good, 'acc': 'x'}).encode(),
                    json.dumps({**good, 'sha256': None}).encode(), b'"text"',
                    b'{' + b'"k": 1, ' * 300_000 + b'"z": 0}'):
        eval_file(ck, 'hellaswag').write_bytes(damaged)
        assert hostile.attempt(saved_results, ck) == {}, damaged[:40]
    eval_file(ck, 'hellaswag').unlink(); eval_file(ck, 'hellaswag').mkdir()  # a folder in its place
    assert hostile.attempt(saved_results, ck) == {}

# ---------------------------------------------------------------- property tests: random damage, JojoError or success

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(max_size=12), st.lists(st.integers(-5, 5), max_size=4),
                 st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
                 st.integers(2, 200).map(lambda n: json.loads('[' * n + ']' * n)))  # nested past the limit or not
TASKS = [('copa', 'commonsense_reasoning/copa.jsonl'), ('winograd', 'language_understanding/winograd_wsc.jsonl'),
         ('lambada_openai', 'language_understanding/lambada_openai.jsonl')]

@pytest.fixture(scope='module')
def seed_bundle(tmp_path_factory):
    "A small valid bundle cut from the offline one: three tasks (one of each type), five items each."
    if not (BUNDLE/'core.yaml').exists(): pytest.skip('the offline CORE bundle is not here')
    b = tmp_path_factory.mktemp('seed')/'bundle'
    (b/'eval_data').mkdir(parents=True)
    spec = __import__('yaml').safe_load((BUNDLE/'core.yaml').read_text())
    (b/'core.yaml').write_text(json.dumps({'icl_tasks': [e for e in spec['icl_tasks'] if e['label'] in dict(TASKS)]}))
    shutil.copy(BUNDLE/'eval_meta_data.csv', b/'eval_meta_data.csv')
    for _, uri in TASKS:
        (b/'eval_data'/uri).parent.mkdir(parents=True, exist_ok=True)
        (b/'eval_data'/uri).write_text(''.join((BUNDLE/'eval_data'/uri).read_text().splitlines(keepends=True)[:5]))
    assert len(load_all(b)[0].tasks) == 3
    return b

HOSTILE_SETTINGS = settings(max_examples=150, deadline=None,
                            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

def damage(data, value:str|bytes, where:str) -> str|bytes:
    "`value` damaged as hypothesis draws: a value replaced by junk, a key dropped, a cut, a byte flipped or junk added."
    how = data.draw(st.sampled_from(['junk', 'drop', 'cut', 'flip', 'append']), label=f'{where} how')
    raw = value.encode() if isinstance(value, str) else value
    if how == 'cut': return raw[:data.draw(st.integers(0, len(raw)), label='cut at')]
    if how == 'flip':
        i = data.draw(st.integers(0, max(len(raw) - 1, 0)), label='byte')
        return raw[:i] + bytes([data.draw(st.integers(0, 255), label='to')]) + raw[i + 1:]
    if how == 'append': return raw + data.draw(st.binary(max_size=40), label='junk bytes')
    try: obj = json.loads(raw)
    except ValueError: return raw  # damaged before: not JSON any more
    targets = [(obj, k) for k in obj] if isinstance(obj, dict) else []
    tasks = obj.get('icl_tasks') if isinstance(obj, dict) else None
    targets += [(e, k) for e in (tasks if isinstance(tasks, list) else []) if isinstance(e, dict) for k in e]
    if not targets: return raw
    d, k = data.draw(st.sampled_from(targets), label=f'{where} key')
    if how == 'drop': del d[k]
    else: d[k] = data.draw(JUNK, label=f'{where} {k}')
    return json.dumps(obj).encode()

@needs_data
@HOSTILE_SETTINGS
@given(data=st.data())
def test_damaged_bundles_load_or_say_why(seed_bundle, hostile, data):
    with tempfile.TemporaryDirectory() as tmp:
        b = Path(tmp)/'bundle'
        shutil.copytree(seed_bundle, b)
        files = [b/'core.yaml', b/'eval_meta_data.csv'] + [b/'eval_data'/u for _, u in TASKS]
        for _ in range(data.draw(st.integers(1, 3), label='damages')):
            f = data.draw(st.sampled_from(files), label='file')
            if f.suffix == '.jsonl':
                lines = f.read_bytes().split(b'\n')
                i = data.draw(st.integers(0, len(lines) - 1), label='line')
                lines[i] = damage(data, lines[i], f.name)
                f.write_bytes(b'\n'.join(lines))
            elif f.suffix == '.csv':
                text = f.read_bytes()
                f.write_bytes(damage(data, text, 'csv') if data.draw(st.booleans()) else text.replace(
                    b',50\n', b',' + str(data.draw(JUNK, label='baseline')).encode()[:30] + b'\n', 1))
            else:
                f.write_bytes(damage(data, f.read_bytes(), 'core.yaml'))
        result = hostile.attempt(load_all, b)
        assert isinstance(result, (JojoError, tuple))
        if isinstance(result, JojoError): assert '\n' not in str(result)

@needs_data
@HOSTILE_SETTINGS
@given(data=st.data())
def test_damaged_hellaswag_loads_or_says_why(hostile, data):
    lines = HS.read_bytes().split(b'\n', 4)[:4]
    i = data.draw(st.integers(0, 3), label='line')
    lines[i] = damage(data, lines[i], 'hellaswag')
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp)/'hs.jsonl'
        f.write_bytes(b'\n'.join(lines))
        result = hostile.attempt(hellaswag_items, f, data.draw(st.one_of(st.none(), st.integers(1, 5)), label='limit'))
        assert isinstance(result, (JojoError, list))
        if isinstance(result, JojoError): assert '\n' not in str(result)
