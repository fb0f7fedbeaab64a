"""Runs that heal themselves: torchrun restarts killed or hung workers and they resume from the newest verified
checkpoint; a run (DDP or FSDP) resumes on another number of processes with the same global batches; two torchrun
agents on this machine form a two-node job that survives losing a node. Real torchrun processes, gloo on the CPU."""
import json, os, signal, socket, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import BIN, tiny_args
from jojo_nb.device import child_pids as children
from test_train import data  # noqa: F401  (the module-scoped text fixture)

pytestmark = pytest.mark.slow
ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}

def start(args, cwd, **popen):
    return subprocess.Popen([str(BIN/'jojo'), *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, env=ENV, **popen)

def workers(launcher:int) -> list[int]:
    "The training processes under a `jojo train` launcher: its torchrun agent's children."
    return [w for agent in children(launcher) for w in children(agent)]

def wait_for(cond, timeout=180, what='condition'):
    t = time.time()
    while not cond():
        if time.time() - t > timeout: raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.2)

def steps_of(run) -> list[int]:
    return [r['step'] for r in map(json.loads, (Path(run)/'metrics.jsonl').read_text().splitlines()) if 'loss' in r]

def losses_of(run) -> dict:
    return {r['step']: r['loss'] for r in map(json.loads, (Path(run)/'metrics.jsonl').read_text().splitlines())
            if 'loss' in r}

def checkpoint_step(run) -> int:
    side = Path(run)/'checkpoints'/'latest.json'
    try: return json.loads(side.read_text()).get('step', 0)
    except (OSError, ValueError): return 0

def tiny(data, steps, **over):
    return tiny_args(data, steps=steps, **{'--eval.sample_prompts': '[]', '--checkpoint.interval': 10, **over})

@pytest.mark.parametrize('nproc', [1, 2])
def test_killed_worker_is_restarted_and_resumes(tmp_path, data, nproc):
    p = start(['train', *tiny(data, 60, **{'--train.total_batch_size': 256}), '--nproc', nproc, '--max-restarts', 2,
               '--run-name', 'r'], tmp_path)
    wait_for(lambda: checkpoint_step(tmp_path/'runs/r') >= 10, what='the first checkpoint')
    victims = workers(p.pid)
    assert len(victims) == nproc, victims
    os.kill(victims[-1], signal.SIGKILL)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err[-3000:]
    assert 'resumed from' in err and 'finished at step 60/60' in err, err[-3000:]
    assert steps_of(tmp_path/'runs/r') == list(range(1, 61))  # none repeated, none skipped

def test_restarts_used_up_say_so_in_one_line(tmp_path, data):
    p = start(['train', *tiny(data, 400), '--max-restarts', 1, '--run-name', 'r'], tmp_path)
    killed = set()
    for n in range(2):
        wait_for(lambda: len(set(workers(p.pid)) - killed) == 1 and checkpoint_step(tmp_path/'runs/r') >= 10 * (n + 1),
                 what='a new worker with a checkpoint')
        victim, = set(workers(p.pid)) - killed
        os.kill(victim, signal.SIGKILL); killed.add(victim)
    out, err = p.communicate(timeout=300)
    assert p.returncode != 0
    last = err.strip().splitlines()[-1]
    assert last.startswith('jojo: error: the workers failed 2 times') and '--resume auto' in last, last

def test_hung_rank_ends_the_job_and_it_restarts(tmp_path, data):
    "A rank stopped dead (SIGSTOP) hangs its peer in a collective: the collective times out, the watchdog prints "
    "where each thread stood, torchrun restarts the job and it finishes."
    over = {'--train.total_batch_size': 256, '--train.collective_timeout': 8, '--train.watchdog': 12}
    p = start(['train', *tiny(data, 60, **over), '--nproc', 2, '--max-restarts', 1, '--run-name', 'r'], tmp_path)
    wait_for(lambda: checkpoint_step(tmp_path/'runs/r') >= 10, what='the first checkpoint')
    stopped = workers(p.pid)[-1]
    os.kill(stopped, signal.SIGSTOP)
    try: out, err = p.communicate(timeout=300)
    finally:
        try: os.kill(stopped, signal.SIGKILL)
        except ProcessLookupError: pass
    assert p.returncode == 0, err[-4000:]
    assert 'resumed from' in err and 'finished at step 60/60' in err
    assert ('Timeout (0:00:12)!' in err and 'Thread' in err) or 'timed out' in err.lower() or 'Timed out' in err, err[-4000:]
    assert steps_of(tmp_path/'runs/r') == list(range(1, 61))

def resumed_elsewhere(tmp_path, data, over:dict, then:int) -> list[float]:
    """Loss differences of steps 21-40 between a 2-process run and the same run stopped at step 20 and resumed on
    `then` processes, after checking that it resumed there with the same global batch."""
    whole = start(['train', *tiny(data, 40, **over), '--nproc', 2, '--run-name', 'whole'], tmp_path)
    assert whole.wait(timeout=300) == 0, whole.stderr.read()[-2000:]
    half = start(['train', *tiny(data, 20, **over), '--nproc', 2, '--run-name', 'moved'], tmp_path)
    assert half.wait(timeout=300) == 0, half.stderr.read()[-2000:]
    moved = start(['train', '--run-name', 'moved', '--resume', 'latest', '--train.max_steps', 40, '--nproc', then],
                  tmp_path)
    out, err = moved.communicate(timeout=300)
    assert moved.returncode == 0, err[-2000:]
    accumulation = int(over['--train.total_batch_size']) // (then * 4 * 32)  # tiny: micro-batch 4 x block 32
    assert f'{then} process(es)' in err and f'accumulation {accumulation}' in err and 'resumed from' in err, err[-2000:]
    a, b = losses_of(tmp_path/'runs/whole'), losses_of(tmp_path/'runs/moved')
    assert sorted(b) == list(range(1, 41))
    return [abs(a[s] - b[s]) for s in range(21, 41)]

def test_resume_two_processes_on_one_keeps_the_batches(tmp_path, data):
    over = {'--train.total_batch_size': 256, '--checkpoint.interval': 20, '--optim.schedule': 'constant'}  # same LR
    diffs = resumed_elsewhere(tmp_path, data, over, then=1)
    print(f"steps 21-40, 2 processes against 2 then 1: largest loss difference {max(diffs):.2e}")
    assert max(diffs) < 1e-3, diffs  # the same batches: only the order of float additions differs

def test_resume_on_another_count_needs_a_fixed_batch(tmp_path, data):
    p = start(['train', *tiny(data, 10), '--nproc', 2, '--run-name', 'r'], tmp_path)
    assert p.wait(timeout=300) == 0, p.stderr.read()[-2000:]
    q = start(['train', '--run-name', 'r', '--resume', 'latest', '--train.max_steps', 20], tmp_path)
    out, err = q.communicate(timeout=300)
    assert q.returncode == 2 and 'train.total_batch_size is 0' in err and len(err.strip().splitlines()) <= 3, err

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_two_nodes_survive_losing_one(tmp_path, data):
    """The README's multi-node recipe with both nodes on this machine: node 1 (its torchrun agent and its worker) is
    killed mid-run and started again; the job re-forms, resumes from its last checkpoint and finishes."""
    port, logs = free_port(), []
    env = {**ENV, 'TORCH_DISABLE_SHARE_RDZV_TCP_STORE': '1'}  # as the README says
    def node(n):
        logs.append(open(tmp_path/f'node{n}_{len(logs)}.log', 'w'))  # files, not pipes: nobody reads them meanwhile
        cmd = [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '2', '--nproc-per-node', '1',
               '--rdzv-backend', 'c10d', '--rdzv-endpoint', f'127.0.0.1:{port}', '--rdzv-id', 'jojo-two-nodes',
               '--max-restarts', '3', '-m', 'jojo_nb.train',
               *tiny(data, 300, **{'--train.total_batch_size': 256, '--train.collective_timeout': 20,
                                   '--checkpoint.interval': 20, '--log.console': 'false'}),
               '--run-name', 'r', '--resume', 'auto']
        return subprocess.Popen(cmd, cwd=tmp_path, stdout=logs[-1], stderr=subprocess.STDOUT, start_new_session=True,
                                env=env)
    first = node(0); time.sleep(3); second = node(1)  # the first agent hosts the rendezvous store, as NODE0 does
    agents = [first, second]
    try:
        wait_for(lambda: checkpoint_step(tmp_path/'runs/r') >= 40, timeout=300, what='the job to pass step 40')
        lost = [second.pid, *children(second.pid)]
        for pid in lost: os.kill(pid, signal.SIGKILL)  # node 1 is lost: its agent and its worker
        second.wait(timeout=30)
        time.sleep(2)
        agents.append(node(1))  # ... and started again with the same command
        status = lambda: json.loads((tmp_path/'runs/r/run.json').read_text()).get('status')
        # 'crashed' for a moment when the surviving node's worker fails; the re-formed job then runs to the end
        wait_for(lambda: status() == 'finished' or first.poll() is not None, timeout=600, what='the job to end')
    finally:
        for agent in agents:  # a finished job's agents may wait out torchrun's exit barrier: the job is what is checked
            try: agent.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in [agent.pid, *children(agent.pid)]:
                    try: os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError: pass
                agent.wait(timeout=60)
        for f in logs: f.close()
    said = ''.join(p.read_text() for p in sorted(tmp_path.glob('node*.log')))
    assert status() == 'finished', said[-4000:]
    assert steps_of(tmp_path/'runs/r') == list(range(1, 301)), said[-4000:]  # resumed: none repeated, none skipped
    assert 'resumed from' in said, said[-4000:]

def test_fsdp_run_resumes_on_another_count(tmp_path, data):
    "An FSDP run saved by 2 processes resumes on 4: torch.distributed.checkpoint reshards it, and the batches stay."
    over = {'--train.total_batch_size': 512, '--checkpoint.interval': 20, '--optim.schedule': 'constant',
            '--train.strategy': 'fsdp', '--optim.name': 'adamw'}  # FSDP refuses Muon
    diffs = resumed_elsewhere(tmp_path, data, over, then=4)
    print(f"FSDP steps 21-40, 2 processes against 2 then 4: largest loss difference {max(diffs):.2e}")
    assert max(diffs) < 1e-3, diffs
