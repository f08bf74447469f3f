"""The consumers' wiring in template.yaml and lambda_build/Makefile, generated from the
catalogue (choreography/catalogue.py).

    python -m choreography.wiring            check: exit 1 when a generated block is stale
    python -m choreography.wiring --write    rewrite the blocks between their markers
                                             (then `python -m scripts.operations --write`)

Three blocks, each between a BEGIN and an END marker line:
- template.yaml, Resources: per consumer its DLQ, queue, filtered subscription, role,
  function and two alarms, then the one policy that lets only the topic send to the
  subscribed queues;
- template.yaml, Outputs: each consumer's DLQ URL;
- lambda_build/Makefile: the build recipe of each consumer's function.

Why generated text between markers rather than a nested stack per consumer: template.yaml
stays one file a SAM user reads top to bottom and deploys with `sam deploy` as it is,
MiniStack applies the SAM transform to it (it does not inside nested stacks), and a
contract test keeps the committed text equal to what this prints.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from choreography.catalogue import (
    CONSUMERS,
    DLQ_RETENTION_SECONDS,
    MAX_RECEIVE_COUNT,
    QUEUE_RETENTION_SECONDS,
    TOPIC,
    VISIBILITY_TIMEOUT_SECONDS,
    Consumer,
    Grant,
    subscribed,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
BUILD_MAKEFILE = ROOT / "lambda_build" / "Makefile"
_GENERATED = "generated from choreography/catalogue.py by `python -m choreography.wiring --write`: do not edit"
RESOURCES_BEGIN = f"  # BEGIN consumers, {_GENERATED}"
RESOURCES_END = "  # END consumers"
OUTPUTS_BEGIN = f"  # BEGIN consumer outputs, {_GENERATED}"
OUTPUTS_END = "  # END consumer outputs"
BUILD_BEGIN = f"# BEGIN consumers, {_GENERATED}"
BUILD_END = "# END consumers"
XRAY_POLICY = "AWSXrayWriteOnlyAccess"
ALARM_ACTIONS = "!If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]"


def _comment(text: str, indent: int) -> list[str]:
    return [f"{' ' * indent}# {line}".rstrip() for line in text.splitlines()] if text else []


def _list(items: Iterable[str]) -> str:
    return f"[{', '.join(items)}]"


def _queues(consumer: Consumer) -> list[str]:
    lines = _comment(consumer.about_queue, 2)
    lines += [
        f"  {consumer.dlq}:",
        "    Type: AWS::SQS::Queue",
        "    Properties:",
        f"      MessageRetentionPeriod: {DLQ_RETENTION_SECONDS}",
        "      SqsManagedSseEnabled: true",
        f"  {consumer.queue}:",
        "    Type: AWS::SQS::Queue",
        "    Properties:",
        f"      VisibilityTimeout: {VISIBILITY_TIMEOUT_SECONDS}",
        f"      MessageRetentionPeriod: {QUEUE_RETENTION_SECONDS}",
        "      SqsManagedSseEnabled: true",
        "      RedrivePolicy:",
        f"        deadLetterTargetArn: !GetAtt {consumer.dlq}.Arn",
        f"        maxReceiveCount: {MAX_RECEIVE_COUNT}",
    ]
    if consumer.subscribed:
        lines += [
            f"  {consumer.subscription}:",
            "    Type: AWS::SNS::Subscription",
            "    Properties:",
            f"      TopicArn: !Ref {TOPIC}",
            "      Protocol: sqs",
            f"      Endpoint: !GetAtt {consumer.queue}.Arn",
            "      RawMessageDelivery: true",
            "      FilterPolicyScope: MessageAttributes",
            "      FilterPolicy:",
            "        event_type:",
            *(f"          - {event_type.value}" for event_type in consumer.event_types),
        ]
    return lines


def _statement(grant: Grant, why: str = "") -> list[str]:
    resource = grant.arn or f"!GetAtt {grant.resource}.Arn"
    note = grant.why or why
    lines = [
        f"              - Effect: Allow{f'  # {note}' if note else ''}",
        f"                Action: {_list(grant.actions)}",
        f"                Resource: {resource}",
    ]
    if grant.condition:
        lines.append("                Condition:")
        for operator, key, value in grant.condition:
            lines += [f"                  {operator}:", f"                    {key}: {value}"]
    return lines


def _role(consumer: Consumer) -> list[str]:
    lines = [
        f"  {consumer.role}:",
        "    Type: AWS::IAM::Role",
        "    Properties:",
        "      AssumeRolePolicyDocument:",
        '        Version: "2012-10-17"',
        "        Statement:",
        "          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}",
        "      ManagedPolicyArns:",
        "        - !Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        f'        - !If [Tracing, !Sub "arn:${{AWS::Partition}}:iam::aws:policy/{XRAY_POLICY}", !Ref AWS::NoValue]',
        "      Policies:",
        "        - PolicyName: own-resources",
        "          PolicyDocument:",
        '            Version: "2012-10-17"',
        "            Statement:",
    ]
    for index, grant in enumerate(consumer.all_grants()):
        lines += _statement(grant, "the SQS event source mapping" if index == 0 else "")
    return lines


def _environment(consumer: Consumer) -> list[tuple[str, str]]:
    variables = [("POWERTOOLS_SERVICE_NAME", consumer.service)]
    variables += [(g.env, f"!Ref {g.resource}") for g in consumer.grants if g.env]
    return variables + list(consumer.environment)


def _function(consumer: Consumer) -> list[str]:
    lines = [
        f"  {consumer.function}:",
        "    Type: AWS::Serverless::Function",
        "    Metadata:",
        "      BuildMethod: makefile",
        "      ContextPath: lambda_build",
        "    Properties:",
        f"      Description: {consumer.description}",
        f"      CodeUri: {consumer.service}/",
        f"      Handler: {consumer.handler}.handler",
    ]
    if consumer.memory_mb is not None:
        lines += [*_comment(consumer.why_memory, 6), f"      MemorySize: {consumer.memory_mb}"]
    lines += ["      Environment:", "        Variables:"]
    lines += [f"          {name}: {value}" for name, value in _environment(consumer)]
    lines += [
        f"      Role: !GetAtt {consumer.role}.Arn",
        "      Events:",
        "        Queue:",
        "          Type: SQS",
        "          Properties:",
        f"            Queue: !GetAtt {consumer.queue}.Arn",
        f"            BatchSize: {consumer.batch_size}",
        "            FunctionResponseTypes: [ReportBatchItemFailures]",
    ]
    if consumer.max_concurrency is not None:
        lines += [
            *_comment(consumer.why_max_concurrency, 12),
            "            ScalingConfig:",
            f"              MaximumConcurrency: {consumer.max_concurrency}",
        ]
    return lines


def _alarm(name: str, description: str, metric: str, queue: str, evaluation_periods: int, threshold: int) -> list[str]:
    return [
        f"  {name}:",
        "    Type: AWS::CloudWatch::Alarm",
        "    Properties:",
        f"      AlarmDescription: {description}",
        "      Namespace: AWS/SQS",
        f"      MetricName: {metric}",
        f"      Dimensions: [{{Name: QueueName, Value: !GetAtt {queue}.QueueName}}]",
        "      Statistic: Maximum",
        "      Period: 60",
        f"      EvaluationPeriods: {evaluation_periods}",
        f"      Threshold: {threshold}",
        "      ComparisonOperator: GreaterThanThreshold",
        "      TreatMissingData: notBreaching",
        f"      AlarmActions: {ALARM_ACTIONS}",
    ]


def _alarms(consumer: Consumer) -> list[str]:
    minutes = consumer.max_age_seconds // 60
    age = (
        consumer.about_age_alarm or f"{consumer.label} wait more than {minutes} minutes (consumer failing or throttled)"
    )
    return [
        *_alarm(
            f"{consumer.dlq}Alarm",
            f"{consumer.label} failed {MAX_RECEIVE_COUNT} times and wait in the DLQ (see README, Operating it)",
            "ApproximateNumberOfMessagesVisible",
            consumer.dlq,
            1,
            0,
        ),
        *_alarm(
            f"{consumer.queue}AgeAlarm",
            age,
            "ApproximateAgeOfOldestMessage",
            consumer.queue,
            5,
            consumer.max_age_seconds,
        ),
    ]


def _queue_policy(consumers: tuple[Consumer, ...]) -> list[str]:
    fed = subscribed(consumers)
    return [
        "  # Only the topic may send to the subscribed queues.",
        "  ConsumerQueuesPolicy:",
        "    Type: AWS::SQS::QueuePolicy",
        "    Properties:",
        "      Queues:",
        *(f"        - !Ref {c.queue}" for c in fed),
        "      PolicyDocument:",
        '        Version: "2012-10-17"',
        "        Statement:",
        "          - Sid: OrderEventsTopicOnly",
        "            Effect: Allow",
        "            Principal: {Service: sns.amazonaws.com}",
        "            Action: sqs:SendMessage",
        "            Resource:",
        *(f"              - !GetAtt {c.queue}.Arn" for c in fed),
        "            Condition:",
        "              ArnEquals:",
        f"                aws:SourceArn: !Ref {TOPIC}",
    ]


def resources_block(consumers: tuple[Consumer, ...] = CONSUMERS) -> str:
    lines = [
        RESOURCES_BEGIN,
        "  # Per consumer: a queue with its DLQ (after 5 receives), the topic's filtered raw",
        "  # subscription, a role of its own with only its grants, the function reading the",
        "  # queue in batches with partial failures, and alarms on the DLQ and the queue's age.",
        "  # (A role of its own: for an SQS event source SAM would attach",
        "  # AWSLambdaSQSQueueExecutionRole, which reaches every queue of the account.)",
    ]
    for consumer in consumers:
        lines += [
            "",
            f"  # ---- {consumer.name}: {', '.join(e.value for e in consumer.event_types) if consumer.subscribed else 'its own queue'}",  # noqa: E501
            *_queues(consumer),
            *_role(consumer),
            *_function(consumer),
            *_alarms(consumer),
        ]
    lines += ["", *_queue_policy(consumers), RESOURCES_END]
    return "\n".join(lines) + "\n"


def outputs_block(consumers: tuple[Consumer, ...] = CONSUMERS) -> str:
    lines = [OUTPUTS_BEGIN]
    for consumer in consumers:
        lines += [f"  {consumer.dlq}Url:", f"    Value: !Ref {consumer.dlq}"]
    return "\n".join([*lines, OUTPUTS_END]) + "\n"


def build_block(consumers: tuple[Consumer, ...] = CONSUMERS) -> str:
    lines = [BUILD_BEGIN]
    for consumer in consumers:
        lines += [f"build-{consumer.function}:", f"\t$(call build_service,{consumer.service})"]
    return "\n".join([*lines, BUILD_END]) + "\n"


def replace_block(text: str, begin: str, end: str, block: str) -> str:
    """`text` with the lines from `begin` to `end` (both included) replaced by `block`."""
    head, found, rest = text.partition(begin + "\n")
    if not found:
        raise SystemExit(f"marker not found: {begin!r}")
    _, found, tail = rest.partition(end + "\n")
    if not found:
        raise SystemExit(f"marker not found: {end!r}")
    return head + block + tail


def render_template(text: str, consumers: tuple[Consumer, ...] = CONSUMERS) -> str:
    text = replace_block(text, RESOURCES_BEGIN, RESOURCES_END, resources_block(consumers))
    return replace_block(text, OUTPUTS_BEGIN, OUTPUTS_END, outputs_block(consumers))


def render_build(text: str, consumers: tuple[Consumer, ...] = CONSUMERS) -> str:
    return replace_block(text, BUILD_BEGIN, BUILD_END, build_block(consumers))


def main(argv: list[str]) -> int:
    targets = (
        (TEMPLATE, render_template(TEMPLATE.read_text())),
        (BUILD_MAKEFILE, render_build(BUILD_MAKEFILE.read_text())),
    )
    stale = [path for path, text in targets if path.read_text() != text]
    if "--write" in argv:
        for path, text in targets:
            path.write_text(text)
        print(f"wrote the consumers' blocks of {', '.join(str(p.relative_to(ROOT)) for p, _ in targets)}")
        return 0
    for path in stale:
        print(f"{path.relative_to(ROOT)} is stale: run python -m choreography.wiring --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
