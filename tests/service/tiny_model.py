"""Writes a tiny random Qwen2 model with a locally trained tokenizer into a directory.

Run with the vLLM venv's python (it has torch, transformers and tokenizers):
    python tiny_model.py DEST
Nothing is downloaded: the tokenizer is trained here and the weights are random.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

BOS, EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
USER, ASSISTANT = "<｜User｜>", "<｜Assistant｜>"
SPECIAL = [BOS, EOS, USER, ASSISTANT, "<think>", "</think>", "<｜pad｜>"]

# DeepSeek-R1-Distill's template, trimmed: the generation prompt opens a <think> block.
CHAT_TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}"
    "{% endif %}{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}"
    "{% elif message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}"
    "{% elif message['role'] == 'assistant' %}{% set content = message['content'] %}"
    "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}"
)


def _corpus(lines: int = 2000) -> list[str]:
    rng = random.Random(0)
    words = [
        "build",
        "step",
        "failed",
        "error",
        "docker",
        "push",
        "image",
        "cloud",
        "run",
        "model",
        "token",
        "cache",
        "layer",
        "python",
        "test",
        "deploy",
        "gateway",
        "key",
        "request",
        "stream",
        "think",
        "answer",
        "because",
        "the",
        "a",
        "of",
        "to",
    ]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(5, 30))) for _ in range(lines)]


def main(dest: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    dest.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_corpus(), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token="<｜pad｜>"
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(dest)

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(fast),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,  # head size 32: vLLM's CPU attention needs >= 32
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        torch_dtype="float32",
    )
    Qwen2ForCausalLM(config).save_pretrained(dest, safe_serialization=True)
    generation = {
        "bos_token_id": fast.bos_token_id,
        "eos_token_id": fast.eos_token_id,
        "do_sample": True,
        "temperature": 0.6,
        "top_p": 0.95,
    }
    (dest / "generation_config.json").write_text(json.dumps(generation, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
