"""Vision-language models run from the project's own frames (Qwen2.5-VL), shared by the
zero-shot judge (``scine.judge.vlm``) and the trained evaluator."""
