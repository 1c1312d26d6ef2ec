"""End to end in a real headless browser: a moderator rejects a held ad in the Django admin,
and its owner sees the verdict through the API.

Needs Debian's `chromium` and `chromium-driver` (`apt-get install -y chromium chromium-driver`);
skipped, saying so, when /usr/bin/chromium is absent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.moderation.tests.helpers import ADS, ad_url
from conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 20  # seconds, for every wait on the browser
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=(
        "no /usr/bin/chromium: install Debian's chromium and chromium-driver "
        "(apt-get install -y chromium chromium-driver) to run the admin browser test")),
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not CHROMEDRIVER.exists():
        pytest.skip("no /usr/bin/chromedriver: apt-get install -y chromium-driver")
    from selenium import webdriver

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager go online
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"  # fresh for each run
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,1024")
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def test_moderator_rejects_a_held_ad_in_the_admin(live_server, browser, make_user, catalog,
                                                   place, client_for):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    owner = make_user(first_name="Amani", last_name="Wanjiru")
    moderator = make_user(first_name="Mercy", last_name="Moderator", is_staff=True,
                          is_superuser=True)
    owner_client = client_for(owner)

    def post(title: str, description: str) -> dict[str, Any]:
        response = owner_client.post(ADS, {
            "title": title, "description": description, "category": catalog.phones.pk,
            "location": place.pk, "price": "38500"})
        assert response.status_code == 201, response.json()
        return dict(owner_client.get(ad_url(response.json()["slug"])).json())

    held = post("Samsung Galaxy A54 128GB", "Call me on 0712 345 678.")
    other_held = post("Tecno Spark 10 64GB", "Email me: seller@example.com")
    live = post("Infinix Hot 30 128GB", "Barely used, with box.")
    assert (held["status"], held["moderation_reason"]) == ("pending", "contact_details")
    assert (other_held["status"], other_held["moderation_reason"]) == ("pending",
                                                                       "contact_details")
    assert live["status"] == "active"
    wait = WebDriverWait(browser, WAIT)

    # The moderator signs in to the admin...
    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    wait.until(ec.presence_of_element_located((By.ID, "id_username"))).send_keys(
        moderator.email)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]").click()
    # The login page has a #site-name too: wait for the navigation away from it, not for that.
    wait.until(lambda driver: "/admin/login/" not in driver.current_url)
    wait.until(ec.presence_of_element_located((By.ID, "site-name")))

    # ...opens the ads waiting for a verdict...
    browser.get(f"{live_server.url}/admin/ads/ad/?status__exact=pending")
    table = wait.until(ec.presence_of_element_located((By.ID, "result_list")))
    listed = table.text
    assert "Samsung Galaxy A54 128GB" in listed
    assert "Tecno Spark 10 64GB" in listed
    assert "Infinix Hot 30 128GB" not in listed

    # ...selects the held ad and runs "Reject".
    browser.find_element(
        By.CSS_SELECTOR, f"input[name='_selected_action'][value='{held['id']}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("reject")
    browser.find_element(By.CSS_SELECTOR, "button[name='index']").click()
    message = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist")))
    assert "1 ad(s) moved to rejected; 0 could not move." in message.text

    # The owner sees the verdict through the API; the other held ad still waits.
    rejected = owner_client.get(ad_url(held["slug"])).json()
    assert (rejected["status"], rejected["moderation_reason"]) == ("rejected", "staff")
    untouched = owner_client.get(ad_url(other_held["slug"])).json()
    assert (untouched["status"], untouched["moderation_reason"]) == ("pending",
                                                                     "contact_details")
    assert owner_client.get(ad_url(live["slug"])).json()["status"] == "active"
