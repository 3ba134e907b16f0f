"""Offline checks of infra/template.yaml that cfn-lint and checkov do not make.

- every ${...} in the state machine definition has a substitution, and every substitution is used;
- no placeholder is left outside a JSON string in what SAM packages (CloudFormation documents
  DefinitionSubstitutions as strings), and the substituted definition is valid JSON with numbers
  where Step Functions wants numbers;
- the sweeper runs on a schedule, ingest's concurrency is reserved, and a person hears of failed
  executions (each one), old queued changes and slow invalidations;
- every function is built by cargo-lambda from a binary the workspace defines, for arm64 on
  provided.al2023, and every Lambda crate in functions/ is deployed;
- no identity policy grants a "*" action, and "*" resources appear only for actions that have no
  resource type (AWS requires "*" for them);
- the timing settings that keep messages from being drained twice agree with each other;
- every CFINV_* variable the template sets is one the functions read.

Run with `make infra-check` (part of `make test`).
"""

import json
import re
import subprocess
from pathlib import Path

import pytest
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
DEFINITION = ROOT / "statemachine" / "cfinv.asl.json"

# Actions that have no resource type, so IAM accepts them only with Resource "*".
# (Service Authorization Reference: CloudFront, CloudWatch Logs vended log delivery, X-Ray.)
STAR_RESOURCE_ACTIONS = {
    "cloudfront:ListDistributions",
    # Inferred, as the other account-wide listings: cfinv lists the tenants of each multi-tenant
    # distribution with an association filter, not a resource.
    "cloudfront:ListDistributionTenants",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}


@pytest.fixture(scope="module")
def template():
    tpl, errors = decode(str(TEMPLATE))
    assert not errors, errors
    return tpl


def resources(template, kind):
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def as_list(value):
    return value if isinstance(value, list) else [value]


def state_machine(template):
    (sm,) = resources(template, "AWS::Serverless::StateMachine").values()
    return sm["Properties"]


# ---------------------------------------------------------------------------------------------------
# The state machine and its substitutions


def placeholders(text):
    return set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", text))


def test_every_placeholder_has_a_substitution_and_every_substitution_is_used(template):
    props = state_machine(template)
    assert (TEMPLATE.parent / props["DefinitionUri"]).resolve() == DEFINITION
    used = placeholders(DEFINITION.read_text())
    given = set(props["DefinitionSubstitutions"])
    assert used, "the definition has no placeholders: is DefinitionUri the right file?"
    assert used - given == set(), f"placeholders without a substitution: {sorted(used - given)}"
    assert given - used == set(), f"substitutions the definition does not use: {sorted(given - used)}"


def resolve(value, template):
    """A substitution value as CloudFormation would produce it, with made-up ARNs for resources."""
    if isinstance(value, (str, int)):
        return str(value)
    (fn, arg), = value.items()
    if fn == "Ref" and arg in template["Parameters"]:
        return str(template["Parameters"][arg]["Default"])
    if fn in ("Fn::GetAtt", "Ref"):
        name = arg[0] if isinstance(arg, list) else arg.split(".")[0]
        return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    raise AssertionError(f"unexpected substitution value {value}")


def test_no_placeholder_is_left_outside_a_string_in_what_sam_packages(template):
    # What SAM uploads (DefinitionUri becomes DefinitionS3Location) is the file as committed.
    committed = json.loads(DEFINITION.read_text())  # fails on an unquoted ${...}
    strings = []

    def walk(node):
        if isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str):
            strings.append(node)

    walk(committed)
    for name in placeholders(DEFINITION.read_text()):
        assert "${" + name + "}" in strings, f"${{{name}}} is not a whole string value"
    for key, value in state_machine(template)["DefinitionSubstitutions"].items():
        assert not (isinstance(value, (int, float)) or (isinstance(value, dict) and "Ref" in value and value["Ref"] in template["Parameters"])), (
            f"{key}: a number or parameter substituted into the definition"
        )


def test_the_substituted_definition_is_valid_json_with_numbers_where_numbers_belong(template):
    props = state_machine(template)
    text = DEFINITION.read_text()
    for key, value in props["DefinitionSubstitutions"].items():
        text = text.replace("${" + key + "}", resolve(value, template))
    definition = json.loads(text)  # CloudFormation substitutes textually: numbers go in unquoted

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("MaxConcurrency", "IntervalSeconds", "MaxAttempts", "MaxDelaySeconds"):
                    assert isinstance(v, int) and v >= 0, f"{k} = {v!r}"
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(definition)
    assert definition["StartAt"] in definition["States"]


def test_the_state_machine_is_standard_logged_and_can_be_traced(template):
    props = state_machine(template)
    assert props["Type"] == "STANDARD"  # only Standard executions are idempotent by name and redrivable
    assert props["Logging"]["Destinations"]
    assert props["Tracing"]["Enabled"] == {"Fn::If": ["TracingOn", True, False]}


# ---------------------------------------------------------------------------------------------------
# Functions


def workspace_binaries():
    out = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    bins = {}
    for package in json.loads(out)["packages"]:
        for target in package["targets"]:
            if "bin" in target["kind"]:
                bins[target["name"]] = Path(package["manifest_path"]).parent
    return bins


def test_every_function_is_a_workspace_binary_built_for_arm64(template):
    globals_ = template["Globals"]["Function"]
    functions = resources(template, "AWS::Serverless::Function")
    bins = workspace_binaries()
    deployed = set()
    for name, f in functions.items():
        props = {**globals_, **f["Properties"]}
        meta = f.get("Metadata", {})
        assert meta.get("BuildMethod") == "rust-cargolambda", name
        binary = meta.get("BuildProperties", {}).get("Binary")
        assert binary in bins, f"{name}: binary {binary!r} is not built by the workspace"
        code = (TEMPLATE.parent / props["CodeUri"]).resolve()
        assert (code / "Cargo.toml").read_text().startswith("[workspace]"), f"{name}: CodeUri is not the workspace"
        assert props["Runtime"] == "provided.al2023", name
        assert props["Architectures"] == ["arm64"], name
        assert props["Handler"] == "bootstrap", name
        assert "Role" in f["Properties"], f"{name} must have its own role, not one SAM generates"
        assert 1 <= props["Timeout"] <= 900 and 128 <= props["MemorySize"] <= 10240, name
        assert "LogGroup" in props["LoggingConfig"], f"{name} logs to a log group with retention"
        deployed.add(binary)
    lambda_crates = {p.name for p in (ROOT / "functions").iterdir() if (p / "Cargo.toml").exists()}
    assert deployed == lambda_crates, f"functions/ and the template differ: {deployed ^ lambda_crates}"


def test_each_function_has_a_role_of_its_own(template):
    functions = resources(template, "AWS::Serverless::Function")
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(roles)


# ---------------------------------------------------------------------------------------------------
# IAM


def policy_documents(template):
    """(where, document, is_identity_policy) for every policy in the template."""
    for name, r in template["Resources"].items():
        props = r.get("Properties", {})
        if r["Type"] == "AWS::IAM::Role":
            for p in props.get("Policies", []):
                yield f"{name}/{p['PolicyName']}", p["PolicyDocument"], True
        elif r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield name, props["PolicyDocument"], True
        elif "PolicyDocument" in props:
            yield name, props["PolicyDocument"], False
        elif r["Type"] == "AWS::KMS::Key":
            yield name, props["KeyPolicy"], False


def is_star(resource):
    """'*', or an ARN whose resource part is '*' (every bucket, every queue...)."""
    if resource == "*":
        return True
    if isinstance(resource, str) and resource.startswith("arn:"):
        parts = resource.split(":", 5)
        return len(parts) == 6 and parts[5] in ("*", "")
    return False


def test_identity_policies_name_their_actions_and_resources(template):
    checked = 0
    for where, doc, identity in policy_documents(template):
        for st in doc["Statement"]:
            if st["Effect"] != "Allow":
                continue
            actions = as_list(st["Action"])
            resources_ = as_list(st["Resource"])
            if identity:
                for a in actions:
                    assert "*" not in a, f"{where}: wildcard action {a}"
                if any(is_star(r) for r in resources_):
                    extra = set(actions) - STAR_RESOURCE_ACTIONS
                    assert not extra, f"{where} ({st.get('Sid')}): '*' resource for {sorted(extra)}"
                checked += 1
            elif st.get("Principal") == "*" or st.get("Principal", {}).get("AWS") == "*":
                raise AssertionError(f"{where}: allows anyone")
    assert checked >= 10


def test_the_key_policy_gives_kms_star_to_the_account_only(template):
    (key,) = resources(template, "AWS::KMS::Key").values()
    for st in key["Properties"]["KeyPolicy"]["Statement"]:
        if "kms:*" in as_list(st["Action"]):
            # The default key policy: delegates the key to the account's IAM. Without it the key
            # becomes unmanageable; AWS requires Resource "*" in key policies.
            assert st["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}


def test_buckets_are_encrypted_private_and_tls_only(template):
    buckets = resources(template, "AWS::S3::Bucket")
    policies = {p["Properties"]["Bucket"]["Ref"]: p for p in resources(template, "AWS::S3::BucketPolicy").values()}
    assert set(buckets) == {"PlanBucket", "ErrorBucket"}
    for name, b in buckets.items():
        props = b["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
        (tls,) = [s for s in policies[name]["Properties"]["PolicyDocument"]["Statement"] if s["Sid"] == "TlsOnly"]
        assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    rules = buckets["PlanBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any(r.get("Prefix") == "plans/" and "ExpirationInDays" in r for r in rules)


# ---------------------------------------------------------------------------------------------------
# Settings that must agree


def env_of(template, function):
    return resources(template, "AWS::Serverless::Function")[function]["Properties"]["Environment"]["Variables"]


def test_no_message_is_drained_twice(template):
    queue = template["Resources"]["EventQueue"]["Properties"]
    collect = resources(template, "AWS::Serverless::Function")["CollectFunction"]["Properties"]
    env = env_of(template, "CollectFunction")
    visibility = int(env["CFINV_VISIBILITY_TIMEOUT_SECONDS"])
    # Drained messages stay hidden for collect's whole run; a run that fails gives them back itself.
    assert int(env["CFINV_COLLECT_SECONDS"]) < collect["Timeout"] < visibility
    assert queue["VisibilityTimeout"] == visibility
    assert queue["MessageRetentionPeriod"] == 1209600  # the maximum: a failed run loses nothing
    assert "deadLetterTargetArn" in queue["RedrivePolicy"]


def test_every_variable_the_template_sets_is_read_by_the_functions(template):
    read = set(re.findall(r'"(CFINV_[A-Z_]+)"', (ROOT / "crates/pipeline/src/settings.rs").read_text()))
    for name in resources(template, "AWS::Serverless::Function"):
        for var in env_of(template, name):
            if var.startswith("CFINV_"):
                assert var in read, f"{name} sets {var}, which no function reads"


def test_the_trigger_names_only_the_buckets_parameter(template):
    rule = template["Resources"]["ObjectChangeRule"]["Properties"]
    assert rule["EventPattern"]["detail"]["bucket"]["name"] == {"Fn::Split": [",", {"Ref": "Buckets"}]}
    (target,) = rule["Targets"]
    assert "DeadLetterConfig" in target
    (perm,) = resources(template, "AWS::Lambda::Permission").values()
    assert perm["Properties"]["SourceArn"] == {"Fn::GetAtt": ["ObjectChangeRule", "Arn"]}


def test_plans_outlive_the_redrive_window_and_every_queue_is_tls_only(template):
    # A redrive (possible for 14 days) reads the failed sets from the plan bucket.
    assert template["Parameters"]["PlanRetentionDays"]["MinValue"] > 14
    queues = set(resources(template, "AWS::SQS::Queue"))
    covered = set()
    for policy in resources(template, "AWS::SQS::QueuePolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in statements):
            covered |= {q["Ref"] for q in policy["Properties"]["Queues"]}
    assert covered == queues, f"queues without a TLS-only policy: {sorted(queues - covered)}"


def test_the_sweeper_runs_on_a_schedule_and_may_start_executions(template):
    sweep = resources(template, "AWS::Serverless::Function")["SweepFunction"]["Properties"]
    assert sweep["Events"]["Schedule"]["Properties"]["Schedule"] == {"Ref": "SweepSchedule"}
    assert template["Parameters"]["SweepSchedule"]["Default"] == "rate(1 minute)"
    (policy,) = template["Resources"]["SweepRole"]["Properties"]["Policies"]
    actions = {a for st in policy["PolicyDocument"]["Statement"] for a in as_list(st["Action"])}
    assert {"sqs:GetQueueAttributes", "states:ListExecutions", "states:StartExecution"} <= actions


def test_ingest_has_reserved_concurrency_unless_the_stack_asks_for_none(template):
    ingest = resources(template, "AWS::Serverless::Function")["IngestFunction"]["Properties"]
    assert ingest["ReservedConcurrentExecutions"] == {"Fn::If": ["ReservesIngest", {"Ref": "IngestReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert template["Parameters"]["IngestReservedConcurrency"]["Default"] > 0


def test_a_person_hears_of_every_failed_execution_old_changes_and_slow_invalidations(template):
    rule = template["Resources"]["ExecutionFailedRule"]["Properties"]
    assert set(rule["EventPattern"]["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
    assert rule["Targets"][0]["Arn"] == {"Ref": "AlertTopic"}
    statements = template["Resources"]["AlertTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in statements), "EventBridge may publish"
    key = template["Resources"]["AlertKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in key), "and use the topic's key"
    age = template["Resources"]["OldestChangeAlarm"]["Properties"]
    assert (age["Namespace"], age["MetricName"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert age["AlarmActions"] == [{"Ref": "AlertTopic"}]
    live = template["Resources"]["LiveLatencyAlarm"]["Properties"]
    assert (live["Namespace"], live["MetricName"], live["Threshold"]) == ("cfinv", "EventToCompletedSeconds", {"Ref": "LiveLatencyAlarmSeconds"})
    assert live["AlarmActions"] == [{"Ref": "AlertTopic"}]
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for metric in ("EventToCompletedSeconds", "Items", "BilledItems", "EstimatedCostUsd", "CapacityWaits", "FailedSets", "SkippedEvents"):
        assert metric in body, metric


def test_status_is_told_of_every_alarm_of_the_stack(template):
    """`cfinv status` lists the alarms in alarm from the AlarmNames output: an alarm left out of it
    (OldestChangeAlarm and LiveLatencyAlarm once were) is one an operator never sees there."""
    alarms = set(resources(template, "AWS::CloudWatch::Alarm"))
    listed = template["Outputs"]["AlarmNames"]["Value"]["Fn::Join"][1]
    assert {ref["Ref"] for ref in listed} == alarms


def test_the_metrics_the_alarms_and_dashboard_read_are_the_ones_the_functions_record(template):
    recorded = set(re.findall(r'^//! \| `([A-Za-z]+)` \|', (ROOT / "crates/pipeline/src/metrics.rs").read_text(), re.M))
    assert "EventToCompletedSeconds" in recorded
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    used = set(re.findall(r'"cfinv", "([A-Za-z]+)"|\[\s*"\.", "([A-Za-z]+)"', body))
    names = {a or b for a, b in used}
    names.discard("")
    cfinv_names = {n for n in names if n not in ("ExecutionsFailed", "ExecutionsSucceeded")}
    assert cfinv_names <= recorded, sorted(cfinv_names - recorded)


def test_make_deploy_warns_when_no_person_would_be_told(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("alert_email", ROOT / "infra" / "alert_email.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = tmp_path / "samconfig.toml"
    # What `sam deploy --guided` writes.
    config.write_text('version = 0.1\n[default.deploy.parameters]\nstack_name = "cfinv"\n'
                      'parameter_overrides = "Buckets=\\"my-site\\" AlertEmail=\\"\\" WindowSeconds=\\"10\\""\n')
    assert module.alert_email(config) == ""
    config.write_text('version = 0.1\n[default.deploy.parameters]\n'
                      'parameter_overrides = "Buckets=\\"my-site\\" AlertEmail=\\"ops@example.com\\""\n')
    assert module.alert_email(config) == "ops@example.com"
    assert "deploy: WARNING" in module.WARNING
    assert "make deploy: WARNING" in (ROOT / "infra" / "alert_email.py").read_text()
    assert 'infra/alert_email.py "$(SAMCONFIG)"' in (ROOT / "Makefile").read_text()


def test_cache_tags_and_tenants_have_their_parameter_and_permissions(template):
    res = template["Resources"]
    assert template["Parameters"]["CacheTags"]["AllowedValues"] == ["off", "add", "instead"]
    assert template["Parameters"]["CacheTags"]["Default"] == "off"
    env = res["CollectFunction"]["Properties"]["Environment"]["Variables"]
    assert env["CFINV_CACHE_TAGS"] == {"Ref": "CacheTags"}

    def actions(role):
        return {
            a
            for p in res[role]["Properties"]["Policies"]
            for st in p["PolicyDocument"]["Statement"]
            for a in as_list(st["Action"])
        }

    assert {"cloudfront:ListDistributionTenants", "cloudfront:GetDistributionTenant", "s3:GetObject"} <= actions(
        "CollectRole"
    )
    assert {
        "cloudfront:CreateInvalidationForDistributionTenant",
        "cloudfront:ListInvalidationsForDistributionTenant",
        "cloudfront:GetInvalidationForDistributionTenant",
    } <= actions("InvalidateRole")
