"""The README cannot drift from the code: its command list names every `jojo` subcommand, action and option that the
CLI has (`jojo_nb.cli.COMMANDS` and each command's own parser), and its chapter table and tutorial list name the
pages of the site's sidebar (`_quarto.yml`), with their titles, and no others. README.md is generated from
nbs/index.ipynb, so a failure here is mended there (then regenerate README.md, see "Contributing")."""
import argparse, json, re
from pathlib import Path
import yaml
from conftest import ROOT

SITE = 'https://jojo-nb.github.io/jojo_nb/'

def readme_section(title:str, readme:str|None=None) -> str:
    "The text of README.md's `## title` section."
    readme = (ROOT/'README.md').read_text() if readme is None else readme
    start = readme.index(f'\n## {title}\n')
    end = readme.find('\n## ', start + 1)
    return readme[start:end if end > 0 else None]

# The commands

def command_parser(name:str) -> argparse.ArgumentParser:
    "The parser of `jojo NAME`, built by the functions the CLI itself uses."
    from jojo_nb.cli import command_functions
    p = argparse.ArgumentParser(prog=f'jojo {name}')
    command_functions(name)[0](p)
    return p

def surface(p:argparse.ArgumentParser) -> tuple[set[str], set[str]]:
    """The actions (choices of positionals, subcommands) and long options of parser `p`: config keys (`--a.b`),
    --help and hidden options left out."""
    actions, options = set(), set()
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub, sp in a.choices.items():
                actions.add(sub)
                more = surface(sp); actions |= more[0]; options |= more[1]
        elif not a.option_strings and a.choices: actions |= {str(c) for c in a.choices}
        elif a.option_strings and a.help != argparse.SUPPRESS and a.dest != 'help' and not a.dest.startswith('cfg:'):
            options |= {o for o in a.option_strings if o.startswith('--')}
    return actions, options

def synopsis(readme:str|None=None) -> dict[str, str]:
    "README's command list: the text of the lines of each `jojo NAME` (continuation lines included), by NAME."
    section = readme_section('The `jojo` command', readme)
    block = re.search(r'```\n(.*?)```', section, re.S)[1]
    out, name = {}, None
    for line in block.splitlines():
        if line.startswith('jojo '): name = line.split()[1]
        elif not line.startswith(' '): name = None
        if name: out[name] = out.get(name, '') + ' ' + line.split('#')[0]
    return out

def commands_missing(readme:str|None=None) -> list[str]:
    "What README's command list lacks, one entry per command, action or option: `jojo NAME`, `jojo NAME ACTION`, ..."
    from jojo_nb.cli import COMMANDS
    listed, missing = synopsis(readme), []
    for name in COMMANDS:
        if name not in listed: missing.append(f'jojo {name}'); continue
        actions, options = surface(command_parser(name))
        words = set(re.findall(r'[\w.-]+', listed[name]))
        missing += [f'jojo {name} {a}' for a in sorted(actions) if a not in words]
        missing += [f'jojo {name} {o}' for o in sorted(options) if o not in words]
    if '--version' not in synopsis(readme).get('--version', ''): missing.append('jojo --version')
    return missing

def test_readme_lists_every_command_action_and_option():
    missing = commands_missing()
    assert not missing, f"README's command list (nbs/index.ipynb, \"The `jojo` command\") lacks {missing}"

def test_readme_lists_only_commands_there_are():
    from jojo_nb.cli import COMMANDS
    extra = sorted(set(synopsis()) - set(COMMANDS) - {'--version'})
    assert not extra, f"README's command list names commands jojo does not have: {extra}"

def test_a_missing_command_or_option_is_named():
    "The check itself, on a README that lost `jojo plot` and one option of `jojo sample`."
    from jojo_nb.cli import COMMANDS
    readme = (ROOT/'README.md').read_text()
    assert 'plot' in COMMANDS and '--prompt-file' in surface(command_parser('sample'))[1]
    listed = synopsis(readme)
    assert 'plot' in listed and '--prompt-file' in listed['sample'], 'the README this test starts from changed'
    broken = '\n'.join(l for l in readme.splitlines() if not l.startswith('jojo plot')).replace('--prompt-file', '')
    got = set(commands_missing(broken)) - set(commands_missing(readme))
    assert got == {'jojo plot', 'jojo sample --prompt-file'}, got

# The chapters and tutorials

def page(notebook:str) -> str:
    "The site's page of a notebook (relative to nbs/): its number prefix goes, as nbdev names the pages."
    path = Path(notebook)
    return (path.parent/(re.sub(r'^\d+_', '', path.stem) + '.html')).as_posix()

def sidebar() -> dict[str, list[str]]:
    "The notebooks of the site's sidebar, by section (`''` for those outside a section), globs expanded."
    config = yaml.safe_load((ROOT/'nbs'/'_quarto.yml').read_text())
    out = {}
    def walk(items, section):
        for item in items:
            if isinstance(item, str): out.setdefault(section, []).append(item)
            elif 'auto' in item:
                found = sorted((ROOT/'nbs').glob(item['auto'].lstrip('/')))
                assert found, f"the sidebar's {item['auto']} matches no notebook"
                out.setdefault(section, []).extend(p.relative_to(ROOT/'nbs').as_posix() for p in found)
            else: walk(item.get('contents', []), item.get('section', section))
    walk(config['website']['sidebar']['contents'], '')
    return out

def title(notebook:str) -> str:
    "A notebook's title, its first `# ` heading (what the sidebar shows)."
    for c in json.loads((ROOT/'nbs'/notebook).read_text())['cells']:
        for line in ''.join(c['source']).splitlines():
            if c['cell_type'] == 'markdown' and line.startswith('# '): return line[2:].strip()
    raise AssertionError(f'nbs/{notebook} has no title')

def linked(text:str) -> dict[str, str]:
    "The site's pages that markdown `text` links to, with the link's text."
    return {m[2]: m[1] for m in re.finditer(rf'\[([^\]]+)\]\({re.escape(SITE)}([\w/]+\.html)(?:#[\w-]*)?\)', text)}

def test_readme_chapter_table_is_the_sidebar():
    chapters = {page(nb): title(nb) for nb in sidebar()['Reference']}
    table = '\n'.join(l for l in readme_section('Reference').splitlines() if l.startswith('|'))
    shown = linked(table)
    assert not (missing := sorted(set(chapters) - set(shown))), \
        f"README's chapter table (nbs/index.ipynb, \"Reference\") lacks {[chapters[p] for p in missing]} ({missing})"
    assert not (extra := sorted(set(shown) - set(chapters))), \
        f"README's chapter table lists pages the sidebar does not have: {extra}"
    wrong = {p: (shown[p], chapters[p]) for p in chapters if shown[p] != chapters[p]}
    assert not wrong, f"README's chapter table names chapters otherwise than their titles (README, title): {wrong}"

def test_readme_lists_the_sidebar_tutorials():
    tutorials = {page(nb) for nb in sidebar()['Tutorials']}
    shown = {p for p in linked((ROOT/'README.md').read_text()) if p.startswith('tutorials/')}
    assert shown == tutorials, f"README's tutorials {sorted(shown)} differ from the sidebar's {sorted(tutorials)}"

def test_the_architecture_names_what_there_is():
    "Every `module.name` that README's \"How the package is built\" points a newcomer to exists."
    import importlib
    section = readme_section('How the package is built')
    named = sorted((m, n) for m, n in set(re.findall(r'`([a-z_]+)\.([A-Za-z_]+)', section))
                   if (ROOT/'jojo_nb'/f'{m}.py').exists())  # `importlib.import_module` is not ours
    assert len(named) >= 5, named
    absent = [f'{m}.{n}' for m, n in named if not hasattr(importlib.import_module(f'jojo_nb.{m}'), n)]
    assert not absent, f"README's architecture section names what jojo_nb does not have: {absent}"
