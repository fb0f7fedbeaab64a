"`jojo estimate` and `jojo train --dry-run` as a user runs them, and the forecast against a real run."
import json
import pytest, torch
from conftest import run_jojo
from jojo_nb.config import load_config
from jojo_nb.estimate import estimate, folder_bytes

# a short tiny-cpu run with evaluations, samples and rotated checkpoints: about 4 s on an idle 2-core CPU
SHORT = ['--train.device', 'cpu', '--train.max_steps', '60', '--optim.warmup_steps', '10', '--eval.interval', '20',
         '--eval.iters', '5', '--eval.sample_tokens', '32', '--checkpoint.interval', '20', '--checkpoint.keep', '2',
         '--log.tensorboard', 'false']

def forecast(*args, cwd=None) -> dict:
    p = run_jojo('estimate', '--json', *args, cwd=cwd)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)

def state_bytes(path, key) -> int:
    "Bytes of the tensors under `key` of a checkpoint (each storage once: the tied head is the embedding)."
    st = torch.load(path, weights_only=True)[key]
    optimizers = st.get('optimizers', [st])  # Muon + AdamW save one state dict each
    tensors = list(st.values()) if key == 'model' else \
        [t for o in optimizers for s in o['state'].values() for t in s.values() if torch.is_tensor(t)]
    return sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}.values())

@pytest.mark.slow
def test_forecast_against_a_real_run(tmp_path):
    "The --measure forecast of a short tiny-cpu run against the run itself: time, memory and disk within 25%."
    est = forecast('--measure', *SHORT, cwd=tmp_path)
    p = run_jojo('train', *SHORT, '--run-name', 'r', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    run = tmp_path/'runs'/'r'
    elapsed = json.loads((run/'checkpoints'/'latest.json').read_text())['elapsed_s']  # the loop, before the last save
    t, mem, disk = est['duration'], est['memory']['replicated'], est['disk']
    assert t['source'] == 'measured' and (t['evaluations'], t['saves']) == (3, 3)
    latest = run/'checkpoints'/'latest.pt'
    assert abs(mem['weights'] / state_bytes(latest, 'model') - 1) < 0.01
    assert abs(mem['optimizer'] / state_bytes(latest, 'optimizer') - 1) < 0.01
    assert abs(mem['activations'] / est['measured']['saved_tensor_bytes'] - 1) < 0.25
    process = est['measured']['process_peak_bytes']  # the measuring process, a real Trainer in it
    assert mem['total'] < process < mem['total'] + (768 << 20)  # Python and torch take a few hundred MiB more
    formula = estimate(load_config(overrides=SHORT))['disk']['checkpoint_bytes']  # without --measure
    assert abs(formula / latest.stat().st_size - 1) < 0.01
    assert (disk['files'], disk['saves']) == (2, 3)  # keep 2: the last two saves, which are latest and its backup
    assert abs(disk['bytes'] / folder_bytes(run) - 1) < 0.25, (disk['bytes'], folder_bytes(run))
    # A shared host runs whole minutes at one speed and then at another (43 against 58 ms a step here), so the run is
    # forecast once before it and once after: it must match the forecast made at its own speed within 25%.
    again = forecast('--measure', *SHORT, cwd=tmp_path)['duration']['total_s']
    forecasts = (t['total_s'], again)
    print(f"forecasts {forecasts[0]:.2f} s and {forecasts[1]:.2f} s, run {elapsed:.1f} s")
    assert min(abs(f / elapsed - 1) for f in forecasts) < 0.25, (forecasts, elapsed)

def test_json_keys_and_both_memory_layouts(tmp_path):
    est = forecast('--nproc', '2', '--train.device', 'cpu', '--train.max_steps', '300', cwd=tmp_path)
    assert {'preset', 'device', 'dtype', 'nproc', 'strategy', 'model', 'batch', 'memory', 'disk', 'duration',
            'measured'} <= set(est)
    assert {'total', 'non_embedding', 'flops_per_token', 'vocab_size'} <= set(est['model'])
    assert {'grad_accum', 'tokens_per_step', 'max_steps', 'tokens'} <= set(est['batch'])
    assert {'checkpoint_bytes', 'files', 'bytes', 'peak_bytes'} <= set(est['disk'])
    rep, fsdp = est['memory']['replicated'], est['memory']['fsdp']
    assert est['memory']['used'] == 'replicated' and fsdp['optimizer'] == rep['optimizer'] // 2
    assert rep['activations'] == fsdp['activations'] and rep['ddp_buckets'] == rep['gradients']
    assert est['batch']['tokens'] == 300 * 2 * 12 * 64 and est['measured'] is None
    assert est['duration']['source'] is None and '--measure' in est['duration']['note']  # a CPU has no known peak

def test_planning_a_gpu_run_here(tmp_path):
    "A GPU run planned on a machine without one: memory by the formulas, duration from the stated peak at 40% MFU."
    est = forecast('--preset', 'gpt2-xl', '--train.device', 'cuda', '--train.peak_tflops', '989', '--nproc', '8',
                   '--train.strategy', 'fsdp', '--eval.hellaswag', 'false', cwd=tmp_path)
    assert abs(est['model']['total'] / 1.558e9 - 1) < 0.01 and est['dtype'] == 'bfloat16'
    mem = est['memory']
    assert mem['used'] == 'fsdp' and mem['fsdp']['total'] < mem['replicated']['total']
    assert (est['duration']['source'], est['duration']['mfu']) == ('peak', 0.4)
    assert est['disk']['files'] == 10  # 38 sharded saves, the newest 10 kept

def test_text_report(tmp_path):
    p = run_jojo('estimate', '--train.device', 'cpu', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    for line in ('parameters       918.9K', 'tokens per step    768', 'activations', 'files kept', 'free here',
                 'duration: no known peak FLOP/s for cpu; --measure times real steps here'):
        assert line in p.stdout, p.stdout

@pytest.mark.parametrize('args,says', [(['--preset', 'gtp2'], "did you mean gpt2?"),
                                       (['--model.n_layer', '0'], 'model.n_layer=0 must be positive'),
                                       (['--train.device', 'gpu'], "train.device='gpu'"),
                                       (['--nproc', 'many'], '--nproc many')])
def test_bad_input_is_one_line(tmp_path, args, says):
    p = run_jojo('estimate', *args, cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ''
    assert p.stderr.startswith('jojo: error:') and says in p.stderr and p.stderr.count('\n') == 1, p.stderr

def test_dry_run_starts_nothing(tmp_path):
    "`jojo train --dry-run` prints the forecast and writes no run folder, no prepared data, no lock."
    cache = tmp_path/'cache'
    p = run_jojo('train', '--dry-run', '--run-name', 'x', '--train.max_steps', '500', cwd=tmp_path,
                 env={'JOJO_CACHE_DIR': str(cache)})
    assert p.returncode == 0, p.stderr
    assert 'jojo estimate: tiny-cpu' in p.stdout and 'steps              500' in p.stdout
    assert sorted(x.name for x in tmp_path.iterdir()) == []
