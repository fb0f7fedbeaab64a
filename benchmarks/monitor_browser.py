"""RunMonitor as a user feels it: JupyterLab in headless Chromium (the harness of tests/test_browser.py), 5 runs of
100,000 steps each (`metrics.jsonl`), and for each action the time until the browser has drawn it, the kernel's own
time beside it, and the bytes the browser received over the kernel's websocket.

- first draw: from pressing Shift+Enter on `RunMonitor('runs', runs=[5 runs])` to the last line of the last panel drawn
  (after a warm-up monitor of a small run, so plotly's first import and first load into the page are not counted);
- smoothing 0.6 -> 0.8, log scale on (a toggle), and a live refresh after 1,000 more steps of one run: from pressing
  Shift+Enter on a cell that changes the control (or calls `tick()`) to the last redraw of a plot in the page (plotly's
  `plotly_afterplot` event, then 1 s with none);
- a live refresh as live mode makes it: `tick()` called from a thread of the kernel (as the monitor's live thread
  does), timed from the moment the tick starts (the kernel's clock) to the last redraw in the page (the browser's
  clock: the same machine's), so JupyterLab's round trip for running a cell is not counted.

Timings are wall seconds on whatever machine runs it (the CPU count is printed); run it on a quiet machine.

    python benchmarks/monitor_browser.py [--steps 100000] [--runs 5] [--repeat 2]
"""
import argparse, json, math, os, shutil, sys, tempfile, time
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT/'tests'), str(ROOT/'benchmarks')]
from test_browser import jupyter_lab, notebook, Notebook, cell_done, write_run  # noqa: E402
from monitor_load import synthetic_run  # noqa: E402

SETUP = """import time, json
from jojo_nb.monitor import RunMonitor
def n_traces(m):
    "The traces the kernel drew (one figure, or the figures of older versions)."
    if hasattr(m, 'chart'): return m.chart.n_traces()
    return sum(len(f.data) for f in m.figures.values())
warm = RunMonitor('runs', runs=['warm'])
warm"""
FIRST = """t0 = time.perf_counter()
m = RunMonitor('runs', runs={names!r})
display(m)
getattr(m, 'wait', lambda: None)()  # in a kernel the first draw runs behind a busy note
print('KERNEL', round(time.perf_counter() - t0, 3), 'TRACES', n_traces(m))"""
ACTION = """t0 = time.perf_counter()
{code}
print('KERNEL', round(time.perf_counter() - t0, 3), 'DONE {tag}')"""

LISTEN = """() => { window.__drawn = window.__drawn || 0;
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        if (gd.__jojoBench || !gd.on) continue;
        gd.__jojoBench = true; gd.on('plotly_afterplot', () => { window.__drawn = performance.now(); });
    } return true; }"""

class Wire:
    "Bytes received by the page over websockets (the kernel's messages), counted from `reset()`."
    def __init__(self): self.bytes = 0
    def listen(self, page): page.on('websocket', lambda ws: ws.on('framereceived', self._frame))
    def _frame(self, payload): self.bytes += len(payload)
    def reset(self): self.bytes = 0

def traces_in_page(nb, cell:int) -> int:
    return nb.page.evaluate(f"() => document.querySelectorAll('.jp-Notebook .jp-CodeCell')[{cell}]"
                            ".querySelectorAll('.js-plotly-plot .scatterlayer .trace').length")

def kernel_seconds(nb, cell:int, tag:str='KERNEL') -> float:
    text = nb.state()[cell]['text']
    return float(text.split(tag)[1].split()[0])

def first_draw(nb, wire, cell:int) -> tuple:
    "Seconds from Shift+Enter to every trace drawn, kernel seconds, bytes."
    wire.reset(); t0 = time.perf_counter()
    nb.run_cell()
    nb.wait(cell_done(cell, 'TRACES'), timeout=600)
    expected = int(nb.state()[cell]['text'].split('TRACES')[1].split()[0])
    nb.wait(f"() => document.querySelectorAll('.jp-Notebook .jp-CodeCell')[{cell}]"
            f".querySelectorAll('.js-plotly-plot .scatterlayer .trace').length >= {expected}", timeout=600)
    return time.perf_counter() - t0, kernel_seconds(nb, cell), wire.bytes, expected

def run_until_drawn(nb, wire, cell:int, quiet:float=1.0, ready=lambda: True):
    "Run the cell, then wait for its redraws to end (`quiet` seconds with none, and `ready()`)."
    nb.page.evaluate(LISTEN)
    nb.page.evaluate("() => { window.__drawn = 0; window.__t0 = performance.now(); }")
    wire.reset()
    nb.run_cell()
    nb.wait(cell_done(cell, 'DONE'), timeout=300)
    nb.wait("() => window.__drawn > window.__t0", timeout=120)
    while True:
        last = nb.page.evaluate('() => window.__drawn')
        time.sleep(quiet)
        if nb.page.evaluate('() => window.__drawn') == last and ready(): break

def action(nb, wire, cell:int) -> tuple:
    "Seconds from Shift+Enter to the last plotly redraw (then 1 s with none), kernel seconds, bytes."
    run_until_drawn(nb, wire, cell)
    seconds = nb.page.evaluate('() => (window.__drawn - window.__t0) / 1000')
    return seconds, kernel_seconds(nb, cell), wire.bytes

LIVE = '''import threading
def _tick_from_a_thread():  # what the live thread does every `interval` seconds
    time.sleep(0.3)
    t0 = time.time(); m.tick()
    open('live_t0', 'w').write(f'{t0} {time.time() - t0}')
threading.Thread(target=_tick_from_a_thread).start()'''

def live_action(nb, wire, cell:int, folder:Path) -> tuple:
    "Seconds from a tick's start in a kernel thread to the last plotly redraw (same machine's clock), kernel seconds, bytes."
    (folder/'live_t0').unlink(missing_ok=True)
    run_until_drawn(nb, wire, cell, ready=(folder/'live_t0').exists)
    t0, kernel = map(float, (folder/'live_t0').read_text().split())
    drawn = nb.page.evaluate('() => (performance.timeOrigin + window.__drawn) / 1000')
    return drawn - t0, kernel, wire.bytes

def append_steps(path:Path, first:int, n:int=1000):
    with open(path, 'a') as f:
        for s in range(first, first + n):
            f.write(json.dumps(dict(step=s, tokens=s * 524288, loss=3.0 + 0.01 * math.sin(s), lr=6e-4, grad_norm=0.5,
                                    dt_ms=100.0, tokens_per_sec=5e6, mfu=0.4)) + '\n')

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=100_000); ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--repeat', type=int, default=2)
    ap.add_argument('--screenshot', help='save a picture of the page after the first draw here'); a = ap.parse_args()
    from playwright.sync_api import sync_playwright
    folder = Path(tempfile.mkdtemp())
    try:
        names = [f'run{i}' for i in range(a.runs)]
        for i, n in enumerate(names): synthetic_run(folder/'runs', n, a.steps, seed=i)
        write_run(folder, 'warm')
        cells, actions = [SETUP], []
        for k in range(a.repeat):
            cells.append(FIRST.format(names=names))
            for tag, code in [('smoothing 0.6 -> 0.8', 'm.smoothing.value = 0.8'), ('log scale on', 'm.log.value = True'),
                              ('live refresh (+1,000 steps)', 'm.tick()'),
                              ('live refresh, live thread (+1,000)', LIVE)]:
                cells.append(ACTION.format(code=code, tag=tag)); actions.append((k, tag, len(cells) - 1))
        notebook(folder/'bench.ipynb', *cells)
        results = {}
        with jupyter_lab(folder) as (url, token), sync_playwright() as p:
            wire = Wire()
            nb = Notebook(p, url, token, 'bench.ipynb', on_page=wire.listen)
            try:
                nb.run_cell(); nb.wait("() => document.querySelectorAll('.js-plotly-plot .scatterlayer .trace')"
                                       ".length > 0", timeout=300)
                time.sleep(2)
                steps = a.steps + 1
                for k in range(a.repeat):
                    cell = 1 + 5 * k
                    results.setdefault('first draw', []).append(first_draw(nb, wire, cell)[:3])
                    if a.screenshot and k == 0:
                        time.sleep(1); nb.page.locator('.jp-Notebook .jp-CodeCell').nth(cell).screenshot(path=a.screenshot)
                    time.sleep(1)
                    for kk, tag, c in actions:
                        if kk != k: continue
                        if 'live' in tag: append_steps(folder/'runs'/names[0]/'metrics.jsonl', steps); steps += 1000
                        measure = (lambda: live_action(nb, wire, c, folder)) if tag.endswith('thread (+1,000)') else \
                                  (lambda: action(nb, wire, c))
                        results.setdefault(tag, []).append(measure())
            finally: nb.close()
    finally: shutil.rmtree(folder, ignore_errors=True)
    print(f"RunMonitor in JupyterLab (headless Chromium), {a.runs} runs x {a.steps:,} steps, {os.cpu_count()} CPUs; "
          f"best of {a.repeat}")
    print(f"  {'action':<36} {'browser s':>10} {'median':>7} {'kernel s':>9} {'MB sent':>9}")
    for tag, rows in results.items():
        b, k, n = min(rows)
        median = sorted(r[0] for r in rows)[len(rows) // 2]
        print(f"  {tag:<36} {b:10.3f} {median:7.3f} {k:9.3f} {n / 1e6:9.2f}")

if __name__ == '__main__': main()
