"""Fine-tuning the encoder (`triage train --finetune`): data, model, loop, export.

Tooling only: the runtime never imports this package; it loads what
`export.py` writes (an int8 ONNX encoder inside the model directory).
"""
