"""A Lambda context object for invoking handlers locally (what the Lambda runtime passes)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

__all__ = ["LocalContext"]


@dataclass
class LocalContext:
    function_name: str = "local"
    memory_limit_in_mb: int = 512
    timeout_s: float = 120.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
