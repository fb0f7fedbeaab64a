"""The layering, read from the source: every module of jojo_nb may use only the modules below it in `LAYERS`.

Every reference to a jojo_nb module counts, wherever it is written: `import jojo_nb.x`, `from jojo_nb.x import y`,
`from . import x`, `from .x import y` (at the top of a module or inside a function),
`importlib.import_module('jojo_nb.x')`, and a string that is a module's name, `'jojo_nb.x'` or `'jojo_nb.x:func'`
(a table of commands or suites). A string right after `'-m'` in a list names a program to start
(`python -m jojo_nb.cli`), not a module to import: that is allowed for the modules in `PROGRAMS`, from anywhere.
The order is strict: a module uses only modules in lower positions, never one of its own position or above, so a
circle cannot pass (and `test_no_import_circle` finds circles in the graph itself, whatever the order says).
`nbs/index.ipynb` ("How the package is built") shows the same order to readers, and a test keeps the two equal.
`python tests/test_layering.py [FOLDER]` prints the dependency picture."""
import ast, json, re
from pathlib import Path
import pytest
from conftest import ROOT

# One declared order, lowest first. The top, `cli`, may name any module.
LAYERS = ['core', 'config', 'runs', 'device', 'cliargs',
          'tokenizer', 'data', 'bpe',
          'model', 'fp8', 'checkpoint', 'hf',
          'sample',
          'evaluate', 'core_score', 'lm_eval_adapter', 'suites',
          'metrics', 'trainer', 'estimate', 'train',
          'monitor', 'compare',
          'publish', 'serve',
          'cli']
PROGRAMS = {'cli', 'train'}  # started as `python -m jojo_nb.X` (torchrun's workers)
PACKAGE = ROOT/'jojo_nb'
NOT_MODULES = {'__init__', '_modidx'}  # nbdev's package files

def module_sources(folder=PACKAGE) -> dict[str, str]:
    "The source text of each module of the package in `folder`, by module name."
    return {p.stem: p.read_text() for p in sorted(Path(folder).glob('*.py')) if p.stem not in NOT_MODULES}

NAMED = re.compile(r'jojo_nb\.(\w+)(?::[\w.]+)?')

def references(source:str, package:str='jojo_nb') -> list[tuple[str, int, str]]:
    """Every jojo_nb module that `source` (a module of `package`) uses: `(module, line, how)`, with `how` one of
    `import`, `lazy import` (inside a function), `import_module`, `by name` or `program`."""
    tree, found = ast.parse(source), []
    def add(name, node, how):  # `from jojo_nb import __version__` uses the package, not a module
        if name and not name.startswith('__'): found.append((name.split('.')[0], node.lineno, how))
    def visit(node, lazy):
        how = 'lazy import' if lazy else 'import'
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(f'{package}.'): add(a.name[len(package) + 1:], node, how)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level == 0 and not (base == package or base.startswith(f'{package}.')): pass
            elif base in (package, '') or (node.level and not base):  # from jojo_nb import x / from . import x
                for a in node.names: add(a.name, node, how)
            else: add(base[len(package) + 1:] if node.level == 0 else base, node, how)
        elif isinstance(node, ast.Call) and getattr(node.func, 'attr', getattr(node.func, 'id', None)) in (
                'import_module', '__import__') and node.args and isinstance(node.args[0], ast.Constant):
            name = str(node.args[0].value)
            if name.startswith('.') and len(node.args) > 1: name = name[1:]  # import_module('.x', 'jojo_nb')
            elif name.startswith(f'{package}.'): name = name[len(package) + 1:]
            else: name = None
            add(name, node, 'import_module')
            for child in node.args[1:]: visit(child, lazy)
            return
        elif isinstance(node, (ast.List, ast.Tuple)):  # ['-m', 'jojo_nb.cli', ...]: a program started by name
            items = node.elts
            for before, item in zip(items, items[1:]):
                if (isinstance(before, ast.Constant) and before.value == '-m' and isinstance(item, ast.Constant)
                        and isinstance(item.value, str) and NAMED.fullmatch(item.value)):
                    add(NAMED.fullmatch(item.value)[1], item, 'program')
                    item._seen = True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and not getattr(node, '_seen', False):
            m = NAMED.fullmatch(node.value)
            if m: add(m[1], node, 'by name')
        inner = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node): visit(child, inner)
    visit(tree, False)
    return sorted(set(found), key=lambda r: (r[1], r[0]))

def import_graph(sources:dict[str, str]) -> dict[str, set[str]]:
    "Who uses whom: each module's set of jojo_nb modules (programs started by name left out), itself excluded."
    return {m: {t for t, _, how in references(src) if how != 'program' and t != m} for m, src in sources.items()}

def layering_problems(sources:dict[str, str], layers:list[str]=LAYERS, programs=PROGRAMS) -> list[str]:
    "One line per use of a module at or above the user's own position in `layers`, or of a module `layers` lacks."
    where, problems = {m: i for i, m in enumerate(layers)}, []
    for m in sources:
        if m not in where: problems.append(f"jojo_nb/{m}.py is in no layer: add it to LAYERS in tests/test_layering.py "
                                           f"(and to the table in nbs/index.ipynb)")
    for m, src in sources.items():
        for target, line, how in references(src):
            if target == m or (how == 'program' and target in programs): continue
            if target not in sources and target not in where:
                problems.append(f"jojo_nb/{m}.py:{line}: {how} of jojo_nb.{target}, which does not exist")
            elif m in where and target in where and where[target] >= where[m]:
                problems.append(f"jojo_nb/{m}.py:{line}: {how} of {target}, which is above {m} in LAYERS")
    return problems

def circles(graph:dict[str, set[str]]) -> list[list[str]]:
    "The import circles of `graph`: one list of modules per strongly connected group of two or more (or a self-loop)."
    index, low, stack, on, out = {}, {}, [], set(), []
    def strong(v):
        index[v] = low[v] = len(index); stack.append(v); on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph: continue
            if w not in index: strong(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop(); on.discard(w); group.append(w)
                if w == v: break
            if len(group) > 1 or v in graph[v]: out.append(sorted(group))
    for v in sorted(graph):
        if v not in index: strong(v)
    return out

def circle_path(graph:dict[str, set[str]], group:list[str]) -> str:
    "One shortest way round the circle `group` (from `circles`), as `a -> b -> a`."
    start, paths = group[0], {group[0]: [group[0]]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & set(group)):
                if w == start: return ' -> '.join(paths[v] + [start])
                if w not in paths: paths[w] = paths[v] + [w]; nxt.append(w)
        frontier = nxt
    return start

def picture(sources:dict[str, str], layers:list[str]=LAYERS) -> str:
    "The dependency picture: each module, bottom up, with the modules it uses; then the counts."
    graph = import_graph(sources)
    order = [m for m in layers if m in graph] + sorted(set(graph) - set(layers))
    rank = lambda t: (layers.index(t) if t in layers else len(layers), t)
    lines = [f"{m:>16} <- {', '.join(sorted(graph[m], key=rank)) or '-'}" for m in order]
    found = circles(graph)
    lines += [f"modules: {len(graph)}, uses: {sum(map(len, graph.values()))}, circles: {len(found)}"
              + ''.join(f"; {', '.join(g)} ({circle_path(graph, g)}, ...)" for g in found),
              f"uses that go up or out of the layers: {len(layering_problems(sources, layers))}"]
    return '\n'.join(lines)

# The package itself

def test_every_module_is_in_a_layer():
    missing = sorted(set(module_sources()) - set(LAYERS))
    assert not missing, f"modules in no layer (add them to LAYERS and to nbs/index.ipynb): {missing}"

def test_every_layer_is_a_module():
    absent = [m for m in LAYERS if not (PACKAGE/f'{m}.py').exists()]
    assert not absent, f"LAYERS names modules that jojo_nb/ does not have: {absent}"
    assert len(set(LAYERS)) == len(LAYERS), 'a module is named twice in LAYERS'

def test_each_module_uses_only_modules_below_it():
    problems = layering_problems(module_sources())
    assert not problems, '\n' + '\n'.join(problems)

def test_no_import_circle():
    graph = import_graph(module_sources())
    found = [circle_path(graph, group) for group in circles(graph)]
    assert not found, f"import circles: {found}"

def test_the_index_shows_the_declared_order():
    "The table of layers in nbs/index.ipynb lists the modules of LAYERS, in the same order."
    cells = json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells']
    text = '\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'markdown')
    section = text[text.index('## How the package is built'):].splitlines()
    start = next(i for i, line in enumerate(section) if line.startswith('|'))
    table = section[start:next((i for i in range(start, len(section)) if not section[i].startswith('|')), len(section))]
    rows = table[2:]  # after the header and its rule
    shown = [m for row in rows for m in re.findall(r'`(\w+)`', row.split('|')[2])]
    assert shown == LAYERS, f"nbs/index.ipynb's layers {shown} differ from LAYERS {LAYERS}"

# The checker, on planted sources

def test_references_finds_every_form():
    src = '''"Docs for python -m jojo_nb.train are prose, not a use."
import os, jojo_nb.core
from jojo_nb.config import RunConfig
from . import runs
from .device import pick
from jojo_nb import data as d, __version__
def later():
    from .model import GPT
    import importlib
    importlib.import_module('jojo_nb.hf'); importlib.import_module('.sample', 'jojo_nb')
TABLE = {'eval': ('jojo_nb.evaluate', 'score'), 'plot': 'jojo_nb.monitor:cmd_plot'}
ENTRY = ['-m', 'jojo_nb.cli', 'eval']
'''
    got = [(m, how) for m, _, how in references(src)]
    assert got == [('core', 'import'), ('config', 'import'), ('runs', 'import'), ('device', 'import'),
                   ('data', 'import'), ('model', 'lazy import'), ('hf', 'import_module'), ('sample', 'import_module'),
                   ('evaluate', 'by name'), ('monitor', 'by name'), ('cli', 'program')], got

def test_a_planted_lazy_import_is_caught(tmp_path):
    "A copy of the package with one import of the trainer planted inside a function of the model: the checker names it."
    copy = tmp_path/'jojo_nb'
    copy.mkdir()
    for name, src in module_sources().items(): (copy/f'{name}.py').write_text(src)
    model = copy/'model.py'
    model.write_text(model.read_text() + '\n\ndef _planted():\n    from .trainer import Trainer\n    return Trainer\n')
    line = model.read_text().splitlines().index('    from .trainer import Trainer') + 1
    new = set(layering_problems(module_sources(copy))) - set(layering_problems(module_sources()))
    assert new == {f"jojo_nb/model.py:{line}: lazy import of trainer, which is above model in LAYERS"}, new
    assert LAYERS.index('model') < LAYERS.index('trainer')

def test_planted_upward_names_and_circles():
    layers = ['core', 'model', 'trainer', 'cli']
    sources = {'core': 'import json\n',
               'model': 'from .core import x\nSUITES = {"loss": "jojo_nb.trainer:score"}\n',
               'trainer': 'import importlib\ndef f(): return importlib.import_module("jojo_nb.model")\n',
               'cli': 'import jojo_nb.trainer\nENTRY = ["-m", "jojo_nb.cli"]\nfrom .nothing import y\n',
               'extra': 'from . import core\n'}
    assert layering_problems(sources, layers) == [
        'jojo_nb/extra.py is in no layer: add it to LAYERS in tests/test_layering.py (and to the table in '
        'nbs/index.ipynb)',
        'jojo_nb/model.py:2: by name of trainer, which is above model in LAYERS',
        'jojo_nb/cli.py:3: import of jojo_nb.nothing, which does not exist']
    assert circles(import_graph(sources)) == [['model', 'trainer']]
    assert circle_path(import_graph(sources), ['model', 'trainer']) == 'model -> trainer -> model'
    ring = {'a': 'import jojo_nb.b', 'b': 'def f():\n from . import c', 'c': 'from .a import z'}
    assert circles(import_graph(ring)) == [['a', 'b', 'c']]
    assert circle_path(import_graph(ring), ['a', 'b', 'c']) == 'a -> b -> c -> a'
    assert circles(import_graph({'a': 'import jojo_nb.b', 'b': 'x = 1'})) == []

@pytest.mark.parametrize('program, ok', [('cli', True), ('train', True), ('trainer', False)])
def test_programs_started_by_name(program, ok):
    "A launcher low in the package may start `python -m jojo_nb.cli` or `jojo_nb.train`, not any module."
    sources = {'device': f'def launch(): return ["-m", "jojo_nb.{program}"]\n', 'cli': '', 'train': '', 'trainer': ''}
    problems = layering_problems(sources, ['device', 'trainer', 'train', 'cli'])
    assert (problems == []) == ok, problems

if __name__ == '__main__':  # `python tests/test_layering.py [FOLDER]`: the picture of jojo_nb/ (or of FOLDER's modules)
    import sys
    print(picture(module_sources(sys.argv[1] if len(sys.argv) > 1 else PACKAGE)))
