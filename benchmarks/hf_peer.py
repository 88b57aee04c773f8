"""The Hugging Face side of the GPT-2, T5 and DETR benchmarks: transformers on PyTorch (CPU).

Runs in the peer's own environment (`make .venv-hf`: torch and transformers, never this
project's dependencies), started and driven by `benchmarks.peer_worker.PeerWorker`: one JSON
request per line on stdin, one `@@ `-prefixed JSON answer per request on stdout. It imports
nothing from this project.

Requests (`op` and arguments):
- `setup` `model="gpt2" | "t5"`, `threads`: a randomly initialised model of GPT-2 small's or
  T5-small's shape; answers its parameter count and the library versions.
- `generate` `batch`, `length`, `new_tokens`: greedy decoding of exactly `new_tokens` tokens for
  random prompts; answers the seconds it took.
- `setup` `model="detr"`, `data` (an .npz of `images`, `labels`, `boxes`), `threads`:
  `DetrForObjectDetection` with a ResNet-50 from transformers, auxiliary losses on.
- `forward` / `train`: one inference call / one training step (set loss, backward, SGD) on the
  data; answers the seconds (and the loss).
"""

from __future__ import annotations

import json
import sys
import time

GENERATION_CONFIGS = {
    "gpt2": dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12),
    "t5": dict(
        vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_heads=8,
        dropout_rate=0.0, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
    ),
}  # fmt: skip


OPS = {"setup", "versions", "generate", "forward", "train"}


class Peer:
    """The model under test and the requests it answers."""

    def __init__(self):
        import torch
        import transformers

        self.torch, self.transformers = torch, transformers
        self.model = self.data = self.optimizer = None

    def versions(self) -> dict:
        return {"version": self.transformers.__version__, "torch": self.torch.__version__}

    def setup(self, model: str, threads: int, data: str | None = None) -> dict:
        torch, transformers = self.torch, self.transformers
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.name = model
        if model == "gpt2":
            self.model = transformers.GPT2LMHeadModel(
                transformers.GPT2Config(**GENERATION_CONFIGS["gpt2"])
            ).eval()
        elif model == "t5":
            self.model = transformers.T5ForConditionalGeneration(
                transformers.T5Config(**GENERATION_CONFIGS["t5"])
            ).eval()
        elif model == "detr":
            self.setup_detr(data)
        else:
            raise ValueError(f"Unknown model: {model!r}")
        parameters = sum(p.numel() for p in self.model.parameters())
        return {"parameters": parameters, **self.versions()}

    def setup_detr(self, data: str) -> None:
        import numpy as np

        torch, transformers = self.torch, self.transformers
        # transformers' DETR loss imports center_to_corners_format only when Pillow is
        # installed; the peer environment need not have it, so the same function is given.
        import transformers.loss.loss_for_object_detection as detection_loss

        detection_loss.center_to_corners_format = lambda b: torch.cat(
            [b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2], dim=-1
        )
        config = transformers.DetrConfig(
            use_timm_backbone=False, use_pretrained_backbone=False,
            backbone_config=transformers.ResNetConfig(out_features=["stage4"]),
            num_labels=91, auxiliary_loss=True,
        )  # fmt: skip
        self.model = transformers.DetrForObjectDetection(config)
        arrays = np.load(data)
        self.data = {
            "pixels": torch.from_numpy(arrays["images"].transpose(0, 3, 1, 2).copy()),
            "labels": [
                {
                    "class_labels": torch.from_numpy(labels).long(),
                    "boxes": torch.from_numpy(boxes),
                }
                for labels, boxes in zip(arrays["labels"], arrays["boxes"], strict=True)
            ],
        }
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.SGD(trainable, 1e-4)

    def generate(self, batch: int, length: int, new_tokens: int) -> dict:
        torch = self.torch
        # T5: ids above pad, end and unknown, inside its SentencePiece vocabulary.
        low, high = (3, 32000) if self.name == "t5" else (0, 50000)
        ids = torch.randint(low, high, (batch, length))
        extra = {"pad_token_id": 0} if self.name == "gpt2" else {}
        start = time.perf_counter()
        with torch.no_grad():
            out = self.model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                num_beams=1, min_new_tokens=new_tokens, max_new_tokens=new_tokens, **extra,
            )  # fmt: skip
        return {"seconds": time.perf_counter() - start, "shape": list(out.shape)}

    def forward(self) -> dict:
        self.model.eval()
        start = time.perf_counter()
        with self.torch.no_grad():
            self.model(pixel_values=self.data["pixels"])
        return {"seconds": time.perf_counter() - start}

    def train(self) -> dict:
        self.model.train()
        start = time.perf_counter()
        loss = self.model(pixel_values=self.data["pixels"], labels=self.data["labels"]).loss
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"seconds": time.perf_counter() - start, "loss": float(loss)}


def serve() -> None:  # pragma: no cover - runs in the Hugging Face environment
    peer = Peer()
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        if op == "quit":
            return
        try:
            if op not in OPS:
                raise ValueError(f"Unknown op {op!r}; one of {sorted(OPS)}")
            answer = getattr(peer, op)(**request)
        except Exception as error:  # the driver shows it with this worker's stderr
            answer = {"error": repr(error)}
        print("@@ " + json.dumps(answer), flush=True)


if __name__ == "__main__":
    serve()
