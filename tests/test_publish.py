"""Ready to publish: the model card `jojo export --format hf` writes, validated by huggingface_hub's card classes; the
exported folder with its card loaded by transformers in a fresh process; the upload pushed to a real HTTP server on
localhost that speaks the Hub's endpoints, and what it received read back (our machines cannot reach the Hub)."""
import argparse, base64, json, os, re, subprocess, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse
import pytest
from conftest import SHARED, run_jojo, train_tiny
from jojo_nb.core import JojoError, read_jsonl
from jojo_nb.evaluate import checkpoint_sha256, saved_evals
from jojo_nb.suites import evaluate_checkpoint
from jojo_nb.publish import (write_model_card, push_to_hub, publish_arguments, publish_after_export,
                             export_commit_message, export_arguments, cmd_export)

hub = pytest.importorskip('huggingface_hub')
pytest.importorskip('transformers')
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason='needs ../shared/data')

@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    "A tiny run trained for 20 steps, scored on 10 HellaSwag items, exported by `jojo export` and given its card."
    root = tmp_path_factory.mktemp('publish')
    train_tiny(root, 'tinyshakespeare', steps=20)
    ckpt = root/'runs'/'r'/'checkpoints'/'latest.pt'
    evaluate_checkpoint(str(ckpt), suites=('hellaswag',), limit=10, device='cpu')  # saved beside the run
    p = run_jojo('export', 'r', 'hf', '--device', 'cpu', cwd=root)
    assert p.returncode == 0, p.stderr[-2000:]
    write_model_card(root/'hf', ckpt, license='apache-2.0')
    return root, root/'hf', ckpt

def test_card_metadata_is_valid_and_true(exported):
    root, folder, ckpt = exported
    card = hub.ModelCard.load(folder/'README.md')  # huggingface_hub parses and checks the metadata
    data = card.data
    assert (data.license, data.language, data.library_name, data.pipeline_tag) == \
           ('apache-2.0', 'en', 'transformers', 'text-generation')
    assert {'jojo_nb', 'qwen3'} <= set(data.tags)  # the default tiny-cpu exports as Qwen3
    again = hub.ModelCardData(**data.to_dict())  # the metadata round-trips through the card classes
    assert [r.metric_value for r in again.eval_results] == [r.metric_value for r in data.eval_results]
    results = {r.metric_type: r for r in data.eval_results}
    assert set(results) == {'loss', 'bpb', 'acc_norm'}
    val = [r for r in read_jsonl(root/'runs'/'r'/'metrics.jsonl')[0] if 'val_loss' in r][-1]
    assert results['loss'].metric_value == round(val['val_loss'], 4) and results['bpb'].metric_value == round(val['val_bpb'], 4)
    hs = saved_evals(ckpt)['hellaswag']
    assert results['acc_norm'].metric_value == round(hs['acc_norm'], 4)
    assert (results['acc_norm'].dataset_type, results['acc_norm'].metric_args['limit']) == ('Rowan/hellaswag', 10)
    sha = checkpoint_sha256(ckpt)
    assert data.to_dict()['jojo'] == {'checkpoint': 'r/checkpoints/latest.pt', 'checkpoint_sha256': sha, 'step': 20,
                                      'tokens': 20 * 4 * 32}
    text = card.text
    for part in ('## Model', '## Training data', '## Training', '## Evaluation', '## Use it with transformers',
                 '## Limits', sha, '1,003,854 for training', 'HellaSwag: 10 items', '2,560 tokens'):
        assert part in text, part
    assert str(root) not in (folder/'README.md').read_text() and os.uname().nodename not in text

def test_transformers_runs_the_cards_code_in_a_fresh_process(exported):
    "The loading code on the card, as written (the folder's name made absolute), runs in a new interpreter."
    root, folder, _ = exported
    code = re.search(r"```python\n(.*?)```", (folder/'README.md').read_text(), re.S)[1]
    assert "from_pretrained('./hf')" in code
    p = subprocess.run([sys.executable, '-c', code.replace("'./hf'", repr(str(folder)))], capture_output=True,
                       text=True, timeout=300, env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.startswith('ROMEO:') and len(p.stdout) > len('ROMEO:') + 20, p.stdout

# --- the upload, to a real HTTP server on localhost that speaks the Hub's few endpoints ------------------------------
class _HubHandler(BaseHTTPRequestHandler):
    def log_message(self, *args): pass

    def reply(self, status:int, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        hub_, path = self.server, urlparse(self.path).path
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        hub_.calls.append((path, self.headers.get('Authorization'), body))
        if hub_.refuse: return self.reply(hub_.refuse, {'error': 'Invalid credentials in Authorization header'})
        if path == '/api/repos/create':
            d = json.loads(body)
            repo = f"{d['organization']}/{d['name']}" if d.get('organization') else d['name']
            if repo in hub_.repos:  # the Hub's answer: the error, and the repo's address
                return self.reply(409, {'error': 'You already created this model repo', 'url': f"{hub_.url}/{repo}"})
            hub_.repos[repo] = {'visibility': d.get('visibility'), 'files': {}, 'commits': []}
            return self.reply(200, {'url': f"{hub_.url}/{repo}"})
        if path == '/api/validate-yaml':
            hub_.validated.append(json.loads(body)['content'])
            return self.reply(200, {'errors': [], 'warnings': []})
        m = re.fullmatch(r'/api/models/(.+?)/(preupload|commit)/main', path)
        if not m or m[1] not in hub_.repos: return self.reply(404, {'error': 'Repository not found'})
        repo = hub_.repos[m[1]]
        if m[2] == 'preupload':  # small files go in the commit itself ("regular"), as the Hub allows
            return self.reply(200, {'files': [{'path': f['path'], 'uploadMode': 'regular', 'shouldIgnore': False}
                                              for f in json.loads(body)['files']]})
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        repo['commits'].append(lines[0]['value']['summary'])
        for line in lines[1:]:
            assert line['key'] == 'file' and line['value']['encoding'] == 'base64', line['key']
            repo['files'][line['value']['path']] = base64.b64decode(line['value']['content'])
        oid = f"{len(repo['commits']):040x}"
        return self.reply(200, {'commitUrl': f"{hub_.url}/{m[1]}/commit/{oid}", 'commitOid': oid})

@pytest.fixture
def local_hub():
    server = ThreadingHTTPServer(('127.0.0.1', 0), _HubHandler)
    server.calls, server.repos, server.validated, server.refuse = [], {}, [], None
    server.url = f'http://127.0.0.1:{server.server_port}'
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown(); server.server_close()

def test_push_uploads_the_folder_privately_with_the_checkpoint_named(exported, local_hub):
    _, folder, ckpt = exported
    url = push_to_hub(folder, 'me/tiny-shakespeare', token='hf_test_token', endpoint=local_hub.url)
    repo = local_hub.repos['me/tiny-shakespeare']
    assert repo['visibility'] == 'private'
    want = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert repo['files'] == want  # every file, byte for byte: weights, config, tokenizer, card, jojo's marker
    assert repo['commits'] == [f"jojo export of r/checkpoints/latest.pt (step 20, sha256 {checkpoint_sha256(ckpt)[:12]})"]
    assert local_hub.validated == [(folder/'README.md').read_text()]  # the Hub checks the card's metadata first
    assert {auth for _, auth, _ in local_hub.calls} == {'Bearer hf_test_token'}
    assert [c[0] for c in local_hub.calls] == ['/api/repos/create', '/api/validate-yaml',
                                               '/api/models/me/tiny-shakespeare/preupload/main',
                                               '/api/models/me/tiny-shakespeare/commit/main']
    assert url == f"{local_hub.url}/me/tiny-shakespeare/commit/{1:040x}"
    push_to_hub(folder, 'me/tiny-shakespeare', token='hf_test_token', endpoint=local_hub.url, commit_message='again')
    assert repo['commits'][-1] == 'again'  # an existing repo is no error (create_repo's exist_ok)

def test_export_options_push_public_with_a_license(exported, local_hub, monkeypatch, capsys):
    "`jojo export ... --push-to-hub REPO --public --license mit`, as publish_after_export runs it after the export."
    _, folder, ckpt = exported
    p = argparse.ArgumentParser()
    publish_arguments(p)
    args = p.parse_args(['--push-to-hub', 'me/tiny', '--public', '--license', 'mit'])
    args.format = 'hf'
    monkeypatch.setenv('HF_ENDPOINT', local_hub.url)
    monkeypatch.setenv('HF_TOKEN', 'hf_env_token')  # the usual place
    url = publish_after_export(args, folder, ckpt)
    repo = local_hub.repos['me/tiny']
    assert repo['visibility'] == 'public' and url.startswith(local_hub.url)
    card = hub.ModelCard(repo['files']['README.md'].decode())
    assert card.data.license == 'mit' and "from_pretrained('me/tiny')" in card.text  # the card names the repo
    assert {auth for _, auth, _ in local_hub.calls} == {'Bearer hf_env_token'}
    assert 'pushed hf to me/tiny' in capsys.readouterr().err
    write_model_card(folder, ckpt, license='apache-2.0')  # back as the module's other tests expect it

def test_refusals_are_one_line(exported, local_hub, tmp_path):
    _, folder, ckpt = exported
    local_hub.refuse = 401
    with pytest.raises(JojoError, match=r"could not push hf to me/x: .*401") as e:
        push_to_hub(folder, 'me/x', token='hf_bad', endpoint=local_hub.url)
    assert '\n' not in str(e.value)
    with pytest.raises(JojoError, match='could not push hf to me/x'):  # nobody listening
        push_to_hub(folder, 'me/x', token='hf_bad', endpoint='http://127.0.0.1:9')
    with pytest.raises(JojoError, match="--push-to-hub 'not a repo'"):
        push_to_hub(folder, 'not a repo', token='hf_bad', endpoint=local_hub.url)
    (tmp_path/'mine').mkdir()
    with pytest.raises(JojoError, match='is not a jojo export in Hugging Face format'):
        push_to_hub(tmp_path/'mine', 'me/x', token='hf_bad', endpoint=local_hub.url)
    with pytest.raises(JojoError, match='needs --format hf'):
        publish_after_export(argparse.Namespace(push_to_hub='me/x', format='safetensors'), tmp_path/'mine', ckpt)
    assert export_commit_message(tmp_path/'mine') == 'Upload mine, a jojo export'

def test_no_token_is_one_line(exported, local_hub, tmp_path, monkeypatch):
    "Without HF_TOKEN and without a saved login (`hf auth login`'s file), the push stops before any request."
    _, folder, _ = exported
    for name in ('HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_OIDC_RESOURCE'): monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(hub.constants, 'HF_TOKEN_PATH', str(tmp_path/'no_token'))  # where the login would be saved
    with pytest.raises(JojoError, match=r'^no Hugging Face token: set HF_TOKEN or run `hf auth login`'):
        push_to_hub(folder, 'me/x', endpoint=local_hub.url)
    assert local_hub.calls == []
    (tmp_path/'no_token').write_text('hf_saved_login\n')  # the token `hf auth login` saved is found
    push_to_hub(folder, 'me/x', endpoint=local_hub.url)
    assert {auth for _, auth, _ in local_hub.calls} == {'Bearer hf_saved_login'}

def test_the_export_command_writes_the_card_and_pushes(exported, local_hub, tmp_path, monkeypatch, capsys):
    "`jojo export`'s room (`export_arguments`, `cmd_export`): the export, its card, and --push-to-hub, in one command."
    root, _, ckpt = exported
    p = argparse.ArgumentParser()
    export_arguments(p)
    monkeypatch.setenv('HF_ENDPOINT', local_hub.url)
    monkeypatch.setenv('HF_TOKEN', 'hf_cmd')
    refused = p.parse_args(['r', str(tmp_path/'bare'), '--format', 'safetensors', '--push-to-hub', 'me/cmd',
                            '--runs-dir', str(root/'runs'), '--device', 'cpu'])
    with pytest.raises(JojoError, match='--push-to-hub needs --format hf'): cmd_export(refused)
    assert not (tmp_path/'bare').exists()  # refused before any work
    args = p.parse_args(['r', str(tmp_path/'out'), '--push-to-hub', 'me/cmd', '--runs-dir', str(root/'runs'),
                         '--device', 'cpu'])
    assert cmd_export(args) == 0
    card = hub.ModelCard.load(tmp_path/'out'/'README.md')
    assert card.data.to_dict()['jojo']['checkpoint_sha256'] == checkpoint_sha256(ckpt)
    assert "from_pretrained('me/cmd')" in card.text
    repo = local_hub.repos['me/cmd']
    assert repo['visibility'] == 'private' and set(repo['files']) == {f.name for f in (tmp_path/'out').iterdir()}

def test_jojo_export_on_the_command_line(exported, local_hub, tmp_path):
    "The same through the installed `jojo` command, once cli.COMMANDS gives `export` to jojo_nb.publish."
    root, _, _ = exported
    if '--push-to-hub' not in run_jojo('export', '--help').stdout: pytest.skip('jojo export has no --push-to-hub yet')
    p = run_jojo('export', 'r', tmp_path/'out', '--device', 'cpu', '--push-to-hub', 'me/cli', cwd=root,
                 env={'HF_ENDPOINT': local_hub.url, 'HF_TOKEN': 'hf_cli'})
    assert p.returncode == 0, p.stderr[-2000:]
    assert hub.ModelCard.load(tmp_path/'out'/'README.md').data.eval_results
    assert local_hub.repos['me/cli']['visibility'] == 'private'
    assert set(local_hub.repos['me/cli']['files']) == {f.name for f in (tmp_path/'out').iterdir()}
    p = run_jojo('export', 'r', tmp_path/'x', '--format', 'safetensors', '--push-to-hub', 'me/cli', cwd=root)
    assert p.returncode == 2 and '--push-to-hub needs --format hf' in p.stderr.strip().splitlines()[-1]

def test_a_checkpoint_outside_its_run_keeps_its_config_on_the_card(exported, tmp_path):
    "`jojo export` of a checkpoint file copied out of its run: the card describes its config (read from the checkpoint)."
    import shutil
    root, _, ckpt = exported
    loose = tmp_path/'loose.pt'
    shutil.copyfile(ckpt, loose)
    p = run_jojo('export', loose, tmp_path/'out', '--device', 'cpu', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    card = hub.ModelCard.load(tmp_path/'out'/'README.md')
    assert 'Not recorded' not in card.text
    for part in ('layers, ', 'heads, width', '| optimizer |', 'dataset: `tinyshakespeare`'):
        assert part in card.text, part
    assert card.data.to_dict()['jojo']['checkpoint'] == 'loose.pt'
    assert card.data.to_dict()['jojo']['checkpoint_sha256'] == checkpoint_sha256(loose)

def test_a_damaged_tokenizer_json_is_one_line(exported, tmp_path):
    "A `tokenizer.json` the tokenizers library cannot parse, in an export folder: the card is refused in one line."
    import shutil
    _, folder, ckpt = exported
    shutil.copytree(folder, tmp_path/'hf')
    (tmp_path/'hf'/'tokenizer.json').write_text('{"version": "1.0", "model": ')
    with pytest.raises(JojoError, match=r'tokenizer\.json .*tokenizer\.json is not a valid tokenizer') as e:
        write_model_card(tmp_path/'hf', ckpt)
    assert '\n' not in str(e.value)
    (tmp_path/'hf'/'tokenizer.json').write_bytes(b'\xff\xfe not utf-8')
    with pytest.raises(JojoError, match='is not a valid tokenizer'): write_model_card(tmp_path/'hf', ckpt)
