"""Modern models that travel (issue 30): a model trained with the modern options exports as the `transformers`
architecture that computes the same function (Qwen3 with QK-norm, Llama without), with its tokenizer and chat
template; transformers gives the same logits and the same greedy text; `--init-from` the exported folder brings the
same model back; a model with an option no architecture has is refused in one line that says what to change."""
import json
import pytest, torch
from conftest import run_jojo
from jojo_nb.config import ModelConfig, load_config
from jojo_nb.core import JojoError
from jojo_nb.hf import export_hf, load_hf, load_for_inference, folder_tokenizer, hf_architecture
from jojo_nb.model import GPT
from jojo_nb.tokenizer import Tokenizer

transformers = pytest.importorskip('transformers')

# a tiny byte-level model on Tiny Shakespeare (inside the package), from a preset of the gpt2 family
TINY = ['--data.dataset', 'tinyshakespeare', '--data.tokenizer', 'bytes', '--data.split', 'tail', '--model.n_layer', '2',
        '--model.n_head', '2', '--model.n_embd', '64', '--model.block_size', '32', '--train.micro_batch_size', '4',
        '--train.total_batch_size', '0', '--optim.warmup_steps', '5', '--eval.interval', '0', '--eval.hellaswag',
        'false', '--eval.sample_prompts', '[]', '--checkpoint.interval', '0', '--log.tensorboard', 'false',
        '--train.device', 'cpu']
ARCHS = {'qwen3': ['--preset', 'modern-hf'],  # rotary, RMSNorm, QK-norm, SwiGLU, untied head, no biases
         'llama': ['--preset', 'modern-hf', '--model.qk_norm', 'false', '--model.bias', 'true',
                   '--model.tie_embeddings', 'true', '--model.rope_theta', '500000']}

def jojo_ok(*args, cwd):
    p = run_jojo(*args, cwd=cwd)
    assert p.returncode == 0, p.stderr[-2000:]
    return p

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "A run of each architecture (20 steps) and its export, `jojo export RUN hf-RUN`."
    folder = tmp_path_factory.mktemp('modern')
    for arch, preset in ARCHS.items():
        jojo_ok('train', *preset, *TINY, '--train.max_steps', '20', '--run-name', arch, cwd=folder)
        jojo_ok('export', arch, f'hf-{arch}', '--device', 'cpu', cwd=folder)
    return folder

@pytest.mark.parametrize('arch', ARCHS)
def test_transformers_computes_the_same_model(arch, runs):
    hf = runs/f'hf-{arch}'
    config = json.loads((hf/'config.json').read_text())
    assert config['model_type'] == arch and {'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'} <= \
           {f.name for f in hf.iterdir()}
    theirs = transformers.AutoModelForCausalLM.from_pretrained(hf).eval()
    assert type(theirs).__name__ == {'qwen3': 'Qwen3ForCausalLM', 'llama': 'LlamaForCausalLM'}[arch]
    ours = load_for_inference(str(runs/'runs'/arch/'checkpoints'/'latest.pt'), device='cpu').model
    V = ours.vocab_size
    x = torch.randint(0, V, (3, 32), generator=torch.Generator().manual_seed(0))
    with torch.no_grad(): diff = (ours(x)[0][..., :V] - theirs(x).logits).abs().max().item()
    print(f"{arch}: max |dlogit| {diff:.2e}")
    assert diff < 1e-4
    loaded = load_for_inference(str(runs/'runs'/arch/'checkpoints'/'latest.pt'), device='cpu')  # as jojo sample
    prompt = loaded.tokenizer.encode('ROMEO:')
    jojo_ids = loaded.model.generate([prompt], 30, temperature=0)[0]
    hf_ids = theirs.generate(torch.tensor([prompt]), do_sample=False, max_new_tokens=30, min_new_tokens=30)[0]
    assert hf_ids[len(prompt):].tolist() == jojo_ids and len(jojo_ids) == 30
    pipe = transformers.pipeline('text-generation', model=str(hf), device='cpu')  # its own tokenizer and decoding
    hf_text = pipe('ROMEO:', do_sample=False, max_new_tokens=30)[0]['generated_text']
    assert hf_text == loaded.tokenizer.decode(prompt + jojo_ids), hf_text

@pytest.mark.parametrize('arch', ARCHS)
def test_init_from_the_export_brings_the_model_back(arch, runs):
    "`jojo train --init-from hf-RUN` (one step at learning rate 0) holds the trained model's weights exactly."
    args = ['--init-from', f'hf-{arch}', '--train.max_steps', '1', '--optim.lr', '0', '--optim.min_lr', '0',
            '--optim.warmup_steps', '0', '--run-name', f'back-{arch}']
    jojo_ok('train', *ARCHS[arch], *TINY, *args, cwd=runs)
    load = lambda run: torch.load(runs/'runs'/run/'checkpoints'/'latest.pt', weights_only=True)['model']
    trained, back = load(arch), load(f'back-{arch}')
    V = load_for_inference(str(runs/'runs'/arch/'checkpoints'/'latest.pt'), device='cpu').model.vocab_size
    assert set(trained) == set(back)
    for k, v in trained.items():  # the padding rows of the vocabulary are not exported: they keep their init
        rows = slice(None, V) if k in ('transformer.wte.weight', 'lm_head.weight') else slice(None)
        assert torch.equal(v[rows], back[k][rows]), k

@pytest.mark.parametrize('arch', ARCHS)
def test_a_folder_transformers_wrote_loads(arch, runs, tmp_path):
    theirs = transformers.AutoModelForCausalLM.from_pretrained(runs/f'hf-{arch}').eval()
    theirs.save_pretrained(tmp_path/'saved')
    back = load_hf(tmp_path/'saved').eval()
    x = torch.randint(0, back.vocab_size, (2, 32), generator=torch.Generator().manual_seed(1))
    with torch.no_grad(): assert (back(x)[0][..., :back.vocab_size] - theirs(x).logits).abs().max() < 1e-5

def test_tokenizer_and_chat_template_travel(tmp_path):
    tok = Tokenizer('bytes', chat=True)
    m = load_config(preset='modern-hf', overrides={'model.n_layer': '1', 'model.n_head': '2', 'model.n_embd': '32',
                                                   'model.block_size': '64', 'model.vocab_size': str(tok.n_vocab)}).model
    export_hf(GPT(m), tmp_path/'hf', tokenizer=tok)
    hf = transformers.AutoTokenizer.from_pretrained(tmp_path/'hf')
    text = "Hello, Qwen!\n\tcafé 🙂"
    assert hf(text)['input_ids'] == tok.encode(text) and hf.decode(tok.encode(text)) == text
    chat = [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi?'}]
    assert hf.apply_chat_template(chat, add_generation_prompt=True, tokenize=True)['input_ids'] == \
           tok.encode_chat(chat, add_generation_prompt=True)[0]
    assert folder_tokenizer(tmp_path/'hf').identity() == tok.identity()

def test_options_without_an_architecture_are_refused_in_one_line(tmp_path):
    jojo_ok('train', '--preset', 'modern', *TINY, '--train.max_steps', '1', '--optim.warmup_steps', '0', '--run-name', 'm',
            cwd=tmp_path)
    p = run_jojo('export', 'm', 'hf', '--device', 'cpu', cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.count('\n') == 1 and 'Traceback' not in p.stderr, p.stderr
    assert "model.mlp='relu2'" in p.stderr and 'model.logit_softcap=30.0' in p.stderr
    assert 'train with model.mlp swiglu, model.logit_softcap 0.0 (the modern-hf preset)' in p.stderr
    assert not (tmp_path/'hf').exists()
    with pytest.raises(JojoError, match="no Hugging Face architecture has model.norm='layernorm'; train with "
                                        "model.norm rmsnorm"):
        hf_architecture(ModelConfig(rotary=True, mlp='swiglu', tie_embeddings=False))

def test_shapes_jojo_does_not_have_are_refused_in_one_line(runs, tmp_path):
    "A Llama folder with grouped-query attention (as most hub Llamas) is named and refused, not half loaded."
    import shutil
    shutil.copytree(runs/'hf-llama', tmp_path/'gqa')
    config = json.loads((tmp_path/'gqa'/'config.json').read_text())
    (tmp_path/'gqa'/'config.json').write_text(json.dumps({**config, 'num_key_value_heads': 1}))
    with pytest.raises(JojoError, match=r"num_key_value_heads=1 is not in jojo_nb's llama, which has 2"):
        load_hf(tmp_path/'gqa')
