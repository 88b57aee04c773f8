"""The process a comparison benchmark drives in its peer's own Python environment."""

from __future__ import annotations

import json
import os
import subprocess


class PeerWorker:
    """A peer benchmark worker: one JSON request per line on its stdin, one `@@ `-prefixed JSON
    answer line on its stdout (other output ignored); its stderr goes to `log_path`.

    The worker runs without this project on `PYTHONPATH`: it must import only its own stack.
    An answer holding `"error"` raises (with the worker's stderr tail) unless the request
    allows it.

    Args:
        name: the peer's name, for messages (e.g. `"PyG"`).
        python: the peer environment's interpreter.
        script: the worker module's path.
        log_path: where the worker's stderr goes.

    Example:

    ```python
    worker = PeerWorker("TFA", ".venv-tfa/bin/python", "benchmarks/tfa_peer.py", "tfa.log")
    info = worker.request("threads", threads=2)
    worker.close()
    ```
    """

    def __init__(self, name: str, python: str, script: str, log_path: str):
        self.name = name
        self.log = open(log_path, "w")  # noqa: SIM115 (kept open for the worker's life)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        self.process = subprocess.Popen(
            [python, script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
            env=env,
        )

    def stderr_tail(self) -> str:
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()[-3000:]

    def request(self, op: str, allow_error: bool = False, **kwargs) -> dict:
        """The worker's answer to `{"op": op, **kwargs}`."""
        try:
            self.process.stdin.write(json.dumps({"op": op, **kwargs}) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError(f"The {self.name} worker is gone:\n{self.stderr_tail()}") from None
        for line in self.process.stdout:
            if line.startswith("@@ "):
                answer = json.loads(line[3:])
                if "error" in answer and not allow_error:
                    raise RuntimeError(
                        f"The {self.name} worker failed {op!r}: {answer['error']}\n"
                        f"{self.stderr_tail()}"
                    )
                return answer
        raise RuntimeError(f"The {self.name} worker stopped on {op!r}:\n{self.stderr_tail()}")

    def close(self) -> None:
        try:
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        self.process.wait(timeout=60)
        self.log.close()
