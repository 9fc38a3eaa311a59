"""``docker compose up`` for real: docker-compose.yml on Podman's Docker-compatible API (docs/compose.md).

The stack is the learner's compose file plus the host-networking override of docker/podman_override.py,
started by docker/podman_stack.py in the background from the session's start (tests/compose/container_stack.py).
Grafana is not part of it: no image of it can be obtained here. What is proven on it is played by that same
background thread as soon as the stack is up, step by step (tests/compose/podman_scenario.py: most of it is
waiting for a heartbeat, a page, a check); each test here reports one step. The last one takes the stack down
and proves nothing is left.
"""

from __future__ import annotations

import pytest

from tests.compose import container_stack

pytestmark = pytest.mark.containers


def test_up_wait_brings_every_service_to_healthy() -> None:
    print(f"\n{container_stack.start().outcome('every service healthy')} "
          f"(thread total {container_stack.start().result.seconds:.0f} s)")


def test_the_readme_commands_work_against_the_stack() -> None:
    container_stack.start().outcome("README commands")


def test_a_process_fault_drill_plays_end_to_end_through_the_engine() -> None:
    """service-crash: DockerRuntime kills the container through the engine API, the page arrives, the learner
    restarts it through the same API, the check passes."""
    container_stack.start().outcome("process fault drill")


def test_down_v_leaves_no_container_volume_network_or_listener() -> None:
    container_stack.start().outcome("down -v leaves nothing")
