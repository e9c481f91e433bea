"""Pytest fixtures for connector tests: a validated fake Jira / Zendesk on loopback and clients for them.

Import the fixtures into a test module (``from tests.contract.fixtures import jira_env, …``). Each server
fixture fails the test at teardown when any request or response broke the vendor's OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pydantic import SecretStr

from paytriage.adapters.connectors.http import RetryPolicy
from paytriage.adapters.connectors.jira import JiraClient, JiraConfig, JiraCredentials
from paytriage.adapters.connectors.zendesk import ZendeskClient, ZendeskCredentials
from tests.contract.fake_jira import JiraFake
from tests.contract.fake_zendesk import ZendeskFake
from tests.contract.server import ContractServer
from tests.contract.specs import JIRA_WAIVERS, jira_openapi, zendesk_openapi

__all__ = ["JIRA_TOKEN", "ZENDESK_TOKEN", "JiraEnv", "ZendeskEnv", "jira_env", "zendesk_env"]

JIRA_TOKEN = "jira-secret-token-123"
ZENDESK_TOKEN = "zd-test-token"
FAST = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.05, max_retry_after=60)


@dataclass
class JiraEnv:
    fake: JiraFake
    server: ContractServer
    client: JiraClient
    sleeps: list[float] = field(default_factory=list)

    def client_with(self, *, token: str = JIRA_TOKEN, timeout: float = 5.0) -> JiraClient:
        creds = JiraCredentials(self.server.url, "bot@example.com", SecretStr(token))
        return JiraClient(
            creds, config=self.client.config, policy=FAST, timeout=timeout, sleep=self.sleeps.append
        )


@dataclass
class ZendeskEnv:
    fake: ZendeskFake
    server: ContractServer
    client: ZendeskClient
    sleeps: list[float] = field(default_factory=list)

    def client_with(self, *, token: str = ZENDESK_TOKEN, timeout: float = 5.0) -> ZendeskClient:
        creds = ZendeskCredentials(self.server.url, "agent@example.com", SecretStr(token))
        return ZendeskClient(creds, policy=FAST, timeout=timeout, sleep=self.sleeps.append)


def _assert_contract(server: ContractServer) -> None:
    assert server.validated >= len(server.calls), "a request bypassed the validator"
    assert not server.violations, "OpenAPI contract broken:\n" + "\n".join(server.violations)


@pytest.fixture
def jira_env() -> Iterator[JiraEnv]:
    fake = JiraFake(token=JIRA_TOKEN)
    config = JiraConfig.from_dict(
        {
            "project_key": "PAY",
            "issue_type": "Bug",
            "labels": ["paytriage"],
            "components": ["Payments"],
            "allowed_components": ["refunds", "webhooks"],
            "priority_map": {"P1": "Blocker", "P2": "Critical", "P3": "Major", "P4": "Minor"},
            "duplicate_search": {"min_similarity": 80, "max_candidates": 50},
        }
    )
    with ContractServer(fake, jira_openapi(), waivers=JIRA_WAIVERS) as server:
        sleeps: list[float] = []
        creds = JiraCredentials(server.url, "bot@example.com", SecretStr(JIRA_TOKEN))
        client = JiraClient(creds, config=config, policy=FAST, timeout=5.0, sleep=sleeps.append)
        env = JiraEnv(fake=fake, server=server, client=client, sleeps=sleeps)
        yield env
        client.close()
    _assert_contract(server)


@pytest.fixture
def zendesk_env() -> Iterator[ZendeskEnv]:
    openapi = zendesk_openapi()
    if openapi is None:
        pytest.skip("Zendesk OpenAPI document not found under ../shared/data/api_specs (not redistributable)")
    fake = ZendeskFake(250, comments_per_ticket=2, token=ZENDESK_TOKEN)
    with ContractServer(fake, openapi, strip_json=True) as server:
        sleeps: list[float] = []
        creds = ZendeskCredentials(server.url, "agent@example.com", SecretStr(ZENDESK_TOKEN))
        client = ZendeskClient(creds, policy=FAST, timeout=5.0, sleep=sleeps.append)
        env = ZendeskEnv(fake=fake, server=server, client=client, sleeps=sleeps)
        yield env
        client.close()
    _assert_contract(server)
