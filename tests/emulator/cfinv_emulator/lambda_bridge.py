"""Lambda functions that run: moto runs function code only in Docker.

With CFINV_LAMBDA_ENDPOINT set (`cargo lambda watch`'s address), every invocation (Invoke, state
machine tasks, S3 notifications, EventBridge rules) is forwarded to the real binary there: the one
named by the function's CFINV_BINARY variable, or the function's own name. A function error comes
back as the Lambda error it is (its errorType becomes the state machine's error name). Without it,
moto's own invocation runs.
"""

import json
import os
import urllib.error
import urllib.request

from moto.awslambda import models as lambda_models

LAMBDA_ENDPOINT = None  # set by install()

_original_invoke_lambda = None


def _invoke_lambda(self, event=None):
    if not LAMBDA_ENDPOINT:
        return _original_invoke_lambda(self, event)
    binary = (self.environment_vars or {}).get("CFINV_BINARY", self.function_name)
    payload = event if isinstance(event, (str, bytes)) else json.dumps(event if event is not None else {})
    if isinstance(payload, str):
        payload = payload.encode()
    url = f"{LAMBDA_ENDPOINT}/2015-03-31/functions/{binary}/invocations"
    request = urllib.request.Request(url, data=payload, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=900) as response:
            return response.read().decode(), False, ""
    except urllib.error.HTTPError as e:
        body = e.read().decode() or json.dumps({"errorType": "Lambda.Unknown", "errorMessage": str(e)})
        return body, True, ""
    except OSError as e:
        return json.dumps({"errorType": "Lambda.ServiceException", "errorMessage": str(e)}), True, ""


def install(endpoint=None):
    """`endpoint`: where invocations go (default: CFINV_LAMBDA_ENDPOINT; none: moto's own)."""
    global LAMBDA_ENDPOINT, _original_invoke_lambda
    LAMBDA_ENDPOINT = os.environ.get("CFINV_LAMBDA_ENDPOINT") if endpoint is None else endpoint
    if lambda_models.LambdaFunction._invoke_lambda is not _invoke_lambda:
        _original_invoke_lambda = lambda_models.LambdaFunction._invoke_lambda
        lambda_models.LambdaFunction._invoke_lambda = _invoke_lambda
