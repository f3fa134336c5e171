"""The end-to-end key, token, signed-URL and metering tests of tests/auth, run again with
the keys and the ledger in a real PostgreSQL: the same behaviour on both databases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pixeldrive.core.config import Settings
from tests.auth.conftest import key, make_key  # noqa: F401  # fixtures
from tests.auth.test_http_keys import (  # noqa: F401
    og_png_key,
    test_a_new_variant_over_the_key_pixel_limit_is_403,
    test_a_render_outside_the_key_scope_is_403_naming_the_part,
    test_a_revoked_key_is_401_revoked_key,
    test_a_template_outside_the_key_scope_is_403_before_its_fields_are_checked,
    test_a_valid_key_is_accepted,
    test_an_operation_outside_the_key_scope_is_403,
    test_an_unknown_key_is_401_invalid_key,
    test_templates_and_images_outside_the_key_scope,
)
from tests.auth.test_http_metering import (  # noqa: F401
    quota_two,
    test_a_key_at_its_quota_still_gets_its_own_evicted_image,
    test_a_rerender_after_eviction_is_not_billed_twice,
    test_each_render_is_recorded_before_the_answer,
    test_past_the_quota_new_renders_are_429_and_hits_still_served,
    test_three_renders_and_four_repeats_read_three_renders_and_four_hits,
    test_usage_per_day_and_per_template_is_the_callers_own,
)
from tests.auth.test_http_narrowed import (  # noqa: F401
    test_a_token_narrowed_to_og_reads_only_og_usage,
    test_usage_of_templates_a_token_never_covers_is_empty,
)
from tests.auth.test_http_signed import (  # noqa: F401
    test_a_revoked_keys_urls_are_403_unknown_key,
    test_a_signed_url_renders_without_a_header,
    test_an_unknown_kid_is_403_unknown_key,
    test_the_signing_keys_scopes_apply,
)
from tests.auth.test_http_tokens import (  # noqa: F401
    test_a_key_mints_a_narrower_token_that_works,
    test_a_narrowed_key_cannot_mint_a_wider_token,
    test_a_token_of_a_revoked_key_stops_working,
    test_a_token_outside_its_operations_is_403,
)

pytest_plugins = ("tests.cluster.conftest_pg",)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    """As in tests/auth (authentication on, revocations seen at once), on PostgreSQL."""
    return make_settings(
        server={"auth": "on"}, access={"key_cache_seconds": 0}, database_url=database_url
    )


def test_these_runs_are_on_postgres(settings: Settings) -> None:
    assert settings.database_url is not None
    assert settings.database_url.startswith("postgresql://")
