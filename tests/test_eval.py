"`jojo eval` end to end: CORE over the offline bundle, saved results, bad bundles, torchrun, lm-eval and bits per byte."
import json, shutil
from pathlib import Path
import pytest
from conftest import run_jojo, train_tiny, SHARED
from test_train import data  # noqa: F401  (the module-scoped text fixture)

BUNDLE = SHARED/'core'
pytestmark = pytest.mark.skipif(not (BUNDLE/'core.yaml').exists(), reason='the offline CORE bundle is not here')

@pytest.fixture(scope='module')
def root(tmp_path_factory, data):
    return train_tiny(tmp_path_factory.mktemp('eval'), data, 20, **{'--model.block_size': 64})

def core(root, *extra):
    return run_jojo('eval', '--checkpoint', 'r', '--core', BUNDLE, '--max-per-task', 3, '--device', 'cpu', *extra,
                    cwd=root)

def test_core_scores_saves_and_reuses(root):
    p = core(root, '--cut-answers')
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout)
    assert out['core_label'] == 'CORE over 20 of 22 tasks' and len(out['core_tasks']) == 20
    assert -1 <= out['core'] <= 1
    assert 'missing: squad, coqa' in p.stderr and 'hellaswag_zeroshot' in p.stderr
    saved = json.loads((root/'runs/r/evals/latest.core.json').read_text())
    assert saved['score'] == out['core'] and saved['settings']['max_per_task'] == 3 and len(saved['sha256']) == 64
    again = core(root, '--cut-answers')
    assert again.returncode == 0 and 'is reused' in again.stderr and json.loads(again.stdout)['core'] == out['core']
    other = core(root, '--cut-answers', '--max-per-task', 2)  # other settings: scored afresh
    assert other.returncode == 0 and 'is reused' not in other.stderr

def test_answers_longer_than_the_context_are_refused(root):
    p = core(root)
    assert p.returncode == 2 and 'Traceback' not in p.stderr
    assert "does not fit the checkpoint's context of 64 tokens" in p.stderr and '--cut-answers' in p.stderr

def bad_bundle(tmp_path, break_it):
    b = tmp_path/'bundle'
    (b/'eval_data/x').mkdir(parents=True)
    (b/'core.yaml').write_text("icl_tasks:\n- label: copa\n  dataset_uri: x/copa.jsonl\n  num_fewshot: [0]\n"
                               "  icl_task_type: multiple_choice\n")
    (b/'eval_meta_data.csv').write_text("Eval Task,Task Category,Task Type,#shots,#datapoints,Random baseline\n"
                                        "copa,commonsense reasoning,multiple choice,0,2,50\n")
    (b/'eval_data/x/copa.jsonl').write_text('{"query": "q", "choices": ["a", "b"], "gold": 0}\n' * 3)
    break_it(b)
    return b

BREAKS = {
    'missing file': (lambda b: (b/'eval_data/x/copa.jsonl').unlink(), "copa's data file"),
    'malformed line': (lambda b: (b/'eval_data/x/copa.jsonl').write_text('{"query": "q", "choices": ["a"], "gold": 0}\n'
                                                                           '{not json\n'), 'copa.jsonl:2: invalid JSON'),
    'missing field': (lambda b: (b/'eval_data/x/copa.jsonl').write_text('{"query": "q"}\n'), 'copa.jsonl:1: a multiple_choice item needs'),
    'unknown type': (lambda b: (b/'core.yaml').write_text((b/'core.yaml').read_text().replace('multiple_choice', 'ranking')),
                     "icl_task_type 'ranking'"),
    'no baseline': (lambda b: (b/'eval_meta_data.csv').write_text('Eval Task,Random baseline\npiqa,50\n'),
                    'no random baseline for task copa'),
    'no core.yaml': (lambda b: (b/'core.yaml').unlink(), 'core.yaml is missing'),
}

@pytest.mark.parametrize('case', BREAKS)
def test_bad_bundles_are_one_line(root, tmp_path, case):
    b = bad_bundle(tmp_path, BREAKS[case][0])
    p = run_jojo('eval', '--checkpoint', 'r', '--core', b, '--device', 'cpu', cwd=root)
    assert p.returncode == 2, (case, p.stderr[-1500:])
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and BREAKS[case][1] in lines[0] and 'Traceback' not in p.stderr, (case, p.stderr)

def test_good_small_bundle_scores(root, tmp_path):
    p = run_jojo('eval', '--checkpoint', 'r', '--core', bad_bundle(tmp_path, lambda b: None), '--device', 'cpu', cwd=root)
    assert p.returncode == 0, p.stderr[-1500:]
    assert json.loads(p.stdout)['core_label'] == 'CORE'  # the bundle's whole suite is one task

@pytest.mark.slow
def test_core_split_across_two_processes_agrees(root):
    one = core(root, '--cut-answers', '--recompute')
    two = core(root, '--cut-answers', '--recompute', '--nproc', 2)
    assert one.returncode == 0 and two.returncode == 0, two.stderr[-2000:]
    a, b = json.loads(one.stdout), json.loads(two.stdout)
    assert abs(a['core'] - b['core']) < 1e-9 and a['core_tasks'] == b['core_tasks']

@pytest.mark.slow
def test_hellaswag_split_across_two_processes_agrees(root):
    hs = SHARED/'hellaswag'/'hellaswag_val_full.jsonl'
    args = ['eval', '--checkpoint', 'r', '--hellaswag', hs, '--limit', 25, '--recompute', '--device', 'cpu']
    one, two = run_jojo(*args, cwd=root), run_jojo(*args, '--nproc', 2, cwd=root)
    assert one.returncode == 0 and two.returncode == 0, two.stderr[-2000:]
    a, b = json.loads(one.stdout), json.loads(two.stdout)
    assert a['hellaswag_n'] == b['hellaswag_n'] == 25  # 13 items on rank 0, 12 on rank 1, summed
    assert (a['hellaswag_acc'], a['hellaswag_acc_norm']) == (b['hellaswag_acc'], b['hellaswag_acc_norm'])

def test_bits_per_byte_in_the_run_and_in_eval(root, data):
    recs = [json.loads(l) for l in (root/'runs/r/metrics.jsonl').read_text().splitlines()]
    val = [r for r in recs if 'val_loss' in r]
    assert val and all(abs(r['val_bpb'] - r['val_loss'] / 0.6931471805599453) < 1e-6 for r in val)  # bytes: 1 token = 1 byte
    p = run_jojo('eval', '--checkpoint', 'r', '--data', data, '--limit', 2, '--device', 'cpu', cwd=root)
    assert p.returncode == 0, p.stderr[-1500:]
    out = json.loads(p.stdout)
    assert out['val_bpb'] > 0 and abs(out['val_bpb'] * 0.6931471805599453 - out['val_loss']) < 1e-6

@pytest.mark.slow
def test_lm_eval_agrees_with_jojo_hellaswag(root, tmp_path):
    pytest.importorskip('lm_eval')
    hs = SHARED/'hellaswag'/'hellaswag_val_full.jsonl'
    from jojo_nb.lm_eval_adapter import hellaswag_yaml
    (tmp_path/'hellaswag_local.yaml').write_text(hellaswag_yaml(hs))
    env = {'HF_DATASETS_OFFLINE': '1', 'HF_HOME': str(tmp_path/'hf')}
    ours = run_jojo('eval', '--checkpoint', 'r', '--hellaswag', hs, '--limit', 30, '--device', 'cpu', cwd=root, env=env)
    theirs = run_jojo('eval', '--checkpoint', 'r', '--lm-eval', 'hellaswag_local', '--lm-eval-include', tmp_path,
                      '--limit', 30, '--device', 'cpu', cwd=root, env=env)
    assert ours.returncode == 0 and theirs.returncode == 0, theirs.stderr[-2000:]
    a, b = json.loads(ours.stdout), json.loads(theirs.stdout)['lm_eval']['hellaswag_local']
    print(f"jojo acc_norm {a['hellaswag_acc_norm']}, lm-eval acc_norm {b['acc_norm']}")
    assert abs(a['hellaswag_acc_norm'] - b['acc_norm']) < 1e-6 and abs(a['hellaswag_acc'] - b['acc']) < 1e-6

def test_lm_eval_unknown_task_is_one_line(root):
    pytest.importorskip('lm_eval')
    p = run_jojo('eval', '--checkpoint', 'r', '--lm-eval', 'no_such_task_xyz', '--device', 'cpu', cwd=root)
    assert p.returncode == 2 and "unknown task 'no_such_task_xyz'" in p.stderr and 'Traceback' not in p.stderr
