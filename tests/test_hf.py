"Hugging Face interop: a jojo GPT-2 exported and loaded by transformers computes the same logits, and back."
import pytest, torch
from jojo_nb.config import ModelConfig
from jojo_nb.model import GPT
from jojo_nb.hf import export_hf, load_hf

transformers = pytest.importorskip('transformers')

def test_export_to_transformers_and_back(tmp_path):
    torch.manual_seed(0)
    cfg = ModelConfig(n_layer=3, n_head=4, n_embd=64, block_size=64, vocab_size=50257)
    ours = GPT(cfg).eval()
    export_hf(ours, tmp_path/'hf')
    theirs = transformers.GPT2LMHeadModel.from_pretrained(tmp_path/'hf').eval()
    x = torch.randint(0, 50257, (2, 64))
    with torch.no_grad():
        a = ours(x)[0][..., :50257]
        b = theirs(x).logits
    assert b.shape == a.shape
    assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()

    theirs.save_pretrained(tmp_path/'from_hf')  # transformers writes its own folder; we import it
    back = load_hf(tmp_path/'from_hf').eval()
    with torch.no_grad(): c = back(x)[0][..., :50257]
    assert torch.allclose(c, b, atol=1e-5), (c - b).abs().max()
    assert back.padded_vocab == 50304

def test_export_without_biases(tmp_path):
    torch.manual_seed(1)
    ours = GPT(ModelConfig(n_layer=2, n_head=2, n_embd=32, block_size=32, vocab_size=1000, bias=False)).eval()
    export_hf(ours, tmp_path/'hf')
    theirs = transformers.GPT2LMHeadModel.from_pretrained(tmp_path/'hf').eval()
    x = torch.randint(0, 1000, (1, 32))
    with torch.no_grad(): assert torch.allclose(ours(x)[0][..., :1000], theirs(x).logits, atol=1e-5)
