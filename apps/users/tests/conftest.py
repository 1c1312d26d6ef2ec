import pytest

# Show the differing values when a helper's assertion (such as nothing_changes) fails.
pytest.register_assert_rewrite("apps.users.tests.helpers")
