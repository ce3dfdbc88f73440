#!/usr/bin/env python3
"""Drive the fake API with the official `anthropic` Python SDK, strict response validation on.

    python tests/sdk/flow.py http://127.0.0.1:<port>

Runs the flow of the testkit issue: create agent, update it with its version, environment,
vault, credentials, session, open the stream, send a message, read to idle, list events,
archive. Every response is validated by the SDK itself (`_strict_response_validation=True`:
pydantic validation instead of lenient construction) and, on top of that, must not carry any
field the SDK does not know (an "extra" would mean the fake invented or misspelt a field).
Exits non-zero on the first failure.
"""
import pathlib
import sys

import anthropic
import pydantic

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "fixtures"))
from validate import strip_extras  # noqa: E402  (shared with the fixture check)

checked = 0


def check(obj, what):
    """Fail on fields unknown to the SDK; count validated responses."""
    global checked
    extras = strip_extras(obj)
    if extras:
        raise SystemExit(f"FAIL {what}: fields unknown to the SDK: {extras}")
    checked += 1
    return obj


def main():
    base_url = sys.argv[1]
    client = anthropic.Anthropic(
        api_key="sk-ant-fake-sdk-flow",
        base_url=base_url,
        max_retries=0,
        _strict_response_validation=True,
    )
    beta = client.beta

    agent = check(beta.agents.create(
        name="SDK flow agent",
        model="claude-sonnet-4-6",
        system="You are a test agent.",
        tools=[{"type": "agent_toolset_20260401"},
               {"type": "mcp_toolset", "mcp_server_name": "linear"},
               {"type": "custom", "name": "update_status", "description": "Update a task status.",
                "input_schema": {"type": "object", "properties": {"status": {"type": "string"}}}}],
        mcp_servers=[{"type": "url", "name": "linear", "url": "https://mcp.linear.app/mcp"}],
        skills=[{"type": "anthropic", "skill_id": "xlsx"}],
        metadata={"owner": "sdk-flow"},
    ), "agents.create")
    assert agent.version == 1, agent.version
    updated = check(beta.agents.update(agent.id, version=agent.version, description="updated"), "agents.update")
    assert updated.version == 2 and updated.description == "updated"
    try:
        beta.agents.update(agent.id, version=1, description="stale")
        raise SystemExit("FAIL agents.update with a stale version was accepted")
    except anthropic.ConflictError:
        pass
    check(beta.agents.retrieve(agent.id), "agents.retrieve")
    for a in beta.agents.list(limit=10):
        check(a, "agents.list")

    env = check(beta.environments.create(
        name="sdk-flow-env",
        config={"type": "cloud", "networking": {"type": "limited", "allowed_hosts": ["api.example.com"],
                                                 "allow_mcp_servers": True, "allow_package_managers": True},
                "packages": {"pip": ["pandas"]}},
    ), "environments.create")

    vault = check(beta.vaults.create(display_name="SDK flow user", metadata={"external_user_id": "u1"}), "vaults.create")
    bearer = check(beta.vaults.credentials.create(
        vault.id, auth={"type": "static_bearer", "mcp_server_url": "https://mcp.linear.app/mcp", "token": "lin_secret"},
        display_name="Linear"), "credentials.create static_bearer")
    oauth = check(beta.vaults.credentials.create(
        vault.id, auth={"type": "mcp_oauth", "mcp_server_url": "https://mcp.notion.com/mcp", "access_token": "at_secret",
                        "expires_at": "2099-01-01T00:00:00Z",
                        "refresh": {"refresh_token": "rt_secret", "client_id": "cid", "token_endpoint": "https://api.notion.com/v1/oauth/token",
                                    "token_endpoint_auth": {"type": "client_secret_post", "client_secret": "cs_secret"}}}),
        "credentials.create mcp_oauth")
    for c in (bearer, oauth):
        dumped = c.model_dump_json()
        for secret in ("lin_secret", "at_secret", "rt_secret", "cs_secret"):
            assert secret not in dumped, f"secret {secret} was echoed"
    for c in beta.vaults.credentials.list(vault.id):
        check(c, "credentials.list")

    session = check(beta.sessions.create(
        agent={"type": "agent", "id": agent.id, "version": updated.version},
        environment_id=env.id, vault_ids=[vault.id], title="SDK flow", metadata={"ticket": "T-1"},
    ), "sessions.create")
    assert session.status == "idle", session.status

    seen = []
    with beta.sessions.events.stream(session.id) as stream:
        sent = beta.sessions.events.send(
            session.id, events=[{"type": "user.message", "content": [{"type": "text", "text": "Hello"}]}])
        check(sent, "events.send")
        for event in stream:
            check(event, f"stream event {event.type}")
            seen.append(event.type)
            if event.type == "session.status_idle" and event.stop_reason.type != "requires_action":
                break
    assert "agent.message" in seen and seen[-1] == "session.status_idle", seen

    listed = [check(e, "events.list") for e in beta.sessions.events.list(session.id)]
    assert [e.type for e in listed].count("user.message") == 1, "history holds each event once"
    assert {e.type for e in listed} >= {"user.message", "agent.message", "session.status_idle"}

    archived = check(beta.sessions.archive(session.id), "sessions.archive")
    assert archived.status == "terminated", archived.status
    check(beta.agents.archive(agent.id), "agents.archive")
    check(beta.environments.archive(env.id), "environments.archive")
    check(beta.vaults.archive(vault.id), "vaults.archive")
    print(f"sdk flow ok: {checked} responses validated strictly (anthropic {anthropic.__version__})")


if __name__ == "__main__":
    try:
        main()
    except (anthropic.APIError, pydantic.ValidationError, AssertionError) as exc:
        raise SystemExit(f"FAIL: {type(exc).__name__}: {exc}")
