"Logging to Weights & Biases in its offline mode: the run's files read back, history keys, values and config checked."
import json, struct
from pathlib import Path
import pytest
from jojo_nb.config import load_config
from jojo_nb.metrics import MetricsLogger
from jojo_nb.runs import RunDir

wandb_pb = pytest.importorskip('wandb.proto.wandb_internal_pb2')

def wandb_records(path):
    "The records of a W&B transaction log (`run-ID.wandb`): a 7-byte header, then LevelDB-log chunks in 32 KiB blocks."
    data = Path(path).read_bytes()
    assert data[:4] == b':W&B', data[:8]
    pos, block, buf = 7, 32768, b''
    while pos + 7 <= len(data):
        if block - pos % block < 7: pos += block - pos % block; continue  # a block's tail too short for a header
        length, kind = struct.unpack_from('<HB', data, pos + 4)
        buf += data[pos + 7:pos + 7 + length]; pos += 7 + length
        if kind in (1, 4):  # FULL, or the LAST chunk of a record
            r = wandb_pb.Record(); r.ParseFromString(buf); buf = b''
            yield r

def history(run_dir) -> dict:
    "`{step: {key: value}}` of every W&B run under `run_dir`, and the config of the last one."
    steps, config = {}, {}
    for f in sorted(Path(run_dir).glob('wandb/offline-run-*/run-*.wandb')):
        for r in wandb_records(f):
            kind = r.WhichOneof('record_type')
            if kind == 'history':
                row = {i.key or '/'.join(i.nested_key): json.loads(i.value_json) for i in r.history.item}
                steps.setdefault(r.history.step.num, {}).update({k: v for k, v in row.items() if not k.startswith('_')})
            elif kind == 'run':
                config = {i.key: json.loads(i.value_json) for i in r.run.config.update}
    return steps, config

def started_run(root, wandb:bool) -> RunDir:
    rd = RunDir(root/'wb')
    overrides = {'log.wandb': str(wandb).lower(), 'log.wandb_project': 'jojo-test', 'train.max_steps': '4',
                 'optim.warmup_steps': '1'}
    rd.start(load_config(preset='tiny-cpu', overrides=overrides))
    return rd

@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv('WANDB_MODE', 'offline')
    monkeypatch.setenv('WANDB_SILENT', 'true')
    monkeypatch.setenv('WANDB_CONFIG_DIR', str(tmp_path/'wandb-config'))
    monkeypatch.setenv('WANDB_CACHE_DIR', str(tmp_path/'wandb-cache'))
    return tmp_path

def test_wandb_gets_the_panels_of_nanogpt_users_and_the_config(offline):
    rd = started_run(offline, wandb=True)
    ml = MetricsLogger(rd, tensorboard=False)  # log.wandb comes from the run's config.json
    for s in range(1, 5):
        ml.log(dict(step=s, tokens=s * 64, loss=4.0 - s / 2, lr=1e-3 * s, dt_ms=12.5, mfu=0.25, grad_norm=float('nan')))
    ml.log(dict(step=4, val_loss=3.2, val_bpb=1.25, core=0.125, core_tasks={'hellaswag': 0.25, 'arc_easy': -0.0625}))
    ml.close()
    steps, config = history(rd.path)
    assert sorted(steps) == [1, 2, 3, 4], steps
    assert steps[2] == {'train/loss': 3.0, 'train/lr': 2e-3, 'train/iter': 2, 'train/dt_ms': 12.5, 'train/mfu': 0.25}
    assert {k: steps[4][k] for k in ('train/loss', 'eval/val_loss', 'eval/val_bpb', 'eval/core', 'eval/core/hellaswag',
                                     'eval/core/arc_easy')} == {
        'train/loss': 2.0, 'eval/val_loss': 3.2, 'eval/val_bpb': 1.25, 'eval/core': 0.125, 'eval/core/hellaswag': 0.25,
        'eval/core/arc_easy': -0.0625}
    assert not any('grad_norm' in k for row in steps.values() for k in row)  # NaN is not logged
    assert config['train']['max_steps'] == 4 and config['log']['wandb'] is True, config

def test_a_resumed_run_continues_its_wandb_run(offline):
    rd = started_run(offline, wandb=True)
    ml = MetricsLogger(rd, tensorboard=False)
    ml.log(dict(step=1, loss=3.0)); ml.close()
    first = rd.status()['wandb_id']
    ml = MetricsLogger(rd, tensorboard=False, resume_step=1)
    ml.log(dict(step=2, loss=2.5)); ml.close()
    assert rd.status()['wandb_id'] == first
    assert {f.name for f in rd.path.glob('wandb/offline-run-*/run-*.wandb')} == {f'run-{first}.wandb'}
    assert history(rd.path)[0] == {1: {'train/loss': 3.0, 'train/iter': 1}, 2: {'train/loss': 2.5, 'train/iter': 2}}

def test_no_wandb_unless_asked(offline):
    rd = started_run(offline, wandb=False)
    ml = MetricsLogger(rd, tensorboard=False)
    ml.log(dict(step=1, loss=3.0)); ml.close()
    assert ml.wb is None and not (rd.path/'wandb').exists() and 'wandb_id' not in rd.status()
