"The docs site without Quarto: `.ci/render_docs` renders every notebook to HTML, then headless Chromium reads the pages."
import base64, json, re, shutil, subprocess
from pathlib import Path
import pytest
from conftest import ROOT

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
ARTIFACTS = ROOT/'test-artifacts'
pytestmark = pytest.mark.slow

def png_cells(nb):
    "How many code cells of notebook `nb` (in nbs/) show a PNG figure."
    cells = json.loads((ROOT/'nbs'/nb).read_text())['cells']
    return sum(any('image/png' in o.get('data', {}) for o in c.get('outputs', [])) for c in cells)

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')/'_site'
    res = subprocess.run(['bash', str(ROOT/'.ci'/'render_docs'), str(out)], cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return out

def test_render_docs_writes_every_page(site):
    pages = {p.relative_to(site).as_posix() for p in site.rglob('*.html')}
    notebooks = [p for p in (ROOT/'nbs').rglob('*.ipynb')
                 if not any(d.startswith(('_', '.')) for d in p.relative_to(ROOT/'nbs').parts)]
    assert len(pages) == len(notebooks), pages
    # Quarto's names: the number prefix goes (nbdev's output-file), folders stay.
    assert {'index.html', 'core.html', 'model.html', 'tutorials/quickstart.html'} <= pages, pages
    model = (site/'model.html').read_text()
    assert '<h1' in model and 'The GPT model' in model
    assert 'https://jojo-nb.github.io/jojo_nb/model.html' not in model  # doc links made relative
    assert '#| ' not in model and '---\ndescription' not in model  # cell options and front matter not shown
    # nor on any other page, `#| slow` after a `%%bash` included (nbdev writes options after the cell magic)
    assert not [p for p in pages if '#| ' in (site/p).read_text()], 'a page shows a cell option'

def test_readme_shows_the_example():
    "README.md (nbconvert's markdown of the home page) opens with the example's code and output, and its figure shows on GitHub."
    readme = (ROOT/'README.md').read_text()
    example = readme[:readme.index('## Two ways in')]
    assert 'trainer.fit()' in example and 'finished at step' in example and '\n    ROMEO:' in example, example
    # nbconvert refers to an output's image by file (index_files/index_N_M.png); GitHub drops data: URIs,
    # so the file is committed next to README.md, as nbdev-readme does.
    images = re.findall(r'!\[[^\]]*\]\(([^)\s]+)\)', example)
    cells = json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells']
    pngs = [base64.b64decode(o['data']['image/png']) for c in cells for o in c.get('outputs', [])
            if 'image/png' in o.get('data', {})]
    assert len(images) == len(pngs) == 1, images
    for image, png in zip(images, pngs):
        assert (ROOT/image).is_file(), f'{image} is missing: regenerate it (see "Contributing" in nbs/index.ipynb)'
        assert (ROOT/image).read_bytes() == png, f'{image} is not the figure of nbs/index.ipynb: regenerate it'

def tiny_docs(root):
    "A copy of the docs inputs with the home page only, where `.ci/render_docs` runs in seconds."
    (root/'.ci').mkdir(); (root/'nbs').mkdir()
    shutil.copy(ROOT/'.ci'/'render_docs', root/'.ci')
    shutil.copy(ROOT/'pyproject.toml', root)
    for f in ('styles.css', 'nbdev.yml', 'index.ipynb'): shutil.copy(ROOT/'nbs'/f, root/'nbs')
    (root/'nbs'/'_quarto.yml').write_text("""website:
  title: tiny
  navbar: {left: [{text: Home, href: index.ipynb}]}
  sidebar: {contents: [index.ipynb, {section: Reference, contents: [{auto: "/[0-9]*.ipynb"}]}]}
""")
    return lambda: subprocess.run(['bash', str(root/'.ci'/'render_docs'), str(root/'out')], cwd=root,
                                  capture_output=True, text=True, timeout=300)

def notebook(*cells):
    return json.dumps({'cells': [{'cell_type': 'code', 'metadata': {}, 'execution_count': None, 'outputs': [], **c}
                                 for c in cells], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5})

@pytest.mark.parametrize('bad, named', [
    ('quarto', 'index.ipynb#no'),   # a navbar link to a page that is not there
    ('sidebar', '/[0-9]*.ipynb'),   # a sidebar glob that matches no notebook
    ('unlisted', 'extra.ipynb'),    # a notebook no sidebar entry lists: readers cannot find it
    ('md_link', '20_model.ipynb'),  # a notebook's markdown links to a missing notebook
    ('json', '00_bad.ipynb'),       # not a notebook
    ('show_doc', '00_bad.ipynb'),   # nbdev's processing fails
    ('output', '00_bad.ipynb')])    # nbconvert cannot render it
def test_render_docs_names_what_is_broken(tmp_path, bad, named):
    render, nbs = tiny_docs(tmp_path), tmp_path/'nbs'
    if bad != 'sidebar': (nbs/'00_ok.ipynb').write_text(notebook({'source': '1+1'}))
    if bad == 'quarto':
        q = nbs/'_quarto.yml'; q.write_text(q.read_text().replace('href: index.ipynb', 'href: 30_nothing.ipynb'))
        named = '30_nothing.ipynb'
    if bad == 'unlisted': (nbs/'extra.ipynb').write_text(notebook({'source': '2'}))
    if bad == 'md_link':
        (nbs/'00_bad.ipynb').write_text(notebook({'cell_type': 'markdown', 'source': 'See [the model](20_model.ipynb).'}))
    if bad == 'json': (nbs/'00_bad.ipynb').write_text('{"cells": [')
    if bad == 'show_doc': (nbs/'00_bad.ipynb').write_text(notebook({'source': '#| echo: false\nshow_doc(no_such)'}))
    if bad == 'output': (nbs/'00_bad.ipynb').write_text(notebook({'source': '1', 'outputs': [{'output_type': 'x'}]}))
    res = render()
    assert res.returncode == 1, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert named in lines[-1] and lines[-1].startswith('render_docs: '), res.stderr

def test_render_docs_tiny_site(tmp_path):
    render = tiny_docs(tmp_path)
    (tmp_path/'nbs'/'00_ok.ipynb').write_text(notebook(
        {'cell_type': 'markdown', 'source': '# OK\n> It works.'},
        {'cell_type': 'markdown', 'source': 'Back [home](index.ipynb#set-up).'},
        {'source': '#| hide\nsecret = 1'}, {'source': '#| echo: false\nprint("shown")',
         'outputs': [{'output_type': 'stream', 'name': 'stdout', 'text': 'shown\n'}]},
        {'source': '%%bash\n#| slow\necho in-bash'}))
    res = render()
    assert res.returncode == 0, res.stderr
    page = (tmp_path/'out'/'ok.html').read_text()
    assert 'href="index.html#set-up"' in page and '<h1' in page and 'It works.' in page
    assert 'shown' in page and 'print(' not in page and 'secret' not in page
    assert 'in-bash' in page and '%%bash' in page and '#|' not in page  # the magic stays, the option goes
    assert not list(tmp_path.glob('_proc'))

@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason='Debian chromium is not installed (.ci/run installs it)')
def test_pages_in_chromium(site):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                                          '--disable-component-update', '--disable-sync', '--no-first-run'])
        try:
            page = browser.new_page(viewport={'width': 1400, 'height': 1000})
            # Offline: only the site's own files load (nbconvert's pages ask a CDN for MathJax and require.js).
            page.route('**/*', lambda r: r.continue_() if r.request.url.startswith('file:') else r.abort())
            ARTIFACTS.mkdir(exist_ok=True)

            def visit(name, nb, shot=None):
                page.goto((site/name).as_uri(), wait_until='load')
                got = page.evaluate("""() => ({
                    h1: (document.querySelector('h1') || {}).innerText || '',
                    outputs: [...document.querySelectorAll('.jp-OutputArea-output')]
                        .map(o => o.innerText.trim()).filter(t => t.length > 0),
                    images: [...document.querySelectorAll('.jp-OutputArea-output img')].map(i => {
                        const r = i.getBoundingClientRect();
                        return [i.naturalWidth, i.naturalHeight, r.width, r.height]; }),
                    sidebar: [...document.querySelectorAll('.site-sidebar a')].map(a => a.innerText)})""")
                if shot: page.screenshot(path=str(ARTIFACTS/shot), full_page=True)
                assert got['outputs'], (name, 'no code output with text on the page')
                assert len(got['sidebar']) >= len(list((site).glob('*.html'))), got['sidebar']
                if png_cells(nb):
                    assert any(w > 0 and h > 0 and rw > 0 and rh > 0 for w, h, rw, rh in got['images']), \
                        (name, got['images'])
                return got

            index = visit('index.html', 'index.ipynb', 'docs_index.png')
            assert index['h1'] == 'jojo_nb', index['h1']
            assert any('ok' in o.lower() or 'valid' in o.lower() for o in index['outputs']), index['outputs']
            # The page opens with the example: a run's summary, then a sample, then its loss curve.
            assert 'finished at step' in index['outputs'][0] and index['outputs'][1].startswith('ROMEO:'), index['outputs']
            assert any(w > 200 and h > 100 and rw > 200 for w, h, rw, _ in index['images']), index['images']

            # From the home page to a chapter, by the sidebar as a reader would.
            page.click('.site-sidebar a:text-is("The GPT model")')
            page.wait_for_url('**/model.html')
            model = visit('model.html', '20_model.ipynb', 'docs_model.png')
            assert model['h1'] == 'The GPT model', model['h1']
            assert len(model['outputs']) >= 10, model['outputs']  # show_doc's signatures and code outputs
            # The navbar's Reference goes to the first chapter; a doc link leads to the right page.
            assert page.get_attribute('.site-navbar a:text-is("Reference")', 'href') == 'core.html'
            href = page.get_attribute('a[href^="config.html#"]', 'href')
            assert href and (site/href.split('#')[0]).exists(), href

            assert png_cells('80_monitor.ipynb'), 'the monitoring chapter should show a figure'
            monitor = visit('monitor.html', '80_monitor.ipynb', 'docs_monitor.png')
            assert any(w > 200 and h > 100 for w, h, *_ in monitor['images']), monitor['images']
        finally:
            browser.close()
