"""Every config number is validated from its declared range (issue 27: holes 10, 11, 14).

A property test feeds every numeric key extreme and random texts: `load_config` returns a valid config or raises a
one-line `ConfigError`, nothing else. Then one test per value the issue names, `from_dict` on hostile JSON, config
files nested too deep, the model-size check, and `jojo estimate` of runs too long to list step by step."""
import json, math, time
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from conftest import HostileTally, run_jojo
from jojo_nb.config import (ConfigError, ModelConfig, RunConfig, SECTIONS, config_fields, load_config, from_dict,
                            config_from_json, check_model_config, model_params, validate_config, MAX_PARAMS)

NUMERIC = sorted(k for k, f in config_fields().items() if f.type in (int, float))
EXTREMES = ['nan', 'NaN', 'inf', '-inf', 'Infinity', '-1', '0', '1', '-0', '1e300', '-1e300', '1e18', '1e-300',
            '1e308', '1e309', str(2**63), str(2**64 + 1), str(10**400), '9' * 5000, '1' + '0' * 4400, '0.5',
            '1.5', '2**31', '1_000', '1e', '', ' ', '0x10', 'true', '[1]', '{}', '\x00', '1\n2']

def attempt(overrides):
    "`load_config` with `overrides`: the config (valid) or the ConfigError; any other exception fails the test."
    out = HostileTally.attempt(load_config, overrides=overrides)
    if isinstance(out, RunConfig): validate_config(out)
    else:
        assert isinstance(out, ConfigError), f"{overrides}: {type(out).__name__}: {out}"
        assert '\n' not in str(out) and len(str(out)) < 400, str(out)
    return out

def test_every_number_declares_its_range():
    assert NUMERIC and all(config_fields()[k].bounds is not None for k in NUMERIC)
    for k in NUMERIC:
        f = config_fields()[k]
        assert f.default in f.bounds and type(f.default) is f.type, k

@pytest.mark.parametrize('key', NUMERIC)
def test_extreme_texts_for_every_number(key):
    for text in EXTREMES:
        out = attempt({key: text})
        if isinstance(out, RunConfig):
            v = getattr(getattr(out, key.split('.')[0]), key.split('.')[1])
            assert v in config_fields()[key].bounds and (not isinstance(v, float) or math.isfinite(v))

texts = st.one_of(st.sampled_from(EXTREMES), st.integers(-2**70, 2**70).map(str),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=12))

@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(NUMERIC), text=texts, json_value=st.booleans())
def test_any_text_is_a_config_or_one_line(key, text, json_value):
    "Random keys and texts, typed (text) or in a JSON-like dict (the parsed value): a config or a ConfigError."
    value = text
    if json_value:
        try: value = json.loads(text)
        except (ValueError, RecursionError): pass
    attempt({key: value})

@pytest.mark.parametrize('key,text,says', [
    ('train.seed', '-1', '--train.seed=-1 must be between 0 and 4,294,967,295'),
    ('data.seed', '-1', '--data.seed=-1 must be between 0 and 4,294,967,295'),
    ('train.seed', str(2**32), 'must be between 0 and 4,294,967,295'),
    ('optim.eps', '-1', '--optim.eps=-1 must be between 1e-30 and 1'),
    ('optim.eps', '0', '--optim.eps=0 must be between 1e-30 and 1'),
    ('optim.lr', 'nan', '--optim.lr=nan must be a finite number'),
    ('optim.lr', '-1', '--optim.lr=-1 must be between 0 and 100'),
    ('train.epochs', 'inf', '--train.epochs=inf must be a finite number'),
    ('model.init_std', '-1', '--model.init_std=-1 must be positive'),
    ('model.init_std', '0', '--model.init_std=0 must be positive'),
    ('model.vocab_size', '1e18', '--model.vocab_size=1e18 must be between 0 and 2,147,483,647'),
    ('eval.temperature', 'nan', '--eval.temperature=nan must be a finite number'),  # hole 11
    ('eval.temperature', '1e-300', 'eval.temperature=1e-300 is too small to sample with'),
    ('model.dropout', '1', '--model.dropout=1 must be at least 0 and below 1'),
    ('optim.beta1', '1', '--optim.beta1=1 must be at least 0 and below 1'),
    ('optim.beta2', '-0.1', '--optim.beta2=-0.1 must be at least 0 and below 1'),
    ('data.val_fraction', '0', '--data.val_fraction=0 must be positive and below 1'),
    ('data.val_fraction', '1', '--data.val_fraction=1 must be positive and below 1'),
    ('model.n_layer', '1e9', '--model.n_layer=1e9 must be positive and at most 10,000'),
    ('model.n_embd', '1e7', '--model.n_embd=1e7 must be positive and at most 1,000,000'),
    ('model.n_head', '0', '--model.n_head=0 must be positive'),
    ('model.block_size', '1e9', '--model.block_size=1e9 must be positive and at most 1,048,576'),
    ('train.max_steps', '1e13', '--train.max_steps=1e13 must be between 0 and 1e12'),
    ('train.max_tokens', '1e300', '--train.max_tokens=1e300 must be between 0 and 1e18'),
    ('checkpoint.interval', '-5', '--checkpoint.interval=-5 must be between 0 and 1e12'),
    ('train.collective_timeout', '0', '--train.collective_timeout=0 must be positive'),
])
def test_named_values_are_refused(key, text, says):
    out = attempt({key: text})
    assert isinstance(out, ConfigError) and says in str(out), str(out)

@pytest.mark.parametrize('key,text', [('train.seed', '0'), ('train.seed', str(2**32 - 1)), ('optim.min_lr', '0'),
                                      ('eval.temperature', '0'), ('model.vocab_size', '50257'),
                                      ('train.max_steps', '1e10'), ('model.dropout', '0.5')])
def test_edges_that_are_allowed(key, text):
    assert isinstance(attempt({key: text}), RunConfig)

@pytest.mark.parametrize('d', [[], 'x', 3, None, {'model': 3}, {'model': []}, {'model': {'n_layer': [1]}},
                               {'model': {'n_layer': {'a': 1}}}, {'optim': {'lr': 10**400}}, {'optim': {'lr': 'nan'}},
                               {'optim': {'lr': float('nan')}}, {'train': {'seed': -1}}, {'preset': 3},
                               {'eval': {'sample_prompts': [1]}}, {'eval': {'sample_prompts': 'a'}}, {'x' * 10**5: 1},
                               {'mod\nel': 1}, {'model': {'n_layer': True}}, {'train': {'epochs': float('inf')}}])
def test_from_dict_raises_only_config_error(d):
    out = HostileTally.attempt(from_dict, d, 'f.json: ')
    assert isinstance(out, ConfigError) and str(out).startswith('f.json: ') and '\n' not in str(out), repr(out)

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                           max_leaves=12)
LEAVES = sorted({k.rsplit('.', 1)[-1] for k in config_fields()})
sections = st.dictionaries(st.sampled_from(LEAVES + ['junk']), json_values, max_size=4)
configs = st.dictionaries(st.sampled_from([*SECTIONS, 'preset', 'junk']), st.one_of(sections, json_values), max_size=4)

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(d=configs)
def test_from_dict_on_any_json(d):
    "Any JSON object as a config file's content: a RunConfig (which validates or not, in one line) or a ConfigError."
    out = HostileTally.attempt(from_dict, d, 'f.json: ')
    if isinstance(out, RunConfig): out = HostileTally.attempt(validate_config, out)
    assert isinstance(out, (RunConfig, ConfigError)) and '\n' not in str(out), repr(out)

def test_deeply_nested_config_file_is_one_line(tmp_path):
    "Hole 14: a config file nested thousands of levels deep is refused in one line, not a RecursionError."
    p = tmp_path/'deep.json'
    p.write_text('{"model": ' + '[' * 100_000 + ']' * 100_000 + '}')
    for fn in (lambda: load_config(str(p)), lambda: config_from_json(p)):
        out = HostileTally.attempt(fn)
        assert isinstance(out, ConfigError) and 'nested' in str(out) and str(p) in str(out), repr(out)
    p.write_text(json.dumps({'extends': 'tiny-cpu', 'train': {'seed': -1}}))
    out = HostileTally.attempt(load_config, str(p))
    assert isinstance(out, ConfigError) and f'{p.resolve()}: train.seed=-1 must be' in str(out), str(out)

def test_model_size_check_is_fast_and_names_the_count():
    "Hole 10: the shape an HF config.json or a checkpoint states is refused in milliseconds when it is absurd."
    t0 = time.perf_counter()
    for bad, says in [(dict(n_layer=10**9), 'hf/config.json: model.n_layer=1000000000 must be positive'),
                      (dict(n_embd='768'), "model.n_embd='768' is not a valid int"),
                      (dict(n_embd=-768), 'model.n_embd=-768 must be positive'),
                      (dict(n_embd=770, n_head=12), 'not divisible by model.n_head=12'),
                      (dict(n_layer=10_000, n_embd=100_000, n_head=100, vocab_size=50257), 'parameters'),
                      (dict(block_size=float('nan')), 'model.block_size=nan is not a valid int')]:
        out = HostileTally.attempt(check_model_config, ModelConfig(**bad), 'hf/config.json: ')
        assert isinstance(out, ConfigError) and says in str(out) and str(out).startswith('hf/config.json: '), str(out)
    assert time.perf_counter() - t0 < 0.5
    big = ModelConfig(n_layer=10_000, n_embd=100_000, n_head=100)
    assert model_params(big) > MAX_PARAMS and f'{model_params(big):,}' in str(HostileTally.attempt(check_model_config, big))
    assert check_model_config(ModelConfig(n_layer=12.0)).n_layer == 12  # JSON's 12.0 is 12

def _estimate_in_process(*args):
    import contextlib, io
    from jojo_nb.cli import main
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed): code = main(['estimate', '--train.device', 'cpu', *args, '--json'])
    return code, printed.getvalue()

@pytest.mark.parametrize('length', [['--train.max_steps', '1e10'], ['--train.max_steps', '1e12'],
                                    ['--train.max_steps', '0', '--train.max_tokens', '1e18'],
                                    ['--train.max_steps', '0', '--train.epochs', '1e6']])
def test_estimate_of_a_huge_run_is_immediate(length, tmp_path, monkeypatch):
    "Hole 10: the forecast counts saves, kept files and logs in closed form, whatever the run's length."
    monkeypatch.chdir(tmp_path)
    _estimate_in_process('--train.max_steps', '10')  # imports and the tokenizer, outside the timing
    t0 = time.perf_counter()
    code, out = _estimate_in_process('--checkpoint.interval', '1', *length)
    assert time.perf_counter() - t0 < 5 and code == 0
    disk = json.loads(out)['disk']
    assert disk is None or disk['saves'] >= disk['files'] >= 1  # epochs of data not prepared here: no length known

def test_dry_run_of_a_huge_run_and_an_impossible_one(tmp_path, monkeypatch, capsys):
    "`jojo train --dry-run` goes the same way; a budget of 1e300 tokens is one line, exit 2."
    from jojo_nb.cli import main
    monkeypatch.chdir(tmp_path)
    assert main(['train', '--dry-run', '--train.device', 'cpu', '--train.max_steps', '1e10']) == 0
    assert 'steps              10,000,000,000' in capsys.readouterr().out
    assert main(['estimate', '--train.max_steps', '0', '--train.max_tokens', '1e300']) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'train.max_tokens=1e300 must be between 0 and 1e18' in err, err
    assert sorted(x.name for x in tmp_path.iterdir()) == []

def test_jojo_estimate_of_a_huge_run(tmp_path):
    "As users run it: `jojo estimate --train.max_steps 1e10` answers at once (the time is mostly imports)."
    p = run_jojo('estimate', '--train.device', 'cpu', '--train.max_steps', '1e10', cwd=tmp_path, timeout=120)
    assert p.returncode == 0 and 'steps              10,000,000,000' in p.stdout, p.stderr[-2000:]
    assert sorted(x.name for x in tmp_path.iterdir()) == []
