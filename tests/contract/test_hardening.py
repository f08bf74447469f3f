"""Hardening written into the template and the code: encryption at rest, no public
bucket, a throttled API, and a timeout on every outbound call.

Visibility timeouts against function timeouts are in test_delivery.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.contract import built
from tests.contract.template import ROOT, resources, template

QUEUES = resources("AWS::SQS::Queue")
TOPICS = resources("AWS::SNS::Topic")
BUCKETS = resources("AWS::S3::Bucket")


# ------------------------------------------------------------------ at rest
@pytest.mark.parametrize("name", sorted(QUEUES))
def test_every_queue_is_encrypted_at_rest(name):
    props = QUEUES[name]["Properties"]

    assert props.get("SqsManagedSseEnabled") is True or props.get("KmsMasterKeyId"), name


@pytest.mark.parametrize("name", sorted(TOPICS))
def test_every_topic_is_encrypted_at_rest(name):
    assert TOPICS[name]["Properties"].get("KmsMasterKeyId"), f"{name} has no KmsMasterKeyId"


@pytest.mark.parametrize("name", sorted(BUCKETS))
def test_every_bucket_blocks_all_public_access(name):
    props = BUCKETS[name]["Properties"]

    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]  # no ACLs at all


@pytest.mark.parametrize("name", sorted(BUCKETS))
def test_every_bucket_encrypts_every_object(name):
    rules = BUCKETS[name]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]

    assert rules
    assert all(
        rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms", "aws:kms:dsse") for rule in rules
    )


# ------------------------------------------------------------------ the API
def test_every_rest_api_stage_throttles_every_method():
    stages = built.resources("AWS::ApiGateway::Stage")

    assert stages, "the built template has no REST API stage"
    for name, stage in stages.items():
        every_method = [
            s
            for s in stage["Properties"].get("MethodSettings", [])
            if s.get("ResourcePath") == "/*" and s.get("HttpMethod") == "*"
        ]
        assert every_method, f"{name}: no MethodSettings for ResourcePath /* and HttpMethod *"
        assert all(int(s["ThrottlingBurstLimit"]) > 0 and float(s["ThrottlingRateLimit"]) > 0 for s in every_method)


# ------------------------------------------------------------------ outbound calls
# The contract package, the fault switch and every service package (a new service is
# checked as it appears).
PACKAGES = [
    "events",
    "fault_injection",
    *sorted(p.name for p in ROOT.iterdir() if p.name.endswith("_service") and p.is_dir()),
]
CLIENT_FACTORY = "events/aws.py"
CREATES_CLIENTS = {"client", "resource", "Session", "session", "create_client", "get_session"}
NETWORK_MODULES = {"socket", "http.client", "urllib.request", "urllib3", "requests", "httpx", "aiohttp", "smtplib"}


def _modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def _client_creations(source: str) -> list[str]:
    """Calls that make a boto3/botocore client, resource or session, however imported."""
    tree = ast.parse(source)
    roots: set[str] = set()  # local names bound to boto3/botocore or anything imported from them
    factories: set[str] = set()  # local names of their client-making functions and classes
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {
                a.asname or a.name.split(".")[0] for a in node.names if a.name.split(".")[0] in ("boto3", "botocore")
            }
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("boto3", "botocore"):
            roots |= {a.asname or a.name for a in node.names}
            factories |= {a.asname or a.name for a in node.names if a.name in CREATES_CLIENTS}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        by_name = isinstance(func, ast.Name) and func.id in factories
        by_attribute = (
            isinstance(func, ast.Attribute)
            and func.attr in CREATES_CLIENTS
            and isinstance(root, ast.Name)
            and root.id in roots
        )
        if by_name or by_attribute:
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_client_factory_sets_connect_and_read_timeouts_and_retries():
    from events.aws import client

    config = client.__wrapped__("sqs").meta.config  # a fresh client; the cached ones stay untouched
    function_timeout = int(template()["Globals"]["Function"]["Timeout"])

    assert 0 < config.connect_timeout <= 5
    assert 0 < config.read_timeout <= 10
    # One attempt that hangs gives up before the function itself times out.
    assert config.connect_timeout + config.read_timeout < function_timeout
    assert config.retries["mode"] in ("standard", "adaptive")
    assert 1 <= config.retries.get("total_max_attempts", config.retries.get("max_attempts", 0)) <= 5


def test_the_scan_finds_the_client_the_factory_creates():
    assert _client_creations((ROOT / CLIENT_FACTORY).read_text()), "the scan below would miss a client"


def test_no_module_but_the_factory_creates_a_boto3_client_resource_or_session():
    creations = {
        str(path.relative_to(ROOT)): found
        for path in _modules()
        if str(path.relative_to(ROOT)) != CLIENT_FACTORY and (found := _client_creations(path.read_text()))
    }

    assert creations == {}, "create clients with events.aws.client, which sets timeouts and retries"


def test_powertools_idempotency_uses_the_factorys_client():
    """DynamoDBPersistenceLayer makes its own boto3 client (no timeouts) unless given one."""
    calls = [
        (path, node)
        for path in _modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == "DynamoDBPersistenceLayer"
    ]

    assert calls, "no DynamoDBPersistenceLayer found: update this test"
    for path, node in calls:
        assert "boto3_client" in {k.arg for k in node.keywords}, f"{path.relative_to(ROOT)}:{node.lineno}"


def test_no_module_opens_network_connections_of_its_own():
    """The services talk to the outside only through boto3 clients from the factory;
    a module that needs another client (a real payment provider) must set a timeout,
    and this test must then check it."""
    imports = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if hit := [n for n in names if any(n == m or n.startswith(f"{m}.") for m in NETWORK_MODULES)]:
                imports.setdefault(str(path.relative_to(ROOT)), []).extend(hit)

    assert imports == {}
