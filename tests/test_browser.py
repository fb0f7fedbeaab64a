"The widgets in a real browser: JupyterLab on 127.0.0.1, driven in Debian's headless Chromium by playwright."
import json, math, os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest
from conftest import ROOT, BIN

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
NO_CHROMIUM = 'Debian chromium is not installed (.ci/run installs it)'
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=NO_CHROMIUM)]
ARTIFACTS = ROOT/'test-artifacts'

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def notebook(path, *sources):
    cells = [{'cell_type': 'code', 'metadata': {}, 'execution_count': None, 'outputs': [], 'source': s}
             for s in sources]
    kernel = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    path.write_text(json.dumps({'cells': cells, 'metadata': {'kernelspec': kernel},
                                'nbformat': 4, 'nbformat_minor': 5}))

def finished_run(root, name='finished-run', steps=120):
    from jojo_nb.runs import RunDir
    from jojo_nb.metrics import MetricsLogger
    from jojo_nb.config import load_config
    rd = RunDir(root/'runs'/name)
    rd.start(load_config(preset='tiny-cpu', overrides={'train.max_steps': str(steps), 'optim.warmup_steps': '5'}))
    ml = MetricsLogger(rd, tensorboard=False)
    for s in range(1, steps + 1):
        ml.log(dict(step=s, tokens=s * 1024, loss=2 + 8 * math.exp(-s / 30), lr=1e-3, grad_norm=1.0, dt_ms=10.0,
                    tokens_per_sec=1e5, mfu=None))
        if s % 40 == 0:
            ml.log(dict(step=s, val_loss=2.3 + 8 * math.exp(-s / 30), accuracy=0.3))
            ml.sample(s, 'ROMEO:', ' What light through yonder window breaks?')
    ml.close(); rd.finish()

@pytest.fixture
def lab(tmp_path):
    port, token = free_port(), 'jojo-test-token'
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(tmp_path/'.jupyter'),
           'JUPYTER_RUNTIME_DIR': str(tmp_path/'.runtime'), 'MPLBACKEND': 'Agg'}
    proc = subprocess.Popen([str(BIN/'jupyter'), 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={tmp_path}',
                             '--ServerApp.disable_check_xsrf=True', '--allow-root', '--LabApp.news_url=',
                             '--LabApp.collaborative=False'],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path/'lab.log', 'w'))
    url = f'http://127.0.0.1:{port}'
    for _ in range(120):
        try:
            urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2); break
        except OSError: time.sleep(0.5)
    else:
        proc.terminate(); pytest.fail('JupyterLab did not start: ' + (tmp_path/'lab.log').read_text()[-2000:])
    yield url, token, tmp_path
    proc.terminate()
    try: proc.wait(10)
    except subprocess.TimeoutExpired: proc.kill()

def run_notebook_in_browser(url, token, name, shot, wait_for):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                                          '--disable-component-update', '--disable-sync', '--no-first-run',
                                          '--disable-quic'])
        page = browser.new_page(viewport={'width': 1400, 'height': 1100})
        try:
            page.goto(f'{url}/lab/tree/{name}?token={token}', timeout=120_000)
            page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=120_000)
            kernel_shown = ("() => document.querySelector('.jp-Notebook-ExecutionIndicator, .jp-Toolbar-kernelStatus')"
                            " !== null")
            page.wait_for_function(kernel_shown, timeout=60_000)
            time.sleep(2)  # let the kernel come up
            page.click('.jp-Notebook .jp-Cell .jp-InputArea-editor')
            page.keyboard.press('Escape')
            for _ in page.query_selector_all('.jp-Notebook .jp-CodeCell'): page.keyboard.press('Shift+Enter')
            page.wait_for_selector(wait_for, timeout=180_000)
            time.sleep(1)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS/shot), full_page=True)
            return page.evaluate("""() => {
                const all = sel => [...document.querySelectorAll(sel)];
                const out = document.querySelector('.jp-OutputArea-output');
                return {
                    options: all('.widget-select-multiple select option, .widget-select select option')
                        .map(o => o.textContent),
                    images: all('.jp-OutputArea-output img').map(i => [i.naturalWidth, i.naturalHeight]),
                    text: out ? out.innerText : ''};
            }""")
        finally:
            browser.close()

def test_run_monitor_renders_in_jupyterlab(lab):
    url, token, root = lab
    finished_run(root)
    notebook(root/'monitor.ipynb', "from jojo_nb.monitor import RunMonitor\nRunMonitor('runs')")
    got = run_notebook_in_browser(url, token, 'monitor.ipynb', 'run_monitor.png', '.jp-OutputArea-output img')
    assert 'finished-run' in got['options'], got
    assert any(w > 300 and h > 200 for w, h in got['images']), got['images']
    assert 'finished' in got['text'] and '120/120' in got['text'], got['text'][:500]

def test_checkpoint_comparer_renders_in_jupyterlab(lab):
    from test_compare import train_two_runs
    url, token, root = lab
    train_two_runs(root)
    notebook(root/'compare.ipynb', "from jojo_nb.compare import CheckpointComparer\n"
                                   "CheckpointComparer('runs', ['a', 'b'], prompt='ROMEO:', max_new_tokens=24)")
    got = run_notebook_in_browser(url, token, 'compare.ipynb', 'checkpoint_comparer.png', '.jp-OutputArea-output img')
    assert {'a:latest', 'b:latest', 'a:step_0000015'} <= set(got['options']), got['options']
    assert any(w > 400 and h > 100 for w, h in got['images']), got['images']  # the weight-change heatmap
    for expected in ('config diff', 'optim.lr', 'loss on one fixed batch', 'generations', 'ROMEO:'):
        assert expected in got['text'], (expected, got['text'][:800])
