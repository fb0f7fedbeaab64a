"The widgets in a real browser: JupyterLab on 127.0.0.1, driven in Debian's headless Chromium by playwright."
import contextlib, json, math, os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest
from conftest import ROOT, BIN

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
NO_CHROMIUM = 'Debian chromium is not installed (.ci/run installs it)'
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=NO_CHROMIUM)]
ARTIFACTS = ROOT/'test-artifacts'
WIDTHS = (1600, 1100)  # a wide window, and a narrow one with the file browser open

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def notebook(path, *sources):
    cells = [{'cell_type': 'code', 'metadata': {}, 'execution_count': None, 'outputs': [], 'source': s}
             for s in sources]
    kernel = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    path.write_text(json.dumps({'cells': cells, 'metadata': {'kernelspec': kernel},
                                'nbformat': 4, 'nbformat_minor': 5}))

def write_run(root, name, steps=120, running=False, noise=0.0):
    "A run as the trainer writes it (config, run.json, metrics, samples); `running` leaves it open for more."
    from jojo_nb.runs import RunDir
    from jojo_nb.metrics import MetricsLogger
    from jojo_nb.config import load_config
    rd = RunDir(root/'runs'/name)
    rd.start(load_config(preset='tiny-cpu', overrides={'train.max_steps': str(steps), 'optim.warmup_steps': '5'}))
    ml = MetricsLogger(rd, tensorboard=False)
    for s in range(1, (steps // 2 if running else steps) + 1):
        ml.log(dict(step=s, tokens=s * 1024, loss=2 + 8 * math.exp(-s / 30) + noise * math.sin(s), lr=1e-3,
                    grad_norm=1.0, dt_ms=10.0, tokens_per_sec=1e5, mfu=None))
        if s % 40 == 0:
            ml.log(dict(step=s, val_loss=2.3 + 8 * math.exp(-s / 30), accuracy=0.3))
            ml.sample(s, 'ROMEO:', f' What light through yonder window breaks?\nJULIET:\n  Ay me! (step {s})')
    ml.close()
    if not running: rd.finish()
    return rd

def start_training(root, name='live', steps=300):
    "A real tiny run (`jojo train`, bytes of a play) in the background, and once it has begun."
    from test_compare import TEXT
    (root/'play.txt').write_text(TEXT)
    proc = subprocess.Popen([str(BIN/'jojo'), 'train', '--run-name', name, '--data.dataset', 'play.txt',
                             '--data.tokenizer', 'bytes', '--data.split', 'tail', '--model.n_layer', '2',
                             '--model.n_head', '2', '--model.n_embd', '32', '--model.block_size', '32',
                             '--train.micro_batch_size', '4', '--train.max_steps', str(steps),
                             '--optim.warmup_steps', '10',
                             '--eval.interval', '100', '--eval.iters', '2', '--eval.sample_tokens', '120',
                             '--checkpoint.interval', '1000', '--log.tensorboard', 'false', '--log.console', 'false'],
                            cwd=root, stdout=subprocess.DEVNULL, stderr=open(root/'train.log', 'w'))
    while not (root/'runs'/name/'metrics.jsonl').exists():
        assert proc.poll() is None, (root/'train.log').read_text()[-2000:]
        time.sleep(0.2)
    return proc

@contextlib.contextmanager
def jupyter_lab(folder:Path):
    "JupyterLab serving `folder` on a free port of 127.0.0.1: yields `(url, token)`, stopped after."
    port, token = free_port(), 'jojo-test-token'
    env = {k: v for k, v in os.environ.items() if k != 'MPLBACKEND'}  # the kernel plots inline, as for a user
    env.update(JUPYTER_CONFIG_DIR=str(folder/'.jupyter'), JUPYTER_RUNTIME_DIR=str(folder/'.runtime'))
    (folder/'.jupyter'/'labconfig').mkdir(parents=True, exist_ok=True)  # no "get notified about Jupyter news?"
    (folder/'.jupyter'/'labconfig'/'page_config.json').write_text(
        json.dumps({'disabledExtensions': {'@jupyterlab/apputils-extension:announcements': True}}))
    proc = subprocess.Popen([str(BIN/'jupyter'), 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={folder}',
                             '--ServerApp.disable_check_xsrf=True', '--allow-root', '--LabApp.news_url=',
                             '--LabApp.collaborative=False'],
                            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=open(folder/'lab.log', 'w'))
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2); break
            except OSError: time.sleep(0.5)
        else: raise RuntimeError('JupyterLab did not start: ' + (folder/'lab.log').read_text()[-2000:])
        yield url, token
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()

@pytest.fixture
def lab(tmp_path):
    with jupyter_lab(tmp_path) as (url, token): yield url, token, tmp_path

STATE = """() => {
    const all = (sel, root) => [...(root || document).querySelectorAll(sel)];
    return all('.jp-Notebook .jp-CodeCell').map(cell => ({
        text: all('.jp-OutputArea-output', cell).map(o => o.innerText).join('\\n'),
        content: all('.jp-OutputArea-output', cell).map(o => o.textContent).join('\\n'),  // also what is scrolled away
        options: all('.widget-select-multiple select', cell).slice(0, 1).flatMap(s => all('option', s))
            .map(o => o.textContent.replace(/\u00a0/g, ' ')),  // the first menu's: the runs, the checkpoints
        menus: all('.widget-select-multiple select', cell).map(s => all('option', s).map(o => o.textContent)),
        images: all('.jp-OutputArea-output img', cell).map(i => [i.naturalWidth, i.naturalHeight, i.complete]),
        plots: all('.js-plotly-plot .nsewdrag', cell).map(p => [p.getBoundingClientRect().width,
                                                                p.getBoundingClientRect().height,
                                                                p.getBoundingClientRect().top]),  // each panel's area
        titles: all('.js-plotly-plot .annotation-text', cell).map(t => t.textContent),
        toolbar: all('.js-plotly-plot .modebar-btn', cell).map(b => b.getAttribute('data-title')),
        legends: all('.js-plotly-plot', cell).map(p => all('.legend .traces', p).map(t => t.textContent)),
        checkboxes: Object.fromEntries(all('.widget-checkbox', cell)
            .map(c => [c.innerText.trim(), c.querySelector('input').checked])),
        disabled: all('button', cell).filter(b => b.disabled).map(b => b.innerText.trim()),
    }));
}"""

class Notebook:
    "A notebook opened in JupyterLab in headless Chromium, its cells run one after the other."
    def __init__(self, p, url, token, name, width=WIDTHS[0], on_page=None):
        self.browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                                               '--disable-component-update', '--disable-sync', '--no-first-run',
                                               '--disable-quic'])
        self.page = page = self.browser.new_page(viewport={'width': width, 'height': 1100})
        if on_page: on_page(page)  # e.g. listeners that must see the page from its start
        page.goto(f'{url}/lab/tree/{name}?token={token}', timeout=120_000)
        page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=120_000)
        page.wait_for_function("() => document.querySelector('.jp-Notebook-ExecutionIndicator, .jp-Toolbar-kernelStatus')"
                               " !== null", timeout=60_000)
        page.wait_for_function("() => document.querySelector('.jp-Notebook-ExecutionIndicator[data-status=\"idle\"],"
                               " .jp-Toolbar-kernelStatus') !== null", timeout=60_000)
        time.sleep(2)  # let the kernel come up
        page.click('.jp-Notebook .jp-Cell .jp-InputArea-editor')
        page.keyboard.press('Escape')

    def run_cell(self): self.page.keyboard.press('Shift+Enter')
    def state(self) -> list[dict]: return self.page.evaluate(STATE)
    def wait(self, js:str, timeout=180):
        "Wait until `js` is true; on a timeout, a screenshot and the cells' outputs say where it stood."
        from playwright.sync_api import TimeoutError
        try: self.page.wait_for_function(js, timeout=timeout * 1000, polling=50)
        except TimeoutError:
            ARTIFACTS.mkdir(exist_ok=True)
            self.page.screenshot(path=str(ARTIFACTS/'timeout.png'))
            outputs = [c['text'][:300] for c in self.state()]
            raise AssertionError(f"timed out waiting for {js}; outputs: {outputs}") from None

    def shoot(self, name:str, cell:int|None=None):
        "Screenshots at both widths, the file browser open in the narrow one; the `cell`'s output alone too."
        ARTIFACTS.mkdir(exist_ok=True)
        for width in WIDTHS:
            self.page.set_viewport_size({'width': width, 'height': 1100})
            if width < 1500 and not self.page.is_visible('.jp-FileBrowser'): self.page.click('[data-id="filebrowser"]')
            time.sleep(1.5)
            self.page.screenshot(path=str(ARTIFACTS/f'{name}_{width}.png'))
            if cell is not None:  # the widget whole: a window tall enough to hold it
                self.page.set_viewport_size({'width': width, 'height': 2600})
                out = self.page.locator('.jp-Notebook .jp-CodeCell').nth(cell).locator('.jp-OutputArea-output').first
                out.scroll_into_view_if_needed(); time.sleep(1)
                out.screenshot(path=str(ARTIFACTS/f'{name}_widget_{width}.png'))
        return self.state()

    def close(self): self.browser.close()

def cell_done(i:int, text:str='') -> str:
    "JS: the cell `i` has an output containing `text`."
    return (f"() => {{ const c = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[{i}]; "
            f"return c && [...c.querySelectorAll('.jp-OutputArea-output')]"
            f".some(o => o.innerText.includes({json.dumps(text)})); }}")

USER_PLOT = ("import matplotlib, matplotlib.pyplot as plt\nplt.plot([1, 3, 2]); plt.show()\n"
             "print('backend', matplotlib.get_backend())")
LIVE_OFF = """() => { const c = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[2];
    const box = [...c.querySelectorAll('.widget-checkbox')].find(b => b.innerText.trim() === 'live');
    return box && !box.querySelector('input').checked; }"""
LONG_NAME = 'a-run-with-a-rather-long-name-that-would-wrap'
LIVE_FINISHED = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')[2].querySelectorAll('.jojo-runs tr')]
    .some(r => r.children[1] && r.children[1].textContent === 'live' && r.children[2].textContent === 'finished')"""


def test_run_monitor_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright
    url, token, root = lab
    for name in ('first-run', 'same-as-first-run', LONG_NAME):
        write_run(root, name, noise=0.3 if name == LONG_NAME else 0.0)
    notebook(root/'monitor.ipynb',
             "from jojo_nb.monitor import RunMonitor\n"
             f"RunMonitor('runs', runs=['first-run', 'same-as-first-run', {LONG_NAME!r}])",
             USER_PLOT,
             "RunMonitor('runs/live', interval=1, live=True)")
    with sync_playwright() as p:
        console = []
        nb = Notebook(p, url, token, 'monitor.ipynb', on_page=lambda page: page.on('console', lambda m: console.append(m)))
        try:
            nb.run_cell(); nb.wait(cell_done(0, 'finished'))
            nb.wait("() => document.querySelectorAll('.js-plotly-plot .legend .traces').length >= 3")
            nb.run_cell(); nb.wait(cell_done(1, 'backend'))
            training = start_training(root)
            nb.run_cell(); nb.wait(cell_done(2, 'running'))
            assert nb.state()[2]['checkboxes']['live'], nb.state()[2]['checkboxes']
            nb.wait(cell_done(2, '300/300'), timeout=300)  # the table has a row for each run: the live one's
            assert training.wait(60) == 0, (root/'train.log').read_text()[-2000:]
            nb.wait(LIVE_FINISHED, timeout=20)
            nb.wait(LIVE_OFF, timeout=15)  # it turned itself off at its refresh after the run finished
            live_cell = nb.state()[2]
            # hover over the loss panel: the values of every run at that step
            loss = nb.page.locator('.jp-Notebook .jp-CodeCell').nth(0).locator('.js-plotly-plot').first
            loss.scroll_into_view_if_needed()
            box = loss.locator('.nsewdrag').first.bounding_box()
            nb.page.mouse.move(box['x'] + box['width'] * 0.5, box['y'] + box['height'] * 0.5)
            nb.wait("() => document.querySelectorAll('.hoverlayer text').length > 0", timeout=20)
            hover = nb.page.evaluate("() => [...document.querySelectorAll('.hoverlayer text')]"
                                     ".map(t => t.textContent).join(' | ')")
            nb.page.mouse.move(5, 5)
            monitor, user_plot = nb.shoot('run_monitor', cell=0)[:2]
            nb.shoot('live_run_monitor', cell=2)
            nb.page.set_viewport_size({'width': WIDTHS[0], 'height': 1100})
            legend = nb.page.locator('.jp-Notebook .jp-CodeCell').nth(0).locator('.legend .traces .legendtoggle').first
            def click_legend():
                legend.scroll_into_view_if_needed(); box = legend.bounding_box()
                nb.page.mouse.click(box['x'] + 10, box['y'] + box['height'] / 2)
            click_legend()  # hides first-run in every panel
            nb.wait(f"() => {{ const gd = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[0]"
                    f".querySelector('.js-plotly-plot'); const mine = gd.data.filter(t => t.legendgroup === 'first-run');"
                    f" return mine.length > 3 && mine.every(t => t.visible === 'legendonly'); }}", timeout=20)
            time.sleep(1)  # not a double click, which would show first-run alone
            click_legend()
            nb.wait(f"() => document.querySelectorAll('.jp-Notebook .jp-CodeCell')[0].querySelector('.js-plotly-plot')"
                    f".data.every(t => t.visible !== 'legendonly')", timeout=20)
            menu = nb.page.locator('.jp-Notebook .jp-CodeCell').nth(0).locator('.widget-select-multiple select').nth(1)
            menu.select_option(label=['loss (train, val dashed)', 'val loss (nats/token)'])  # a metric picked from the menu of every logged number
            nb.wait("() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')[0]"
                    ".querySelectorAll('.annotation-text')].some(t => t.textContent.startsWith('val loss'))", timeout=60)
            picked = nb.shoot('monitor_picked_metric', cell=0)[0]
            group = nb.page.locator('.jp-Notebook .jp-CodeCell').nth(0).locator('.widget-checkbox', has_text='group')
            group.locator('input').check()  # the three runs have one config: one group
            nb.wait("() => document.querySelectorAll('.jp-Notebook .jp-CodeCell')[0].querySelector('.legend')"
                    ".textContent.includes('seeds)')", timeout=60)
            grouped = nb.shoot('monitor_grouped', cell=0)[0]
        finally: nb.close()
    assert sorted(monitor['options']) == [LONG_NAME, 'first-run', 'same-as-first-run'], monitor['options']  # by start time
    assert 'finished' in monitor['text'] and '120/120' in monitor['text'], monitor['text'][:500]
    assert 'MFU' not in ' '.join(monitor['titles']) and 'loss' in monitor['titles'][0], monitor['titles']
    assert monitor['toolbar'] and not any('Chart Studio' in t or 'cloud' in t.lower() or 'plotly' in t.lower()
                                          for t in monitor['toolbar']), monitor['toolbar']
    assert not [m.text for m in console if 'Failed to initialize' in m.text], [m.text for m in console][:5]
    assert picked['titles'] == ['loss (train, val dashed)', 'val loss (nats/token)'], picked['titles']
    assert any('+2 (3 seeds)' in e for e in grouped['legends'][0]), grouped['legends']
    assert len(monitor['legends'][0]) == 3, monitor['legends'][0]  # one entry per run: its lines and markers together
    first, twin, long = monitor['legends'][0]
    assert (first, twin) == ('first-run', 'same-as-first-run (= first-run)'), monitor['legends']
    assert long.startswith('a-run-wit') and long.endswith('would-wrap') and '…' in long and len(long) <= 20, long
    for name in ('first-run', 'same-as-first-run', 'a-run-wit'): assert name in hover, hover
    assert all(w >= 350 and h >= 200 for w, h, _ in monitor['plots']), monitor['plots']  # readable at 1100 px: wrapped
    assert len({round(top) for *_, top in monitor['plots']}) > 1, monitor['plots']
    assert 'JULIET:\n  Ay me!' in monitor['text'], monitor['text']  # samples keep their line breaks
    assert user_plot['images'] and all(w > 100 and done for w, _, done in user_plot['images']), user_plot
    assert 'backend agg' not in user_plot['text'].lower(), user_plot['text']
    assert 'live' in live_cell['options'], live_cell['options']
    assert 'finished' in live_cell['text'] and '300/300' in live_cell['text'], live_cell['text']
    assert 'step 300' in live_cell['content'] and 'ROMEO:' in live_cell['content'], live_cell['content']  # its samples
    assert len(live_cell['plots']) >= 1

def test_checkpoint_comparer_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright
    from test_compare import train_two_runs
    url, token, root = lab
    train_two_runs(root, [('a', '1e-3', 'bytes'), ('b', '1e-2', 'bytes'), ('g', '2e-3', 'gpt2')])
    notebook(root/'compare.ipynb',
             "from jojo_nb.compare import CheckpointComparer\n"
             "CheckpointComparer('runs', ['a:best', 'g'], prompt='ROMEO:', max_new_tokens=16)",
             USER_PLOT,
             "CheckpointComparer('runs', ['a:latest', 'a:step_0000015', 'b'], prompt='ROMEO:', max_new_tokens=24)")
    with sync_playwright() as p:
        nb = Notebook(p, url, token, 'compare.ipynb')
        try:
            nb.run_cell()
            nb.wait(cell_done(0, 'computing:'), timeout=120)  # it shows that it works...
            busy = nb.state()[0]
            nb.wait(cell_done(0, 'results computed'))
            nb.run_cell(); nb.wait(cell_done(1, 'backend'))
            nb.run_cell(); nb.wait(cell_done(2, 'results computed'))
            nb.wait("() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')[2].querySelectorAll('img')]"
                    ".some(i => i.naturalWidth > 400)", timeout=30)
            across, user_plot, one_run = nb.shoot('checkpoint_comparer', cell=2)[:3]
        finally: nb.close()
    assert 'compare' in busy['disabled'], busy  # ...with the button disabled meanwhile
    assert 'a:latest = best = step_0000030' in across['options'], across['options']
    text = across['text']
    assert text.count('different tokenizers') == 1 and 'bits per byte' in text, text
    assert 'prepare the data again' not in text and 'perplexity' not in text, text
    assert across['images'] == [], across['images']  # no heatmap, and no broken image in its place
    assert '2 checkpoints' in text and '0 reused' in text, text
    assert user_plot['images'] and all(w > 100 and done for w, _, done in user_plot['images']), user_plot
    assert 'backend agg' not in user_plot['text'].lower(), user_plot['text']
    text = one_run['text']
    assert 'reference: a:step_0000015' in text and 'the reference' in text, text
    assert 'a:step_0000015 = latest_backup -> a:latest' in text or 'weight change' in text, text
    assert any(w > 400 and h > 100 for w, h, _ in one_run['images']), one_run['images']
    assert '3,840' in text and 'optim.lr' in text, text

CELL = "document.querySelectorAll('.jp-Notebook .jp-CodeCell')[{}]"
TABLE_ROWS = "() => [...{}.querySelectorAll('.jojo-runs tr[data-run]')].map(r => r.children[1].textContent)"
DRAWN_RUNS = "() => [...new Set({}.querySelector('.js-plotly-plot').data.map(t => t.legendgroup))]"
SLOW_READ = """import time, jojo_nb.monitor as M
read = M.RunMonitor.refresh
M.RunMonitor.refresh = lambda self: (time.sleep(3), read(self))[1]  # a first read as slow as a long run's
m = M.RunMonitor('runs', runs=['run-a', 'run-b', 'run-c'])
m"""

def test_runs_table_in_jupyterlab(lab):
    "The first draw says it is busy; the runs table sorts, filters, and its ticks choose the runs drawn."
    from playwright.sync_api import sync_playwright
    url, token, root = lab
    for name, steps in (('run-a', 120), ('run-b', 80), ('run-c', 100)): write_run(root, name, steps=steps)
    notebook(root/'table.ipynb', SLOW_READ, "m.wait(); M.RunMonitor.refresh = read\nprint('read as usual')")
    cell, rows = CELL.format(0), TABLE_ROWS.format(CELL.format(0))
    with sync_playwright() as p:
        nb = Notebook(p, url, token, 'table.ipynb')
        try:
            nb.run_cell(); nb.wait(cell_done(0, 'reading and drawing 3 run(s)'), timeout=60)
            busy = nb.state()[0]
            nb.wait(f"() => {cell}.querySelectorAll('.js-plotly-plot .legend .traces').length === 3")
            nb.wait(f"() => !{cell}.innerText.includes('reading and drawing')", timeout=30)
            nb.run_cell(); nb.wait(cell_done(1, 'read as usual'))
            header = lambda text: nb.page.locator('.jojo-runs th', has_text=text).first
            folder_order = nb.page.evaluate(rows)
            header('steps').click()
            nb.wait(f"() => ({rows})().join() === 'run-b,run-c,run-a'", timeout=20)  # 80, 100, 120 steps
            header('steps').click()
            nb.wait(f"() => ({rows})().join() === 'run-a,run-c,run-b'", timeout=20)  # again: the other way
            nb.page.fill('.jojo-filter', 'max_steps>=100')
            nb.wait(f"() => ({rows})().join() === 'run-a,run-c'", timeout=20)
            nb.page.locator('.jojo-runs tr[data-run]', has_text='run-c').locator('input').uncheck()
            nb.wait(f"() => ({DRAWN_RUNS.format(cell)})().join() === 'run-a,run-b'", timeout=60)
            nb.page.fill('.jojo-filter', '')
            nb.wait(f"() => ({rows})().length === 3", timeout=20)
            nb.page.set_viewport_size({'width': WIDTHS[0], 'height': 2600}); time.sleep(1.5)
            ARTIFACTS.mkdir(exist_ok=True)
            nb.page.locator('.jp-Notebook .jp-CodeCell').nth(0).locator('.jp-OutputArea-output').first.screenshot(
                path=str(ARTIFACTS/'monitor_runs_table.png'))
            table = nb.page.evaluate(f"() => {cell}.querySelector('.jojo-runs').innerText")
        finally: nb.close()
    assert busy['plots'] == [] or busy['legends'] == [[]], busy  # busy: nothing drawn yet, and it says so
    assert folder_order == ['run-a', 'run-b', 'run-c'], folder_order
    assert 'train.max_steps' in table and '120/120' in table and 'finished' in table, table

IN_RANGE = """() => { const gd = CELL.querySelector('.js-plotly-plot'), r = gd._fullLayout.xaxis.range;
    const t = gd.data.find(t => t.name === 'long' && t.xaxis === 'x');
    if (!window.__before) window.__before = [...t.x];  // the points drawn before the zoom
    const inside = xs => xs.filter(x => x >= r[0] && x <= r[1]).length;
    return [inside(window.__before), inside([...t.x])]; }"""

def test_monitor_exports_and_zoom_in_jupyterlab(lab):
    "The CSV and PNG buttons download files; a zoom in one panel zooms the others and draws more points there."
    from playwright.sync_api import sync_playwright
    url, token, root = lab
    write_run(root, 'long', steps=3000, noise=0.3)
    notebook(root/'zoom.ipynb', "from jojo_nb.monitor import RunMonitor\nm = RunMonitor('runs', runs=['long'])\nm")
    cell = CELL.format(0)
    with sync_playwright() as p:
        nb = Notebook(p, url, token, 'zoom.ipynb')
        try:
            nb.run_cell(); nb.wait(f"() => {cell}.querySelectorAll('.js-plotly-plot .legend .traces').length === 1")
            files = {}
            for button in ('CSV', 'PNG'):
                with nb.page.expect_download(timeout=60_000) as download:
                    nb.page.locator('.jp-Notebook .jp-CodeCell').nth(0).locator('button', has_text=button).click()
                files[button] = (download.value.suggested_filename, Path(download.value.path()).read_bytes())
            nb.page.evaluate(IN_RANGE.replace('CELL', cell))
            loss = nb.page.locator('.jp-Notebook .jp-CodeCell').nth(0).locator('.js-plotly-plot .nsewdrag').first
            loss.scroll_into_view_if_needed(); box = loss.bounding_box()
            y = box['y'] + box['height'] / 2
            nb.page.mouse.move(box['x'] + box['width'] * 0.45, y); nb.page.mouse.down()
            nb.page.mouse.move(box['x'] + box['width'] * 0.5, y, steps=5); nb.page.mouse.up()  # a drag: a zoom
            nb.wait(f"() => {{ const L = {cell}.querySelector('.js-plotly-plot')._fullLayout;"
                    " return L.xaxis.range[1] - L.xaxis.range[0] < 1000; }", timeout=20)
            ranges = nb.page.evaluate(f"() => {{ const L = {cell}.querySelector('.js-plotly-plot')._fullLayout;"
                                      " return Object.keys(L).filter(k => /^xaxis\\d*$/.test(k)).map(k => L[k].range); }")
            for _ in range(100):  # the kernel draws the visible range again, in detail
                before, zoomed = nb.page.evaluate(IN_RANGE.replace('CELL', cell))
                if zoomed > 3 * max(before, 1): break
                time.sleep(0.2)
        finally: nb.close()
    name, csv = files['CSV']
    assert name == 'runs.csv' and csv.decode().startswith('run,metric,series,step,value\nlong,loss,train,'), csv[:80]
    name, png = files['PNG']
    assert name == 'runs.png' and png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 10_000, (name, len(png))
    assert len(ranges) >= 4 and all(r == ranges[0] for r in ranges), ranges  # every panel zoomed with the first
    assert zoomed > 3 * max(before, 1), (before, zoomed)
