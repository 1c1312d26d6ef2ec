import pytest

pytest.register_assert_rewrite("apps.categories.tests.factories")
