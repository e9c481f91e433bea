"""The payments sandbox: a simulated payments platform with incidents, Tier-1 escalations and ground truth."""

from paytriage.sandbox.generator import SANDBOX_VERSION, SandboxConfig, generate

__all__ = ["SANDBOX_VERSION", "SandboxConfig", "generate"]
