"""The model config is the one place a model option is declared: every other place that must know an option either
derives it from `ModelConfig` or is checked here, option by option and value by value, so a new option that one
place forgot fails a test that names the place (issue 28 §4)."""
import dataclasses, typing
import pytest, torch
from jojo_nb.config import ModelConfig, arch_keys, option_kind, model_params
from jojo_nb.model import GPT, param_groups

BASE = ModelConfig(n_layer=2, n_head=2, n_embd=64, block_size=16, vocab_size=200)
OPTIONS = [f.name for f in dataclasses.fields(ModelConfig)]

def other_values(name:str) -> list:
    "Values of option `name` other than its default in `BASE` that a tiny model can take."
    typ, now = typing.get_type_hints(ModelConfig)[name], getattr(BASE, name)
    if typing.get_origin(typ) is typing.Literal: return [v for v in typing.get_args(typ) if v != now]
    if typ is bool: return [not now]
    sizes = dict(n_layer=3, n_head=4, n_embd=96, block_size=24, vocab_size=300, vocab_multiple=1)
    if name in sizes: return [sizes[name]]
    return [dict(dropout=0.1, init_std=0.05, rope_theta=500.0, logit_softcap=30.0)[name]]

VARIANTS = [(k, v) for k in OPTIONS for v in other_values(k)]
ROTARY = dict(rotary=True, norm='rmsnorm', mlp='swiglu')  # where an option only shows on a rotary model

def variant(name, value, **base):
    return dataclasses.replace(BASE, **{**base, name: value})

def test_every_option_has_values_to_try():
    "A new option gets a value here (`other_values`), so the checks below cover it."
    for k in OPTIONS: assert other_values(k), f"tests/test_model_options.py: give model.{k} a value to try"

def test_checkpoint_arch_keys_are_derived_from_the_config():
    from jojo_nb import checkpoint
    assert tuple(checkpoint.ARCH_KEYS) == arch_keys(), \
        f"checkpoint.ARCH_KEYS {checkpoint.ARCH_KEYS} is not config.arch_keys() {arch_keys()}: set ARCH_KEYS = arch_keys()"

@pytest.mark.parametrize('name,value', [v for v in VARIANTS if option_kind(v[0]) == 'training'])
def test_training_options_leave_the_function_alone(name, value):
    "An option marked `training_only` changes no weight and, in eval mode, nothing the weights compute."
    torch.manual_seed(0)
    a, b = GPT(BASE).eval(), GPT(variant(name, value)).eval()
    b.load_state_dict(a.state_dict())
    x = torch.randint(0, 200, (2, 16))
    with torch.no_grad(): assert torch.equal(a(x)[0], b(x)[0]), f"model.{name} is training_only but changes the function"

@pytest.mark.parametrize('name,value', VARIANTS)
def test_config_counts_the_parameters(name, value):
    for base in ({}, ROTARY):
        m = variant(name, value, **base)
        with torch.device('meta'): real = GPT(m).param_counts()['total']
        assert model_params(m) == real, f"config.model_params does not count model.{name}={value!r} ({model_params(m)} != {real})"

def test_hf_declares_every_option():
    from jojo_nb.hf import HF_OPTIONS
    missing = [k for k in OPTIONS if k not in HF_OPTIONS]
    assert not missing, f"hf.HF_OPTIONS has no entry for model.{missing[0]}: say which value each architecture needs"
    assert set(HF_OPTIONS) <= set(OPTIONS), f"hf.HF_OPTIONS names options the model lacks: {set(HF_OPTIONS) - set(OPTIONS)}"

transformers = pytest.importorskip('transformers')

@pytest.mark.parametrize('name,value', VARIANTS)
def test_hf_carries_what_it_accepts(name, value, tmp_path):
    "Each value an architecture accepts (by `HF_OPTIONS`) really travels: transformers computes the same logits."
    from jojo_nb.hf import export_hf, hf_architecture
    from jojo_nb.core import JojoError
    for base in ({}, ROTARY, {**ROTARY, 'qk_norm': True, 'bias': False}):
        m = variant(name, value, **base)
        try: arch = hf_architecture(m)
        except JojoError: continue  # refused in one line (tests/test_hf_modern.py)
        torch.manual_seed(0)
        ours = GPT(m).eval()
        with torch.no_grad():
            for p in ours.parameters(): p.add_(0.02 * torch.randn_like(p))  # no zero projections or unit norms
        out = tmp_path/f"{arch}-{len(list(tmp_path.iterdir()))}"
        export_hf(ours, out)
        theirs = transformers.AutoModelForCausalLM.from_pretrained(out).eval()
        x = torch.randint(0, m.vocab_size, (2, m.block_size))
        with torch.no_grad(): diff = (ours(x)[0][..., :m.vocab_size] - theirs(x).logits).abs().max().item()
        assert diff < 1e-4, f"hf: model.{name}={value!r} exports as {arch}, but transformers computes otherwise ({diff:.2g})"

@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
@pytest.mark.parametrize('name,value', VARIANTS)
def test_estimate_counts_the_activations(name, value, dtype):
    """The memory forecast's closed form against what autograd really saves, for every option value, on a CPU in
    fp32 and under bf16 autocast (the attention in fp32 there; autocast's bf16 weight copies counted apart)."""
    from jojo_nb.estimate import activation_bytes, saved_tensor_bytes
    from jojo_nb.model import param_groups
    if dtype != torch.float32 and name == 'dropout': pytest.skip('dropout is modelled in fp32 only')
    m = variant(name, value, **ROTARY) if name == 'qk_norm' else variant(name, value)
    torch.manual_seed(0)
    model = GPT(m)
    x = torch.randint(0, m.vocab_size, (4, m.block_size))
    mixed = dtype != torch.float32
    copies = 2 * sum(p.numel() for p in param_groups(model)['matrices']) if mixed else 0
    ctx = lambda: torch.autocast('cpu', dtype=dtype, enabled=mixed)
    got, formula = saved_tensor_bytes(model, x, x, ctx) - copies, activation_bytes(m, 4, dtype)
    assert abs(formula / got - 1) < 0.05, \
        f"estimate.activation_bytes does not count model.{name}={value!r} in {dtype}: {formula:,} bytes, autograd saved {got:,}"
