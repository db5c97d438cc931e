from typing import Any, Literal, Optional

def simulate(
    client: Any,
    model: Literal["gbm", "heston", "garch", "deep"] = "heston",
    paths: int = 1000,
    steps: int = 252,
    seed: int = 42,
    options: bool = False,
    *,
    out: str,
    shards: Optional[int] = None,
    threads: Optional[int] = None,
    overwrite: bool = False,
    **params: Any,
) -> str: ...
