"""The trained SCINE evaluator: Qwen2.5-VL with a linear head on the last token, trained on
expert preferences with the Bradley-Terry objective."""
