"""Step Functions aws-sdk integrations whose answer has a streamed member (aws-sdk:s3:getObject's
Body): AWS gives the content as a string; moto leaves boto3's stream in the state's output, which
the interpreter cannot copy, so the state fails with States.Runtime ("cannot pickle
'_io.BufferedReader' object"). Here a stream at the top of the answer is read into a UTF-8 string.
"""

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk as aws_sdk,
)

_original_eval_service_task = None


def eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials):
    _original_eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials)
    response = env.stack[-1] if env.stack else None
    if isinstance(response, dict):
        for key, value in list(response.items()):
            if hasattr(value, "read") and callable(value.read):
                data = value.read()
                response[key] = data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def install():
    global _original_eval_service_task
    cls = aws_sdk.StateTaskServiceAwsSdk
    if cls._eval_service_task is not eval_service_task:
        _original_eval_service_task = cls._eval_service_task
        cls._eval_service_task = eval_service_task
