"""Property-based API tests: schemathesis generates requests from /openapi.json.

Every response must be documented (status code, content type, body schema) and no input may
cause a 5xx. The chain is unreachable here, so the routes that need it must answer 503 (as
documented), never 500. Examples are bounded to keep the suite fast. Schema-valid input may
still be refused with 422 (a random bundle or URL does not decode), so schemathesis' "positive
data accepted" check is left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from anchor.settings import load_settings
from anchor.store import open_store
from api.app import create_app
from api.config import ApiSettings
from tests.support.api import DEAD_RPC
from tests.support.store import make_issuer

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


@pytest.fixture
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    directory: Path = tmp_path_factory.mktemp("schemathesis")
    store = open_store(f"sqlite:///{directory}/anchor.db", migrate=True)
    integrator = store.create_integrator("fuzz", make_issuer(store)).id
    _, key = store.create_api_key(integrator, ["admin"])
    settings_ = load_settings(
        rpc_urls=[DEAD_RPC], registry_address=REGISTRY, data_dir=directory, rpc_timeout=1
    )
    unlimited = ApiSettings(
        rate_per_second=1e6,
        rate_burst=10**6,
        verify_limit="1000000/minute",
        roots_limit="1000000/minute",
        failed_auth_limit="1000000/minute",
    )
    app = create_app(settings_, store, unlimited)
    app.state.fuzz_key = key
    app.state.fuzz_dir = directory
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    store.close()


MAX_EXAMPLES = 30
STATEFUL_SCENARIOS = 40


def test_api_conforms_to_its_schema(api_schema: Any) -> None:
    """Each operation, driven through hypothesis (schemathesis' pytest plugin predates pytest 9)."""
    key = api_schema.app.state.fuzz_key
    headers = {"Authorization": f"Bearer {key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 11
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(
                headers=headers, excluded_checks=[positive_data_acceptance, not_a_server_error]
            )
            # 503 is the documented answer when the chain is down; anything else 5xx is a bug
            assert response.status_code < 500 or response.status_code == 503, (
                case.method,
                case.path,
                response.text,
            )

        run()


def test_api_stateful_scenarios(api_schema: Any) -> None:
    """Sequences of linked calls: submit, then read, erase and fetch QR codes of what was made.

    The links come from schemathesis' dependency analysis of the schema (response fields such as
    ``receipts[].id`` feeding path parameters such as ``receipt_id``); its stateful checks run
    (use after free, resource availability, ...), besides the response conformance checks.
    """
    app = api_schema.app
    machine = api_schema.as_state_machine()
    seen: set[tuple[str, str, int]] = set()
    count = itertools.count()

    class Scenarios(machine):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            """Each scenario starts on an empty store (responses, hence steps, repeat)."""
            self.saved = app.state.store
            self.store = open_store(
                f"sqlite:///{app.state.fuzz_dir}/s{next(count)}.db", migrate=True
            )
            body = make_issuer(self.store)
            integrator = self.store.create_integrator("s", body).id
            _, self.key = self.store.create_api_key(integrator, ["admin"])
            app.state.store = self.store

        def teardown(self) -> None:
            app.state.store = self.saved
            self.store.close()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {self.key}"}}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            seen.add((case.method, case.path, response.status_code))
            assert response.status_code < 500 or response.status_code == 503, (
                case.method,
                case.path,
                response.text,
            )
            excluded = [positive_data_acceptance, not_a_server_error]
            if response.status_code in (409, 410):
                # A refusal of the receipt's state (erased, not anchored yet) answers a request
                # FastAPI found valid: an unknown query parameter schemathesis adds as "negative"
                # data is ignored by every route, so the state is what answers.
                excluded.append(negative_data_rejection)
            case.validate_response(
                response,
                excluded_checks=excluded,
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Scenarios.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
    )
    # the scenarios went past submission: they erased, then read an erased receipt (410)
    assert ("POST", "/v1/receipts", 202) in seen
    assert ("DELETE", "/v1/receipts/{receipt_id}", 200) in seen
    assert any(path.startswith("/v1/receipts/{") and code == 410 for _, path, code in seen)
