"""Qwen2.5-VL models with random weights and a small tokenizer: no download needed.

For tests (a tiny model on the CPU) and for speed and memory checks at the published
sizes (``SHAPES``); their scores mean nothing. ``save_random_model`` writes a folder that
``QwenVL.load`` reads like any downloaded checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["SHAPES", "SPECIAL_TOKENS", "random_model", "save_random_model", "small_tokenizer"]

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

_TINY_TEXT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},
}
_TINY_VISION = {
    "depth": 2,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_heads": 2,
    "out_hidden_size": 64,
    "fullatt_block_indexes": [1],
}
_7B_TEXT = {
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "vocab_size": 152064,
    "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
}
_7B_VISION = {
    "depth": 32,
    "hidden_size": 1280,
    "intermediate_size": 3420,
    "num_heads": 16,
    "out_hidden_size": 3584,
    "fullatt_block_indexes": [7, 15, 23, 31],
}
SHAPES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "tiny": (_TINY_TEXT, _TINY_VISION),
    "7b": (_7B_TEXT, _7B_VISION),
}
"""Text and vision settings by name: ``tiny`` for tests, ``7b`` as published."""


def small_tokenizer(corpus: Iterable[str], vocab_size: int = 1000) -> Any:
    """A byte-level BPE tokenizer trained on ``corpus``, digits one token each as in Qwen's,
    with Qwen's special tokens and end-of-turn token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(False, False)]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )


def random_model(tokenizer: Any, shape: str = "tiny", *, dtype: Any = None, seed: int = 0) -> Any:
    """A ``Qwen2_5_VLForConditionalGeneration`` of ``shape`` with random weights, built on
    the current default device, its special token ids taken from ``tokenizer``."""
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    text, vision = SHAPES[shape]
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": max(len(tokenizer), 1),
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
            "rope_theta": 1e6,
            "max_position_embeddings": 32768,
            **text,
        },
        vision_config={"window_size": 112, "tokens_per_second": 2, **vision},
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration._from_config(  # type: ignore[no-untyped-call]
        config, dtype=dtype or torch.float32
    )
    return model.eval()


def save_random_model(folder: str | Path, corpus: Iterable[str], shape: str = "tiny") -> Path:
    """Write a random model of ``shape`` and a tokenizer trained on ``corpus`` to ``folder``."""
    folder = Path(folder)
    tokenizer = small_tokenizer(corpus)
    random_model(tokenizer, shape).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
